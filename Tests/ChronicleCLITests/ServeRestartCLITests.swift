import ChronicleCore
import ChronicleTestSupport
import Foundation
import Testing

/// `chronicle serve` stopped with SIGTERM and started again runs its reactors at once: the
/// stopped node gave its leases up (issue 19, item 9). The lease lasts a minute here, so a
/// restarted node that had to wait for it to expire would miss the deadline.
@Suite("chronicle serve: a restart picks the reactors up at once")
struct ServeRestartCLITests {
    @Test("SQLite: stopped gracefully and restarted, the node runs the reactor at once")
    func sqlite() async throws {
        try await withCLI { cli in try await restart(cli, store: ["--data", cli.data]) }
    }

    @Test("PostgreSQL: stopped gracefully and restarted, the node runs the reactor at once", TestPostgres.enabled)
    func postgres() async throws {
        try await withCLI { cli in try await restart(cli, store: ["--postgres", try TestDatabase.freshURL()]) }
    }

    func restart(_ cli: CLI, store: [String]) async throws {
        let receiver = Receiver(then: (200, "{}"))
        try await receiver.run { url in
            let schemaFile = try cli.writeSchema("""
                entities: {}
                reactors:
                  mail:
                    on: [UserCreated]
                    webhook: { url: "\(url)", timeout: 30s }
                """)
            let arguments = ["--schema", schemaFile, "--lease-duration", "60s"] + store
            let serve = ServeCLITests()
            let remote = CLI(data: cli.data + "-unused")

            let (firstURL, first, _) = try await serve.startServer(cli, arguments)
            defer { if first.isRunning { first.terminate() } }
            // Running: the node holds the lease (the reactor starts at the end of the log).
            try await pollReactor(remote, firstURL, "the first node to hold the lease") { $0.contains(#""runningOn":"#) && !$0.contains(#""runningOn":null"#) }
            first.terminate()
            try await waitForExit(first, seconds: 60)

            let restarted = ContinuousClock.now
            let (secondURL, second, _) = try await serve.startServer(cli, arguments)
            defer { if second.isRunning { second.terminate() } }
            #expect(try await remote.run(arguments: ["append", "user-1", "UserCreated", "{}", "--server", secondURL]).status == 0)
            // A lease left behind would hold the reactor for 60 s.
            try await pollUntil("the restarted node to deliver", seconds: 30) { !receiver.received.isEmpty }
            #expect(ContinuousClock.now - restarted < .seconds(30))
            let list = try await remote.run(arguments: ["reactors", "list", "--server", secondURL, "--json"])
            #expect(list.stdout.contains(":\(second.processIdentifier):"), "the restarted process runs the reactor: \(list.stdout)")
            second.terminate()
            try await waitForExit(second, seconds: 60)
        }
    }

    func pollReactor(_ remote: CLI, _ url: String, _ what: String, _ condition: (String) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let list = try await remote.run(arguments: ["reactors", "list", "--server", url, "--json"])
            if condition(list.stdout) { return }
            if ContinuousClock.now > deadline { throw CLIError(message: "gave up waiting for \(what): \(list.stdout) \(list.stderr)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
