import ChronicleCore
import Foundation
import Testing

@Suite("chronicle effects, and appends whose events change several entities")
struct FanOutCLITests {
    let schema = """
        entities:
          user:
            events:
              UserCreated: create
              UserUpdated: { each: $.data.updated, where: { type: User }, id: $._id, merge: { email: $.email } }
          mailingList:
            events:
              MailingListCreated: create
              UserUpdated: { each: $.data.updated, where: { type: MailingList }, id: $._id, merge: { email: $.email } }
        """

    @Test("one append changes the user and the mailing list; effects and history show it, on a data directory and through a server; a bad path is one line on stderr")
    func fanOut() async throws {
        try await withCLI { cli in
            let schemaFile = try cli.writeSchema(schema)
            let updated = #"{"email":"new@x","updated":[{"type":"MailingList","_id":"aXd45","email":"new@x"},{"type":"User","_id":"bgg7x","email":"new@x"}]}"#
            for (stream, type, data) in [
                ("user-bgg7x", "UserCreated", #"{"email":"old@x"}"#), ("mailingList-aXd45", "MailingListCreated", #"{"name":"News","email":"old@x"}"#),
                ("user-bgg7x", "UserUpdated", updated),
            ] {
                let appended = try await cli.run("append", stream, type, data, "--schema", schemaFile)
                #expect(appended.status == 0, "\(appended.stderr)")
            }
            let effects = try await cli.run("effects", "3", "--schema", schemaFile)
            #expect(effects.status == 0 && effects.lines.count == 2, "\(effects.stdout) \(effects.stderr)")
            #expect(effects.lines.first?.hasPrefix("mailingList/aXd45\tupdated\tv0\t") == true && effects.lines.last?.hasPrefix("user/bgg7x\tupdated\tv1\t") == true, "\(effects.stdout)")
            #expect(effects.stdout.contains(#""path":"/email""#))
            let history = try jsonObject(try await cli.run("history", "mailingList", "aXd45", "--schema", schemaFile, "--json").stdout)
            guard case .array(let entries)? = history["history"] else { Issue.record("\(history)"); return }
            #expect(entries.map { $0["type"] } == ["MailingListCreated", "UserUpdated"] && entries.last?["stream"] == "user-bgg7x", "\(entries)")

            let refused = try await cli.run("append", "user-bgg7x", "UserUpdated", #"{"email":"e","updated":[{"type":"MailingList","email":"e"}]}"#, "--schema", schemaFile)
            #expect(refused.status != 0 && refused.stdout.isEmpty && refused.stderr.contains("$._id") && refused.stderr.contains("mailingList"), "\(refused.stderr)")
            #expect(refused.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "one line: \(refused.stderr)")
            let zero = try await cli.run("effects", "0", "--schema", schemaFile)
            #expect(zero.status != 0 && zero.stderr.contains("1 or more"), "\(zero.stderr)")

            let (url, server, _) = try await ServeCLITests().startServer(cli, ["--schema", schemaFile])
            defer { if server.isRunning { server.terminate() } }
            let remote = CLI(data: cli.data + "-unused")
            let remoteEffects = try await remote.run(arguments: ["effects", "3", "--server", url])
            #expect(remoteEffects.stdout == effects.stdout, "\(remoteEffects.stderr)")
            let missing = try await remote.run(arguments: ["effects", "9", "--server", url])
            #expect(missing.status != 0 && missing.stderr.contains("beyond the log's head"), "\(missing.stderr)")
            server.terminate()
            try await waitForExit(server, seconds: 60)
        }
    }
}
