import ChronicleCore
import ChroniclePostgres
import ChronicleReactors
import ChronicleSQLite
import ChronicleTestSupport
import ChronicleTesting
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// What a handler saw.
final class Deliveries: Sendable {
    private let log = Mutex<[(key: String, attempt: Int, type: String)]>([])
    func add(_ delivery: ReactorDelivery) { log.withLock { $0.append((delivery.idempotencyKey, delivery.attempt, delivery.event.type)) } }
    var all: [(key: String, attempt: Int, type: String)] { log.withLock { $0 } }
}

/// Runs `body` on a fresh store of `backend`: "memory", "sqlite" (a file in a temporary
/// directory) or "postgres" (a schema of its own, dropped after; under `TestPostgres.enabled`).
func withReactorStore(_ backend: String, _ body: (any ReactorStore) async throws -> Void) async throws {
    switch backend {
    case "memory":
        try await body(InMemoryEventStore())
    case "postgres":
        try await withPostgresStore { try await body($0) }
    default:
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-reactor-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(try SQLiteEventStore(directory: directory, logger: Logger(label: "test")))
    }
}

func withReactor<T: Sendable>(_ store: any ReactorStore, _ reactor: Reactor, _ body: @escaping @Sendable (ReactorRunner) async throws -> T) async throws -> T {
    var logger = Logger(label: "chronicle.tests")
    logger.logLevel = .critical
    let runner = ReactorRunner(store: store, reactor: reactor, logger: logger)
    return try await withReactorRunner(runner, logger: logger) { try await body(runner) }
}

/// Waits for `condition`, bounded for a loaded machine (CI's full run once took over 60 s for
/// 90 deliveries while another full run shared its two cores).
func eventually(_ what: String, seconds: Double = 240, _ condition: @escaping @Sendable () async throws -> Bool) async throws {
    try await waitUntil(what, seconds: seconds, every: .milliseconds(5), condition)
}

@Suite("Reactors")
struct ReactorRunnerTests {
    @Test("delivers matching events in order, appends outcomes with the trigger's correlation", arguments: ["memory", "sqlite"])
    func delivery(backend: String) async throws { try await withReactorStore(backend) { try await delivery(store: $0) } }

    @Test("delivers matching events in order, appends outcomes with the trigger's correlation (PostgreSQL)", TestPostgres.enabled)
    func deliveryOnPostgres() async throws { try await withReactorStore("postgres") { try await delivery(store: $0) } }

    func delivery(store: any ReactorStore) async throws {
        try await store.append(to: StreamName("user-0"), [EventData(type: "UserCreated", metadata: ["correlationId": "signup-0"])])
        let deliveries = Deliveries()
        let reactor = Reactor(name: "welcome-email", filter: LogFilter(types: ["UserCreated"]), startsAtBeginning: true) { delivery in
            deliveries.add(delivery)
            return [ReactorOutcome(stream: try StreamName("email-\(delivery.event.stream.entityID ?? "")"), events: [EventData(type: "WelcomeEmailSent")])]
        }
        try await withReactor(store, reactor) { _ in
            for index in 1..<4 {
                try await store.append(to: StreamName("user-\(index)"), [EventData(type: "UserCreated"), EventData(type: "UserRenamed")])
            }
            try await eventually("four outcomes") { try await store.readLog(after: 0, limit: 100, filter: LogFilter(types: ["WelcomeEmailSent"])).events.count == 4 }
        }
        #expect(deliveries.all.map(\.type) == Array(repeating: "UserCreated", count: 4), "only matching events")
        #expect(Set(deliveries.all.map(\.key)).count == 4 && deliveries.all.allSatisfy { $0.key.hasPrefix("welcome-email:") })
        let outcome = try #require(try await store.read(StreamName("email-0")).first)
        let trigger = try #require(try await store.read(StreamName("user-0")).first)
        #expect(outcome.metadata["correlationId"] == "signup-0")
        #expect(outcome.metadata["causationId"] == .string(trigger.id.uuidString.lowercased()))
    }

    @Test("a new reactor starts at the end of the log; rebuilding read models never calls it", arguments: ["memory", "sqlite"])
    func startsAtEnd(backend: String) async throws { try await withReactorStore(backend) { try await startsAtEnd(store: $0) } }

    @Test("a new reactor starts at the end of the log; rebuilding read models never calls it (PostgreSQL)", TestPostgres.enabled)
    func startsAtEndOnPostgres() async throws { try await withReactorStore("postgres") { try await startsAtEnd(store: $0) } }

    func startsAtEnd(store: any ReactorStore) async throws {
        for index in 0..<5 { try await store.append(to: StreamName("user-\(index)"), [EventData(type: "UserCreated")]) }
        let deliveries = Deliveries()
        let reactor = Reactor(name: "late", filter: LogFilter(types: ["UserCreated"])) { delivery in
            deliveries.add(delivery)
            return []
        }
        try await withReactor(store, reactor) { _ in
            // Read only (reactorPosition creates nothing): the runner made the checkpoint, at
            // the head, before it delivers anything.
            try await eventually("the runner to create the reactor's checkpoint") { try await store.reactorPosition("late") != nil }
            #expect(try await store.reactorPosition("late") == 5, "a new reactor starts at the head")
            try await store.append(to: StreamName("user-9"), [EventData(type: "UserCreated")])
            try await eventually("one delivery") { deliveries.all.count == 1 }
            // The checkpoint moves after the delivery (at least once): wait for it, not for a
            // shutdown that may come between the two.
            try await eventually("the checkpoint to pass it") { try await store.reactorPosition("late") == 6 }
        }
        #expect(deliveries.all.count == 1, "events before the reactor existed are not delivered")
    }

    @Test("failing then recovering is retried with backoff; failing for good is parked, and the reactor moves on", arguments: ["memory", "sqlite"])
    func retriesAndParking(backend: String) async throws { try await withReactorStore(backend) { try await retriesAndParking(store: $0) } }

    @Test("failing then recovering is retried with backoff; failing for good is parked, and the reactor moves on (PostgreSQL)", TestPostgres.enabled)
    func retriesAndParkingOnPostgres() async throws { try await withReactorStore("postgres") { try await retriesAndParking(store: $0) } }

    func retriesAndParking(store: any ReactorStore) async throws {
        struct Unavailable: Error {}
        let deliveries = Deliveries()
        let reactor = Reactor(name: "webhook", startsAtBeginning: true, maximumAttempts: 3, backoff: .milliseconds(1)) { delivery in
            deliveries.add(delivery)
            if delivery.event.type == "Flaky" && delivery.attempt < 3 { throw Unavailable() }
            if delivery.event.type == "Broken" { throw Unavailable() }
            return []
        }
        try await store.append(to: StreamName("job-1"), [EventData(type: "Flaky")])
        try await store.append(to: StreamName("job-2"), [EventData(type: "Broken")])
        try await store.append(to: StreamName("job-3"), [EventData(type: "Fine")])
        let statistics = try await withReactor(store, reactor) { runner in
            try await eventually("all three handled") { try await store.reactorCheckpoint("webhook", fromBeginning: true) >= 3 }
            return runner.statistics.snapshot
        }
        #expect(deliveries.all.filter { $0.type == "Flaky" }.map(\.attempt) == [1, 2, 3])
        #expect(deliveries.all.filter { $0.type == "Broken" }.count == 3)
        #expect(deliveries.all.contains { $0.type == "Fine" }, "the reactor moved on past the parked event")
        #expect(statistics.delivered == 2 && statistics.parked == 1 && statistics.failures == 5)
        let parked = try await store.parkedEvents("webhook")
        #expect(parked.count == 1 && parked[0].position == 2 && parked[0].attempts == 3 && parked[0].error.contains("Unavailable"))
        let record = try #require(try await store.read(.reactors).first)
        #expect(record.type == "$reactorParked" && record.data["reactor"] == "webhook" && record.data["position"] == 2)
        #expect(record.metadata["causationId"] == .string(parked[0].eventID.uuidString.lowercased()), "pushed on the trigger's correlation")
        let retried = try #require(try await store.unpark("webhook", eventID: parked[0].eventID))
        #expect(try await reactor.retry(retried, in: store) == false, "still broken: parked again")
        #expect(try await store.parkedEvents("webhook").map(\.attempts) == [4])
        #expect(try await store.unpark("webhook", eventID: parked[0].eventID)?.position == 2, "skip: the operator removes it")
        #expect(try await store.parkedEvents("webhook").isEmpty)
    }

    @Test("outcome events the store would refuse park the event (no endless redelivery); the reactor moves on", arguments: ["memory", "sqlite"])
    func refusedOutcomes(backend: String) async throws { try await withReactorStore(backend) { try await refusedOutcomes(store: $0) } }

    @Test("outcome events the store would refuse park the event (no endless redelivery); the reactor moves on (PostgreSQL)", TestPostgres.enabled)
    func refusedOutcomesOnPostgres() async throws { try await withReactorStore("postgres") { try await refusedOutcomes(store: $0) } }

    func refusedOutcomes(store: any ReactorStore) async throws {
        let deliveries = Deliveries()
        let reactor = Reactor(name: "forger", filter: LogFilter(types: ["UserCreated"]), startsAtBeginning: true) { delivery in
            deliveries.add(delivery)
            let type = delivery.event.stream.rawValue == "user-1" ? "$forged" : "WelcomeEmailSent"
            return [ReactorOutcome(stream: try StreamName("email-\(delivery.event.stream.entityID ?? "")"), events: [EventData(type: type)])]
        }
        try await store.append(to: StreamName("user-1"), [EventData(type: "UserCreated")])
        try await store.append(to: StreamName("user-2"), [EventData(type: "UserCreated")])
        try await withReactor(store, reactor) { _ in
            try await eventually("both handled") { try await store.reactorPosition("forger") ?? 0 >= 2 }
        }
        #expect(deliveries.all.count == 2, "called once each")
        let parked = try await store.parkedEvents("forger")
        #expect(parked.count == 1 && parked.first?.position == 1 && parked.first?.error.contains("cannot be stored") == true, "\(parked)")
        #expect(try await store.info(StreamName("email-1")) == nil)
        #expect(try await store.read(StreamName("email-2")).map(\.type) == ["WelcomeEmailSent"])
    }
}
