import ChronicleCore
import Foundation
import Testing

@Suite("chronicle get, history and diff")
struct EntityCLITests {
    let schema = """
        entities:
          user:
            events:
              UserCreated: create
              UserUpdatedEmailAddress: merge
              UserDeleted: delete
        """

    @Test("entities on a data directory (with --schema) and on a server, now and in the past")
    func entities() async throws {
        try await withCLI { cli in
            let schemaFile = try cli.writeSchema(schema)
            #expect(try await cli.run("append", "user-7", "UserCreated", #"{"email":"a@x.org","name":"Ada"}"#).status == 0)
            #expect(try await cli.run("append", "user-7", "UserUpdatedEmailAddress", #"{"email":"b@x.org"}"#).status == 0)

            let now = try await cli.run("get", "user", "7", "--schema", schemaFile, "--json")
            #expect(now.status == 0, "\(now.stderr)")
            let document = try jsonObject(now.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(document["state"] == ["email": "b@x.org", "name": "Ada"] && document["version"] == 1)
            let past = try await cli.run("get", "user", "7", "--schema", schemaFile, "--at", "0")
            #expect(past.status == 0 && past.stdout.contains("version 0") && past.stdout.contains("a@x.org"), "\(past.stdout)")
            let history = try await cli.run("history", "user", "7", "--schema", schemaFile)
            #expect(history.lines.count == 2 && history.lines[1].contains(#"{"op":"replace","path":"/email","value":"b@x.org"}"#), "\(history.stdout)")
            let diff = try await cli.run("diff", "user", "7", "--schema", schemaFile, "--from", "0", "--to", "1")
            #expect(diff.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == #"[{"op":"replace","path":"/email","value":"b@x.org"}]"#)

            let projections = try await cli.run("projections", "list", "--schema", schemaFile)
            #expect(projections.stdout.hasPrefix("entities\tinline\tcheckpoint 2"), "\(projections.stdout)")
            let rebuilt = try await cli.run("projections", "rebuild", "entities", "--schema", schemaFile, "--json")
            #expect(try jsonObject(rebuilt.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["replayedEvents"] == 2, "\(rebuilt.stderr)")
            #expect(try await cli.run("projections", "rebuild", "other", "--schema", schemaFile).status == 1)

            let noSchema = try await cli.run("get", "user", "7")
            #expect(noSchema.status == 64 && noSchema.stderr.contains("--schema"))
            let missing = try await cli.run("get", "user", "8", "--schema", schemaFile)
            #expect(missing.status == 1 && missing.stderr.contains("no user with id 8"))
            let badPoint = try await cli.run("get", "user", "7", "--schema", schemaFile, "--at", "yesterday")
            #expect(badPoint.status == 64, "\(badPoint.stderr)")
            let otherLocal = try await cli.run("get", "user", "7", "--schema", schemaFile, "--projection", "totals")
            #expect(otherLocal.status == 64 && otherLocal.stderr.contains("--server"), "a data directory serves only the schema's projection: \(otherLocal.stderr)")
            #expect(try await cli.run("get", "user", "7", "--schema", schemaFile, "--projection", "entities").status == 0)

            let (url, server, _) = try await ServeCLITests().startServer(cli, ["--schema", schemaFile])
            defer { if server.isRunning { server.terminate() } }
            let remote = CLI(data: cli.data + "-unused")
            let remoteNow = try await remote.run(arguments: ["get", "user", "7", "--server", url, "--json"])
            #expect(try jsonObject(remoteNow.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["state"] == document["state"], "\(remoteNow.stderr)")
            let remoteDiff = try await remote.run(arguments: ["diff", "user", "7", "--from", "0", "--to", "1", "--server", url])
            #expect(remoteDiff.stdout == diff.stdout)
            let remoteHistory = try await remote.run(arguments: ["history", "user", "7", "--server", url])
            #expect(remoteHistory.stdout == history.stdout)
            let named = try await remote.run(arguments: ["history", "user", "7", "--projection", "entities", "--server", url])
            #expect(named.stdout == history.stdout, "\(named.stderr)")
            let unknown = try await remote.run(arguments: ["get", "user", "7", "--projection", "totals", "--server", url])
            #expect(unknown.status != 0 && unknown.stderr.contains("no projection named"), "?projection= reaches the server: \(unknown.stderr)")
            let remoteRebuild = try await remote.run(arguments: ["projections", "rebuild", "entities", "--server", url])
            #expect(remoteRebuild.status == 0 && remoteRebuild.stdout.contains("2 events replayed"), "\(remoteRebuild.stdout) \(remoteRebuild.stderr)")
            server.terminate()
            try await waitForExit(server, seconds: 60)
        }
    }

    @Test("chronicle append keeps the schema's rules: refused with one line on stderr, and refused without --schema on a directory built with one")
    func appendRules() async throws {
        try await withCLI { cli in
            let schemaFile = cli.data + "-rules.yaml"
            try uniqueEmailSchema.write(toFile: schemaFile, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: schemaFile) }
            #expect(try await cli.run("append", "user-1", "UserCreated", #"{"email":"a@x.org"}"#, "--schema", schemaFile).status == 0)
            let taken = try await cli.run("append", "user-2", "UserCreated", #"{"email":"a@x.org"}"#, "--schema", schemaFile)
            #expect(taken.status != 0 && taken.lines.isEmpty && taken.stderr.contains("email is unique"), "\(taken.stderr)")
            #expect(taken.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "one line: \(taken.stderr)")
            let missing = try await cli.run("append", "user-3", "UserEmailVerified", "{}", "--schema", schemaFile)
            #expect(missing.status != 0 && missing.stderr.contains("user 3 does not exist"), "\(missing.stderr)")
            let bypass = try await cli.run("append", "user-2", "UserCreated", #"{"email":"a@x.org"}"#)
            #expect(bypass.status == 64 && bypass.stderr.contains("--schema"), "\(bypass.stderr)")
            let log = try await cli.run("log", "--json")
            #expect(log.lines.count == 1, "only the first user is stored: \(log.stdout)")
        }
    }
}
