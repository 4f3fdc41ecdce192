import ChronicleCore
import ChronicleTestSupport
import Foundation
import Testing

/// A restore does not re-send emails (issue 19, item 10): `export` carries the reactors'
/// checkpoints and parked events, `import` restores them, and an export without them is
/// refused unless `--reactors-from-beginning` says to start the reactors afresh.
@Suite("chronicle export and import: reactor checkpoints and parked events")
struct ReactorRestoreCLITests {
    struct Down: Error {}

    @Test("SQLite: a reactor from the beginning on a restored store delivers only new events; its parked event comes back")
    func sqlite() async throws {
        try await withCLI { cli in
            let root = cli.data
            defer { for suffix in ["-restored", "-old"] { try? FileManager.default.removeItem(atPath: root + suffix) } }
            try await restore(cli, source: ["--data", root], target: ["--data", root + "-restored"], old: ["--data", root + "-old"])
        }
    }

    @Test("PostgreSQL: a reactor from the beginning on a restored store delivers only new events; its parked event comes back", TestPostgres.enabled)
    func postgres() async throws {
        try await withCLI { cli in
            try await restore(cli, source: ["--postgres", try TestDatabase.freshURL()], target: ["--postgres", try TestDatabase.freshURL()], old: ["--postgres", try TestDatabase.freshURL()])
        }
    }

    func users(_ calls: [Receiver.Call]) -> [String] {
        calls.compactMap { call in
            (try? JSONValue(parsing: call.body))?["stream"].flatMap { if case .string(let stream) = $0 { stream } else { nil } }
        }
    }

    func restore(_ cli: CLI, source: [String], target: [String], old: [String]) async throws {
        // user-2's deliveries fail (500): after two attempts it is parked.
        let receiver = Receiver(then: (200, "{}")) { call in
            if call.body.contains(#""stream":"user-2""#) { throw Down() }
        }
        try await receiver.run { url in
            let schemaFile = try cli.writeSchema("""
                entities: {}
                reactors:
                  mail:
                    on: [UserCreated]
                    webhook: { url: "\(url)", timeout: 30s }
                    retry: { attempts: 2, backoff: 10ms }
                    from: beginning
                    concurrency: 1
                """)
            let backup = cli.data + "-backup.ndjson", oldBackup = cli.data + "-old.ndjson"
            defer { for file in [schemaFile, backup, oldBackup] { try? FileManager.default.removeItem(atPath: file) } }
            let serve = ServeCLITests()
            let remote = CLI(data: cli.data + "-unused")

            func waitForReactor(_ server: String, checkpoint: Int) async throws {
                let deadline = ContinuousClock.now + .seconds(120)
                while true {
                    let list = try await remote.run(arguments: ["reactors", "list", "--server", server, "--json"])
                    if list.stdout.contains(#""checkpoint":\#(checkpoint)"#) { return }
                    if ContinuousClock.now > deadline { throw CLIError(message: "the reactor did not reach checkpoint \(checkpoint): \(list.stdout) \(list.stderr)") }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }

            let (sourceURL, first, _) = try await serve.startServer(cli, ["--schema", schemaFile] + source)
            defer { if first.isRunning { first.terminate() } }
            for user in 1...3 {
                #expect(try await remote.run(arguments: ["append", "user-\(user)", "UserCreated", "{}", "--server", sourceURL]).status == 0)
            }
            // Three events and the $reactorParked record of user-2: the checkpoint passes all four.
            try await waitForReactor(sourceURL, checkpoint: 4)
            #expect(Set(users(receiver.received)) == ["user-1", "user-2", "user-3"])
            let status = try await remote.run(arguments: ["reactors", "list", "--server", sourceURL])
            #expect(status.stdout.contains("parked 1\tlast error at ") && status.stdout.contains("500"), "the operator sees why: \(status.stdout)")
            first.terminate()
            try await waitForExit(first, seconds: 60)
            let sentBefore = receiver.received.count

            let export = try await cli.run(arguments: ["export", "--output", backup] + source)
            #expect(export.status == 0, "\(export.stderr)")
            #expect(export.stderr.contains("1 reactor checkpoints, 1 parked events"), "\(export.stderr)")
            let lines = try String(contentsOfFile: backup, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines.contains(#"{"reactorCheckpoint":{"position":4,"reactor":"mail"}}"#), "\(lines)")
            #expect(lines.contains { $0.hasPrefix(#"{"parkedEvent":"#) && $0.contains(#""position":2"#) })
            #expect(lines.last?.hasPrefix(#"{"exportEnd":"#) == true)

            // An export without reactor records (as an older chronicle wrote them) is refused.
            let logOnly = lines.filter { !$0.hasPrefix(#"{"reactorCheckpoint""#) && !$0.hasPrefix(#"{"parkedEvent""#) && !$0.hasPrefix(#"{"exportEnd""#) }
            try (logOnly.joined(separator: "\n") + "\n").write(toFile: oldBackup, atomically: true, encoding: .utf8)
            let refused = try await cli.run(arguments: ["import", oldBackup] + old)
            #expect(refused.status == 1 && refused.stderr.contains("carries no reactor checkpoints") && refused.stderr.contains("--reactors-from-beginning"), "\(refused.stderr)")
            #expect(try await cli.run(arguments: ["log", "--json"] + old).stdout.isEmpty, "a refused import stores nothing")
            let forced = try await cli.run(arguments: ["import", oldBackup, "--reactors-from-beginning"] + old)
            #expect(forced.status == 0 && forced.stderr.contains("reactors start afresh"), "\(forced.stderr)")

            let imported = try await cli.run(arguments: ["import", backup] + target)
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stderr.contains("1 reactor checkpoints and 1 parked events restored"), "\(imported.stderr)")

            // The restored store, served with the same reactor: only the new event is delivered.
            let (targetURL, second, _) = try await serve.startServer(cli, ["--schema", schemaFile] + target)
            defer { if second.isRunning { second.terminate() } }
            #expect(try await remote.run(arguments: ["append", "user-4", "UserCreated", "{}", "--server", targetURL]).status == 0)
            try await waitForReactor(targetURL, checkpoint: 5)
            #expect(users(Array(receiver.received.dropFirst(sentBefore))) == ["user-4"], "nothing delivered before the export is delivered again")
            let parked = try await remote.run(arguments: ["reactors", "parked", "mail", "--server", targetURL, "--json"])
            #expect(parked.status == 0 && parked.stdout.contains(#""position":2"#) && parked.stdout.contains(#""attempts":2"#), "the parked event came back: \(parked.stdout) \(parked.stderr)")
            second.terminate()
            try await waitForExit(second, seconds: 60)
        }
    }
}
