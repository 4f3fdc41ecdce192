import AsyncHTTPClient
import ChronicleCore
import ChronicleReactors
import ChronicleSQLite
import ChronicleTesting
import ChronicleTestSupport
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@Suite("Webhooks")
struct WebhookTests {
    @Test("a webhook gets the event, the idempotency key, a timestamp and a signature over both; its answer's events are appended")
    func delivery() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-webhook-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteEventStore(directory: directory, logger: Logger(label: "test"))
        let receiver = Receiver(answers: [(503, "busy")], then: (200, #"{"events":[{"stream":"email-1","type":"WelcomeEmailSent","data":{"ok":true}}]}"#))
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await receiver.run { url in
                let reactor = Reactor(name: "welcome", filter: LogFilter(types: ["UserCreated"]), startsAtBeginning: true, backoff: .milliseconds(1),
                                      handler: Webhook(url: url, secret: "s3cret").handler(client: http))
                try await store.append(to: StreamName("user-1"), [EventData(type: "UserCreated", data: ["email": "a@x.org"])])
                try await withReactor(store, reactor) { _ in
                    try await eventually("the outcome") { try await store.info(StreamName("email-1")) != nil }
                }
            }
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
        let calls = receiver.received
        // At least once: a 503 is retried; on a loaded machine an answered call may be made
        // again (a timeout), but the outcome is stored once for the one idempotency key.
        #expect(calls.count >= 2, "a 503 is retried")
        #expect(try await store.read(StreamName("email-1")).count == 1, "the outcome is appended once")
        let trigger = try #require(try await store.read(StreamName("user-1")).first)
        #expect(calls.allSatisfy { $0.key == "welcome:\(trigger.id.uuidString.lowercased())" }, "the same key on every attempt")
        #expect(calls.first?.body == trigger.jsonText)
        // The signature covers the timestamp, so a receiver can refuse a replayed call.
        for call in calls {
            let timestamp = try #require(call.timestamp, "every attempt carries Chronicle-Timestamp")
            let seconds = try #require(Int64(timestamp), "Chronicle-Timestamp is Unix seconds: \(timestamp)")
            #expect(abs(seconds - Int64(Date().timeIntervalSince1970)) < 600, "the timestamp is the sending time")
            let expected = HMAC<SHA256>.authenticationCode(for: Data((timestamp + "." + trigger.jsonText).utf8), using: SymmetricKey(data: Data("s3cret".utf8))).map { String(format: "%02x", $0) }.joined()
            #expect(call.signature == "sha256=" + expected, "HMAC-SHA256 of timestamp.body")
        }
        let bodyOnly = HMAC<SHA256>.authenticationCode(for: Data(trigger.jsonText.utf8), using: SymmetricKey(data: Data("s3cret".utf8))).map { String(format: "%02x", $0) }.joined()
        #expect(calls.first?.signature != "sha256=" + bodyOnly, "a signature of the body alone would let a recorded call be replayed")
        let outcome = try #require(try await store.read(StreamName("email-1")).first)
        #expect(outcome.type == "WelcomeEmailSent" && outcome.data == ["ok": true])
        #expect(outcome.metadata["causationId"] == .string(trigger.id.uuidString.lowercased()))
    }

    @Test("408 and 429 answers are retried, and so is an attempt that times out; the event is delivered, not parked")
    func retriedAnswersAndTimeouts() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-webhook-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteEventStore(directory: directory, logger: Logger(label: "test"))
        let seen = Mutex(0)
        // The third call is held until a fourth arrives: only a retry after the webhook's
        // timeout can make one.
        let receiver = Receiver(answers: [(408, "slow down"), (429, "too many")], then: (204, "")) { _ in
            let number = seen.withLock { count in
                count += 1
                return count
            }
            guard number == 3 else { return }
            let deadline = ContinuousClock.now + .seconds(240)
            while seen.withLock({ $0 }) < 4, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await receiver.run { url in
                let reactor = Reactor(name: "hook", startsAtBeginning: true, maximumAttempts: 1000, backoff: .milliseconds(1), maximumBackoff: .milliseconds(50),
                                      handler: Webhook(url: url, timeout: .seconds(1)).handler(client: http))
                try await store.append(to: StreamName("job-1"), [EventData(type: "A")])
                try await withReactor(store, reactor) { _ in
                    try await eventually("delivered") { try await store.reactorCheckpoint("hook", fromBeginning: true) >= 1 }
                }
            }
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
        let calls = receiver.received
        #expect(calls.count >= 4, "a 408, a 429 and a timed-out attempt, each followed by another: \(calls.count) calls")
        #expect(Set(calls.map(\.key)).count == 1, "one idempotency key for every attempt")
        #expect(try await store.parkedEvents("hook").isEmpty, "retried answers never park the event")
    }

    @Test("a 4xx answer parks the event at once; the reactor moves on")
    func permanentFailure() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-webhook-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteEventStore(directory: directory, logger: Logger(label: "test"))
        let receiver = Receiver(answers: [(400, "bad request")], then: (204, ""))
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await receiver.run { url in
                // A generous timeout: an attempt that timed out on a loaded machine would be
                // retried and meet the receiver's later 204 instead of its 400.
                let reactor = Reactor(name: "hook", startsAtBeginning: true, maximumAttempts: 5, backoff: .milliseconds(1), handler: Webhook(url: url, timeout: .seconds(120)).handler(client: http))
                try await store.append(to: StreamName("job-1"), [EventData(type: "A")])
                try await store.append(to: StreamName("job-2"), [EventData(type: "B")])
                try await withReactor(store, reactor) { _ in
                    try await eventually("both handled") { try await store.reactorCheckpoint("hook", fromBeginning: true) >= 2 }
                }
            }
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
        let parked = try await store.parkedEvents("hook")
        #expect(parked.count == 1 && parked[0].attempts == 1 && parked[0].error.contains("400"))
        // At least once: the other event may be delivered again (an answer lost on a loaded
        // machine), but the refused one is never retried after its 400.
        let keys = receiver.received.map(\.key)
        #expect(Set(keys).count == 2, "both events were offered: \(keys)")
        if let refused = parked.first {
            #expect(keys.filter { $0 == "hook:\(refused.eventID.uuidString.lowercased())" }.count == 1, "no retry after a 400: \(keys)")
        }
    }

    @Test("an unreachable receiver (connections cut) is retried; once it is back, the event is delivered")
    func unreachable() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-webhook-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteEventStore(directory: directory, logger: Logger(label: "test"))
        let receiver = Receiver(then: (204, ""))
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await receiver.run { url in
                let target = try #require(URL(string: url))
                let proxy = try await TCPProxy(to: "127.0.0.1", port: target.port ?? 0)
                proxy.cut()
                // Retries at most 200 ms apart: however many failed while the receiver was cut
                // off (a loaded machine polls slowly), the next attempt comes soon after it is back.
                let reactor = Reactor(name: "hook", startsAtBeginning: true, maximumAttempts: 1000, backoff: .milliseconds(5), maximumBackoff: .milliseconds(200),
                                      handler: Webhook(url: "http://127.0.0.1:\(proxy.port)/hook", timeout: .seconds(30)).handler(client: http))
                try await store.append(to: StreamName("job-1"), [EventData(type: "A")])
                try await withReactor(store, reactor) { runner in
                    try await eventually("failed attempts") { runner.statistics.snapshot.failures >= 3 }
                    #expect(receiver.received.isEmpty)
                    proxy.restore()
                    try await eventually("delivered") { try await store.reactorPosition("hook") == 1 }
                }
                await proxy.stop()
            }
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
        // At least once: a call that reached the receiver but whose answer was lost (a loaded
        // machine, the 2 s timeout) is made again, with the same idempotency key.
        let keys = Set(receiver.received.map(\.key))
        #expect(!receiver.received.isEmpty && keys.count == 1 && keys.first?.hasPrefix("hook:") == true, "one delivery per idempotency key: \(keys)")
        #expect(try await store.parkedEvents("hook").isEmpty)
    }
}
