import ChronicleCore
import Foundation
import Testing

@Suite("chronicle get --as-of, list, changes, blame and export --until")
struct TemporalCLITests {
    let schema = EntityCLITests().schema

    func json(_ outcome: CLI.Outcome) throws -> [String: JSONValue] {
        try jsonObject(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `documents` of a list answer without `asOf` (a fork's current list has none).
    func documents(_ list: [String: JSONValue]) -> [JSONValue] {
        guard case .array(let documents)? = list["documents"] else { return [] }
        return documents.map { document in
            guard case .object(var members) = document else { return document }
            members["asOf"] = nil
            return .object(members)
        }
    }

    @Test("the read model across time on a data directory and through a server, a fork by export --until, and the bad moments")
    func acrossTime() async throws {
        try await withCLI { cli in
            let schemaFile = try cli.writeSchema(schema)
            for (stream, type, data) in [
                ("user-7", "UserCreated", #"{"email":"a@x.org","name":"Ada"}"#), ("user-8", "UserCreated", #"{"email":"b@x.org"}"#),
                ("user-7", "UserUpdatedEmailAddress", #"{"email":"ada@x.org"}"#), ("user-8", "UserDeleted", "{}"),
            ] {
                let appended = try await cli.run("append", stream, type, data, "--schema", schemaFile)
                #expect(appended.status == 0, "\(appended.stderr)")
            }
            let head = try json(try await cli.run("get", "user", "8", "--schema", schemaFile, "--include-deleted", "--json"))["position"]
            #expect(head == 4)

            let first = try await cli.run("get", "user", "7", "--schema", schemaFile, "--as-of", "1")
            #expect(first.status == 0 && first.stdout.contains("a@x.org") && first.stdout.contains("as of position 1"), "\(first.stdout) \(first.stderr)")
            let listed = try json(try await cli.run("list", "user", "--schema", schemaFile, "--as-of", "2", "--json"))
            #expect(documents(listed).count == 2 && listed["asOf"] == 2)
            #expect(try await cli.run("list", "user", "--schema", schemaFile).lines.count == 1, "user 8 is deleted now")
            let changes = try json(try await cli.run("changes", "--from", "1", "--to", "4", "--schema", schemaFile, "--json"))
            guard case .array(let items)? = changes["changes"] else { Issue.record("\(changes)"); return }
            #expect(items.map { $0["id"] } == ["7", "8"] && items.map { $0["kind"] } == ["changed", "deleted"], "\(items)")
            let blame = try await cli.run("blame", "user", "7", "--schema", schemaFile)
            #expect(blame.lines.count == 2 && blame.lines[0].hasPrefix("/email\t\"ada@x.org\"\tv1\t@3") && blame.lines[1].hasPrefix("/name\t\"Ada\"\tv0\t@1"), "\(blame.stdout)")

            // A fork at position 2: export up to it, import elsewhere, and the fork's read
            // model is the original's as of 2.
            let backup = cli.data + "-until.ndjson"
            let exported = try await cli.run("export", "--until", "2", "--output", backup)
            #expect(exported.status == 0, "\(exported.stderr)")
            let fork = CLI(data: cli.data + "-fork")
            #expect(try await fork.run("import", backup).status == 0, "the fork's read model is built when it is opened with the schema")
            let forked = try json(try await fork.run("list", "user", "--schema", schemaFile, "--include-deleted", "--json"))
            #expect(documents(forked) == documents(try json(try await cli.run("list", "user", "--schema", schemaFile, "--as-of", "2", "--include-deleted", "--json"))))

            // Bad moments: one line on stderr, a non-zero exit.
            for (arguments, fragment) in [
                (["get", "user", "7", "--as-of", "99"], "beyond the log's head"), (["get", "user", "7", "--as-of", "yesterday"], "--as-of must be"),
                (["list", "user", "--as-of", "2999-01-01T00:00:00Z"], "in the future"), (["changes", "--from", "4", "--to", "1"], "is after to"),
                (["get", "user", "7", "--as-of", "2", "--at", "0"], "not both"),
            ] {
                let refused = try await cli.run(arguments: arguments + ["--schema", schemaFile])
                #expect(refused.status != 0 && refused.stdout.isEmpty && refused.stderr.contains(fragment), "\(arguments): \(refused.stderr)")
                #expect(refused.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "one line: \(refused.stderr)")
            }
            let badUntil = try await cli.run("export", "--until", "99", "--output", backup)
            #expect(badUntil.status != 0 && badUntil.stderr.contains("beyond the log's head"), "\(badUntil.stderr)")

            // The same through a server.
            let (url, server, _) = try await ServeCLITests().startServer(cli, ["--schema", schemaFile])
            defer { if server.isRunning { server.terminate() } }
            let remote = CLI(data: cli.data + "-unused")
            let remoteFirst = try await remote.run(arguments: ["get", "user", "7", "--as-of", "1", "--server", url])
            #expect(remoteFirst.stdout == first.stdout, "\(remoteFirst.stderr)")
            let remoteBlame = try await remote.run(arguments: ["blame", "user", "7", "--server", url])
            #expect(remoteBlame.stdout == blame.stdout, "\(remoteBlame.stderr)")
            let remoteChanges = try await remote.run(arguments: ["changes", "--from", "1", "--to", "4", "--server", url])
            let localChanges = try await cli.run("changes", "--from", "1", "--to", "4", "--schema", schemaFile)
            #expect(remoteChanges.stdout == localChanges.stdout && remoteChanges.lines.count == 2, "\(remoteChanges.stderr)")
            let remoteBad = try await remote.run(arguments: ["list", "user", "--as-of", "99", "--server", url])
            #expect(remoteBad.status != 0 && remoteBad.stderr.contains("beyond the log's head"), "\(remoteBad.stderr)")
            server.terminate()
            try await waitForExit(server, seconds: 60)
        }
    }
}
