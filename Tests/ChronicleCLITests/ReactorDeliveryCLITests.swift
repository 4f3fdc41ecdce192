import ChronicleCore
import ChronicleTestSupport
import Foundation
import Synchronization
import Testing

@Suite("chronicle serve: reactor delivery")
struct ReactorDeliveryCLITests {
    func schema(_ url: String, from: String, concurrency: Int) -> String {
        """
        entities:
          user:
            events:
              UserCreated: create
        reactors:
          mail:
            on: [UserCreated]
            webhook: { url: "\(url)", timeout: 30s }
            retry: { attempts: 20, backoff: 10ms }
            from: \(from)
            concurrency: \(concurrency)
        """
    }

    /// The user ids in the bodies the receiver got, in order.
    func users(_ calls: [Receiver.Call]) -> [String] {
        calls.compactMap { call in
            (try? JSONValue(parsing: call.body))?["stream"].flatMap { if case .string(let stream) = $0 { stream } else { nil } }
        }
    }

    @Test("killed (-9) mid-delivery and restarted: the event is delivered again with the same idempotency key, none is lost")
    func killMidDelivery() async throws {
        try await withCLI { cli in
            for user in 1...5 {
                #expect(try await cli.run("append", "user-\(user)", "UserCreated", #"{"email":"u\#(user)@x.org"}"#).status == 0)
            }
            let held = Gate()
            let firstCall = Mutex(true)
            // The first delivery of user-3 hangs (a receiver mid-work); every other call is answered.
            let receiver = Receiver(then: (200, "{}")) { call in
                guard call.body.contains(#""stream":"user-3""#), firstCall.withLock({ first in defer { first = false }; return first }) else { return }
                try await held.wait()
            }
            try await receiver.run { url in
                let schemaFile = try cli.writeSchema(schema(url, from: "beginning", concurrency: 2))
                let serve = ServeCLITests()
                let (_, first, _) = try await serve.startServer(cli, ["--schema", schemaFile])
                try await pollUntil("user-3 in flight and the other users delivered") {
                    Set(users(receiver.received)) == ["user-1", "user-2", "user-3", "user-4", "user-5"]
                }
                first.send(SIGKILL)
                try await waitForExit(first, seconds: 60)
                held.release()
                let keyOf3 = try #require(receiver.received.first { $0.body.contains(#""stream":"user-3""#) }?.key)

                let (url, server, _) = try await serve.startServer(cli, ["--schema", schemaFile])
                defer { if server.isRunning { server.terminate() } }
                let remote = CLI(data: cli.data + "-unused")
                try await pollUntil("user-3 delivered again") {
                    receiver.received.filter { $0.key == keyOf3 }.count >= 2
                }
                // The checkpoint reaches the head: every event is done, nothing skipped.
                let deadline = ContinuousClock.now + .seconds(60)
                while true {
                    let list = try await remote.run(arguments: ["reactors", "list", "--server", url, "--json"])
                    if list.stdout.contains(#""checkpoint":5"#) { break }
                    if ContinuousClock.now > deadline { throw CLIError(message: "the reactor did not finish: \(list.stdout) \(list.stderr)") }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let calls = receiver.received
                #expect(Set(users(calls)) == ["user-1", "user-2", "user-3", "user-4", "user-5"])
                #expect(calls.filter { $0.key == keyOf3 }.count == 2, "the same idempotency key on redelivery")
                #expect(Set(calls.map(\.key)).count == 5, "one key per event, whatever was redelivered")
                server.terminate()
                try await waitForExit(server, seconds: 60)
            }
        }
    }

    @Test("a projection rebuild and a backup import with a reactor configured: the receiver sees no call")
    func replayNeverCalls() async throws {
        try await withCLI { cli in
            let receiver = Receiver(then: (200, "{}"))
            try await receiver.run { url in
                let schemaFile = try cli.writeSchema(schema(url, from: "end", concurrency: 1))
                let serve = ServeCLITests()
                let remote = CLI(data: cli.data + "-unused")
                let (url, server, _) = try await serve.startServer(cli, ["--schema", schemaFile])
                for user in 1...3 {
                    #expect(try await remote.run(arguments: ["append", "user-\(user)", "UserCreated", #"{"email":"u\#(user)@x.org"}"#, "--server", url]).status == 0)
                }
                try await pollUntil("three deliveries") { receiver.received.count == 3 }
                #expect(try await remote.run(arguments: ["projections", "rebuild", "entities", "--server", url]).status == 0)
                // A marker after the rebuild: with concurrency 1 the reactor goes in log order, so
                // once the marker arrives, anything the rebuild might have caused would have too.
                #expect(try await remote.run(arguments: ["append", "user-9", "UserCreated", #"{"email":"m@x.org"}"#, "--server", url]).status == 0)
                try await pollUntil("the marker") { users(receiver.received).contains("user-9") }
                #expect(users(receiver.received) == ["user-1", "user-2", "user-3", "user-9"], "the rebuild called nobody")
                // The export carries the reactor's checkpoint: stop only once it has passed the
                // marker (a delivery whose checkpoint was not written yet is delivered again on
                // the restored store — at least once — which is not what this test is about).
                let deadline = ContinuousClock.now + .seconds(120)
                while true {
                    let list = try await remote.run(arguments: ["reactors", "list", "--server", url, "--json"])
                    if list.stdout.contains(#""lag":{"events":0,"#) { break }
                    if ContinuousClock.now > deadline { throw CLIError(message: "the reactor did not catch up: \(list.stdout) \(list.stderr)") }
                    try await Task.sleep(for: .milliseconds(50))
                }
                server.terminate()
                try await waitForExit(server, seconds: 60)

                // Export, import into a new data directory, serve it with the same reactor.
                let backup = cli.data + "-backup.ndjson"
                defer { try? FileManager.default.removeItem(atPath: backup) }
                #expect(try await cli.run("export", "--output", backup).status == 0)
                let restored = CLI(data: cli.data + "-restored")
                defer { try? FileManager.default.removeItem(atPath: restored.data) }
                let imported = try await restored.run("import", backup)
                #expect(imported.status == 0, "\(imported.stderr)")
                let (restoredURL, again, _) = try await serve.startServer(restored, ["--schema", schemaFile])
                defer { if again.isRunning { again.terminate() } }
                #expect(try await remote.run(arguments: ["append", "user-10", "UserCreated", #"{"email":"n@x.org"}"#, "--server", restoredURL]).status == 0)
                try await pollUntil("the marker on the restored store") { users(receiver.received).contains("user-10") }
                #expect(users(receiver.received) == ["user-1", "user-2", "user-3", "user-9", "user-10"], "the import called nobody")
                again.terminate()
                try await waitForExit(again, seconds: 60)
            }
        }
    }
}
