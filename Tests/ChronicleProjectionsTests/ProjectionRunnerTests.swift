import ChronicleCore
import ChronicleProjections
import ChroniclePostgres
import ChronicleSQLite
import ChronicleTestSupport
import ChronicleTesting
import Foundation
import Logging
import ServiceLifecycle
import Testing

func withRunner<T: Sendable>(_ store: any AsyncProjectionStore, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    var logger = Logger(label: "chronicle.tests")
    logger.logLevel = .critical
    let group = ServiceGroup(configuration: .init(services: [ProjectionRunner(store: store, logger: logger, pageSize: 50)], gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        let value = try await body()
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return value
    }
}

func caughtUp(_ store: any AsyncProjectionStore) async throws {
    try await withDeadline(seconds: 60, "the projection to catch up") {
        while true {
            let checkpoint = try await store.projectionCheckpoint()
            if checkpoint >= (try await store.headPosition()) { break }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

func fold(_ store: any EventStore, upTo last: Int64 = .max) async throws -> DocumentSet {
    var reference = DocumentSet()
    for event in try await store.readLog(after: 0, limit: 1_000_000, filter: LogFilter()).events where event.position <= last {
        try reference.apply(event, CounterProjection())
    }
    return reference
}

@Suite("Projection runner")
struct ProjectionRunnerTests {
    @Test("the runner catches up with stored events, then follows live ones", arguments: ["memory", "sqlite"])
    func followsTheLog(backend: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-runner-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store: any AsyncProjectionStore = backend == "memory"
            ? InMemoryEventStore(projection: CounterProjection(), lifecycle: .async)
            : try SQLiteEventStore(directory: directory, configuration: .init(projection: CounterProjection(), lifecycle: .async), logger: Logger(label: "test"))
        try await followsTheLog(store)
    }

    @Test("the runner catches up with stored events, then follows live ones (PostgreSQL)", TestPostgres.enabled)
    func followsTheLogOnPostgres() async throws {
        try await withPostgresStore { open in try await open { try await followsTheLog($0) } }
    }

    /// A fresh PostgreSQL schema with ``CounterProjection`` asynchronous; `body` may open it as
    /// often as it likes (each call to `open` is a new store, as after a restart). Dropped after.
    func withPostgresStore(_ body: (_ open: (@Sendable (any AsyncProjectionStore) async throws -> Void) async throws -> Void) async throws -> Void) async throws {
        var configuration = TestPostgres.freshConfiguration()
        configuration.projection = CounterProjection()
        configuration.lifecycle = .async
        try await TestPostgres.withFreshSchema(configuration) { opened in
            try await body { use in try await PostgresEventStore.withStore(configuration: opened, logger: testLogger) { try await use($0) } }
        }
    }

    func followsTheLog(_ store: any AsyncProjectionStore) async throws {
        for index in 0..<120 {
            try await store.append(to: StreamName("counter-\(index % 7)"), [EventData(type: "Incremented", data: ["by": 1])])
        }
        try await withRunner(store) {
            try await caughtUp(store)
            for index in 0..<80 {
                try await store.append(to: StreamName("counter-\(index % 7)"), [EventData(type: "Incremented", data: ["by": 2])])
            }
            try await caughtUp(store)
        }
        let reference = try await fold(store)
        for id in 0..<7 {
            #expect(try await store.document(entity: "counter", id: String(id)) == reference.documents["counter"]?[String(id)])
        }
    }

    @Test("stopped at any moment and restarted on a reopened store, the documents equal a full rebuild")
    func restartAfterStop() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-runner-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = SQLiteEventStore.Configuration(projection: CounterProjection(), lifecycle: .async)
        try await restartAfterStop { use in try await use(try SQLiteEventStore(directory: directory, configuration: configuration, logger: Logger(label: "test"))) }
    }

    @Test("stopped at any moment and restarted on a reopened store, the documents equal a full rebuild (PostgreSQL)", TestPostgres.enabled)
    func restartAfterStopOnPostgres() async throws {
        try await withPostgresStore { open in try await restartAfterStop(open: open) }
    }

    /// Three rounds of appends with the runner stopped wherever it was, each on a newly opened
    /// store (`open`), then a last one that catches up.
    func restartAfterStop(open: (@Sendable (any AsyncProjectionStore) async throws -> Void) async throws -> Void) async throws {
        for round in 0..<3 {
            try await open { store in
                try await withRunner(store) {
                    for index in 0..<150 {
                        try await store.append(to: StreamName("counter-\(index % 5)"), [EventData(type: "Incremented", data: ["by": .integer(Int64(round + 1))])])
                    }
                }
                // The runner was stopped wherever it was; the checkpoint says how far it got: the
                // documents are exactly the events up to it, folded (stored with it, atomically).
                let checkpoint = try await store.projectionCheckpoint()
                let head = try await store.headPosition()
                #expect(checkpoint <= head && head == Int64(150 * (round + 1)))
                let upToCheckpoint = try await fold(store, upTo: checkpoint)
                for id in 0..<5 {
                    #expect(try await store.document(entity: "counter", id: String(id)) == upToCheckpoint.documents["counter"]?[String(id)], "round \(round), counter \(id), checkpoint \(checkpoint)")
                }
            }
        }
        try await open { reopened in
            try await withRunner(reopened) { try await caughtUp(reopened) }
            let reference = try await fold(reopened)
            for id in 0..<5 {
                #expect(try await reopened.document(entity: "counter", id: String(id)) == reference.documents["counter"]?[String(id)])
            }
            let expected: JSONValue = ["count": 180]
            #expect(try await reopened.document(entity: "counter", id: "0")?.state == expected, "30 increments of 1, 2 and 3")
        }
    }
}
