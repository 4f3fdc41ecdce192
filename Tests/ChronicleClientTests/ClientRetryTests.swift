import ChronicleClient
import ChronicleCore
import Foundation
import Synchronization
import ChronicleTestSupport
import ChronicleTesting
import Testing

/// Retries are safe: an append whose answer was lost, retried across a server restart,
/// is stored once and reported as replayed.
@Suite("ChronicleClient: safe retries")
struct ClientRetryTests {
    /// Patient enough to outlast a server restart on a loaded machine.
    static let patient = RetryPolicy(maximumAttempts: 1000, initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))

    @Test("an append stored but unanswered (the server stops), retried until the restarted server answers: stored once, replayed")
    func appendAcrossRestart() async throws {
        let directory = freshDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try await freePort()
        let proxy = try await ResponseDroppingProxy(to: port)
        let chronicle = try client(port: proxy.port, retry: Self.patient)
        let event = EventData(type: "OrderPlaced", data: ["total": 42])
        let stream = try StreamName("order-1")

        let receipt = try await withThrowingTaskGroup(of: AppendReceipt.self) { group in
            try await withChronicleServer(directory: directory, port: port) { _ in
                proxy.dropNextAnswer()
                group.addTask { try await chronicle.append(event, to: stream, expected: .noStream) }
                try await poll("the server to store the append and the proxy to drop its answer") { proxy.droppedAnswers == 1 }
            }
            // The server is gone; the client keeps retrying (refused by the proxy meanwhile).
            return try await withChronicleServer(directory: directory, port: port) { _ in
                proxy.restore()
                // Bounded by the client's retries (at most 1000 attempts, 200 ms apart).
                return try await group.next()!
            }
        }
        await proxy.stop()
        #expect(receipt.replayed, "the retry found the append stored")
        #expect(receipt.position == 1 && receipt.stream.lastRevision == 0 && receipt.eventIds == [event.id])

        try await withChronicleServer(directory: directory) { port in
            let log = try await client(port: port).readLog()
            #expect(log.events.map(\.id) == [event.id], "stored once")
        }
    }

    @Test("a declarative post whose answer was lost: the resend carries the same Idempotency-Key, and the server stores it once and answers replayed")
    func postAnswerLost() async throws {
        let directory = freshDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try await freePort()
        let proxy = try await ResponseDroppingProxy(to: port)
        let chronicle = try client(port: proxy.port, retry: Self.patient)
        try await withChronicleServer(directory: directory, port: port, ServerSetup(schema: appSchema())) { _ in
            proxy.dropNextAnswer()
            let receipt = try await withThrowingTaskGroup(of: WriteReceipt.self) { group in
                group.addTask { try await chronicle.post(eventType: "UserCreated", payload: ["id": "ada", "email": "ada@example.com"]) }
                try await poll("the proxy to drop the post's answer") { proxy.droppedAnswers == 1 }
                proxy.restore()
                return try await group.next()!
            }
            #expect(receipt.replayed == true && receipt.entity == "user" && receipt.id == "ada" && receipt.revision == 0)
            let log = try await client(port: port).readLog()
            #expect(log.events.map(\.type) == ["UserCreated"], "posted once")
            #expect(log.events.first?.metadata["correlationId"] == .string(receipt.correlationId))
        }
        await proxy.stop()
    }

    @Test("503 is retried with backoff until the server answers, within the policy's attempts; then thrown with its status")
    func serviceUnavailableIsRetried() async throws {
        let receiver = Receiver(answers: [(503, "{}"), (503, "{}")], then: (200, #"{"ok":true}"#))
        try await receiver.run { url in
            let base = String(url.dropLast("/hook".count))
            let chronicle = try ChronicleClient(configuration: .init(url: base, retry: RetryPolicy(maximumAttempts: 3, initialDelay: .milliseconds(10))), logger: clientTestLogger)
            let answer = try await chronicle.post("/hook", body: JSONValue.object(["n": 1]), as: JSONValue.self)
            #expect(answer == ["ok": true] && receiver.received.count == 3)
        }
        let unavailable = Receiver(then: (503, #"{"code":"not-ready","status":503,"title":"Not ready","detail":"starting"}"#))
        try await unavailable.run { url in
            let base = String(url.dropLast("/hook".count))
            let chronicle = try ChronicleClient(configuration: .init(url: base, retry: RetryPolicy(maximumAttempts: 2, initialDelay: .milliseconds(10))), logger: clientTestLogger)
            do {
                _ = try await chronicle.post("/hook", body: JSONValue.object([:]), as: JSONValue.self)
                Issue.record("a 503 after the last attempt is thrown")
            } catch let error as ChronicleClientError {
                #expect(error.code == .notReady && error.status == 503 && error.detail == "starting")
            }
            #expect(unavailable.received.count == 2)
        }
    }
}
