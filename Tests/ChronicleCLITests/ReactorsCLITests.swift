import ChronicleCore
import Foundation
import Testing

@Suite("chronicle reactors")
struct ReactorsCLITests {
    @Test("list, parked, retry and skip against a server whose webhook receiver is down; bad input fails clearly")
    func parkedThroughTheCLI() async throws {
        try await withCLI { cli in
            // Port 1 on loopback refuses connections, so every delivery fails and, with one attempt, parks at once.
            let schema = """
                entities:
                  user:
                    events:
                      UserCreated: create
                reactors:
                  mail:
                    on: [UserCreated]
                    webhook: { url: "http://127.0.0.1:1/hook", timeout: 2s }
                    retry: { attempts: 1 }
                    from: beginning
                """
            let schemaFile = try cli.writeSchema(schema)
            #expect(try await cli.run("append", "user-1", "UserCreated", #"{"email":"a@x.org"}"#).status == 0)
            #expect(try await cli.run("append", "user-2", "UserCreated", #"{"email":"b@x.org"}"#).status == 0)

            let remote = CLI(data: cli.data + "-unused")
            let noServer = try await remote.run("reactors", "list")
            #expect(noServer.status == 64 && noServer.stderr.contains("--server"), "\(noServer.stderr)")

            let (url, server, _) = try await ServeCLITests().startServer(cli, ["--schema", schemaFile])
            defer { if server.isRunning { server.terminate() } }
            let deadline = ContinuousClock.now + .seconds(60)
            var parked: [JSONValue] = []
            while parked.count < 2 {
                let answer = try await remote.run(arguments: ["reactors", "parked", "mail", "--server", url, "--json"])
                if case .array(let events)? = (try? JSONValue(parsing: answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))?["parked"] { parked = events }
                if ContinuousClock.now > deadline { throw CLIError(message: "the events were not parked: \(answer.stdout) \(answer.stderr)") }
                if parked.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
            }
            let list = try await remote.run(arguments: ["reactors", "list", "--server", url])
            #expect(list.status == 0 && list.stdout.contains("mail") && list.stdout.contains("parked 2"), "\(list.stdout) \(list.stderr)")
            let text = try await remote.run(arguments: ["reactors", "parked", "mail", "--server", url])
            #expect(text.stdout.split(separator: "\n").count == 2, "\(text.stdout)")

            guard case .string(let first)? = parked[0]["eventId"], case .string(let second)? = parked[1]["eventId"] else {
                Issue.record("parked events without ids: \(parked)")
                return
            }
            let retry = try await remote.run(arguments: ["reactors", "retry", "mail", first, "--server", url])
            #expect(retry.status == 1 && retry.stderr.contains("parked again"), "\(retry.stdout) \(retry.stderr)")
            let skip = try await remote.run(arguments: ["reactors", "skip", "mail", second, "--server", url])
            #expect(skip.status == 0, "\(skip.stderr)")
            let after = try await remote.run(arguments: ["reactors", "parked", "mail", "--server", url, "--json"])
            #expect(after.stdout.contains(first) && !after.stdout.contains(second), "\(after.stdout)")

            let unknown = try await remote.run(arguments: ["reactors", "parked", "nope", "--server", url])
            #expect(unknown.status != 0 && unknown.stderr.contains("nope"), "\(unknown.stderr)")
            let notParked = try await remote.run(arguments: ["reactors", "skip", "mail", "not-an-event", "--server", url])
            #expect(notParked.status != 0 && !notParked.stderr.isEmpty)
            server.terminate()
            try await waitForExit(server, seconds: 60)
        }
    }
}
