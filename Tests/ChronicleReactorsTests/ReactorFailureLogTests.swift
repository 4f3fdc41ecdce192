import ChronicleCore
import ChronicleReactors
import ChronicleSQLite
import ChronicleTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@Suite("Reactors: failed attempts are logged")
struct ReactorFailureLogTests {
    struct Refused: Error, CustomStringConvertible {
        var description: String { "the webhook answered 503: busy" }
    }

    @Test("each failed attempt is a warning with the reactor, the event, the attempt and the error")
    func failedAttemptsAreWarnings() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-reactor-log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteEventStore(directory: directory, logger: Logger(label: "test"))
        let attempts = Mutex(0)
        let reactor = Reactor(name: "mail", startsAtBeginning: true, maximumAttempts: 5, backoff: .milliseconds(1)) { _ in
            // Two failures, then success.
            guard attempts.withLock({ $0 += 1; return $0 }) > 2 else { throw Refused() }
            return []
        }
        try await store.append(to: StreamName("user-1"), [EventData(type: "UserCreated")])
        let log = CapturedLog()
        let runner = ReactorRunner(store: store, reactor: reactor, logger: log.logger)
        try await withReactorRunner(runner, logger: log.logger) {
            try await eventually("the delivery to succeed") { try await store.reactorPosition("mail") == 1 }
        }
        let warnings = log.records.filter { $0.level == .warning && $0.message.contains("delivery failed") }
        #expect(warnings.count == 2, "one warning per failed attempt: \(log.records.map(\.message))")
        #expect(warnings.map { $0.metadata["chronicle.attempt"] } == ["1", "2"])
        for warning in warnings {
            #expect(warning.metadata["chronicle.error"] == "the webhook answered 503: busy")
            #expect(warning.metadata["chronicle.reactor"] == "mail" && warning.metadata["chronicle.position"] == "1")
            #expect(warning.metadata["chronicle.retry_in_ms"] != nil, "says when it retries")
        }
        let statistics = reactor.statistics.snapshot
        #expect(statistics.failures == 2 && statistics.delivered == 1)
        #expect(statistics.lastError == "the webhook answered 503: busy")
        #expect(statistics.nextAttemptAtMicroseconds == nil, "nothing waits once it is delivered")
    }
}
