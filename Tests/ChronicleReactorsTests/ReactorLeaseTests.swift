import ChronicleCore
import ChronicleReactors
import ChronicleTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@Suite("Reactors: one node at a time")
struct ReactorLeaseTests {
    @Test("two runners of one reactor on one store: only the lease holder delivers; when it stops, the other takes over from the checkpoint", arguments: ["memory", "sqlite"])
    func takeover(backend: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-reactor-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try makeStore(backend, directory)
        let leases = try #require(store as? any LeaseStore)
        let deliveredBy = Mutex<[(owner: String, stream: String)]>([])
        func reactor(_ owner: String) -> Reactor {
            Reactor(name: "mail", startsAtBeginning: true) { delivery in
                deliveredBy.withLock { $0.append((owner, delivery.event.stream.rawValue)) }
                return []
            }
        }
        var logger = Logger(label: "chronicle.tests")
        logger.logLevel = .critical
        let a = ReactorRunner(store: store, reactor: reactor("a"), logger: logger, lease: LeaseOptions(duration: .seconds(3), owner: "a"))
        let b = ReactorRunner(store: store, reactor: reactor("b"), logger: logger, lease: LeaseOptions(duration: .seconds(3), owner: "b"))
        let groupB = ServiceGroup(configuration: .init(services: [b], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            try await withReactorRunner(a, logger: logger) {
                try await eventually("a holds the lease") { try await leases.leaseHolder(ReactorRunner.leaseName("mail")) == "a" }
                tasks.addTask { try await groupB.run() }
                for index in 0..<10 {
                    try await store.append(to: StreamName("user-\(index)"), [EventData(type: "UserCreated")])
                }
                try await eventually("a delivers all ten") { try await store.reactorPosition("mail") == 10 }
            }
            // a stopped (and gave the lease up): b takes over from the checkpoint.
            try await eventually("b holds the lease") { try await leases.leaseHolder(ReactorRunner.leaseName("mail")) == "b" }
            for index in 10..<15 {
                try await store.append(to: StreamName("user-\(index)"), [EventData(type: "UserCreated")])
            }
            try await eventually("b delivers the rest") { try await store.reactorPosition("mail") == 15 }
            await groupB.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let deliveries = deliveredBy.withLock { $0 }
        #expect(deliveries.prefix(10).allSatisfy { $0.owner == "a" }, "only the holder delivered")
        #expect(deliveries.dropFirst(10).allSatisfy { $0.owner == "b" })
        #expect(deliveries.map(\.stream).sorted() == (0..<15).map { "user-\($0)" }.sorted(), "each event once, none lost")
    }
}

/// Runs one runner for the duration of `body`, then stops it gracefully.
func withReactorRunner<T: Sendable>(_ runner: ReactorRunner, logger: Logger, _ body: () async throws -> T) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: [runner], gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let value = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}
