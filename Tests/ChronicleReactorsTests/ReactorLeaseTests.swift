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
    func takeover(backend: String) async throws { try await withReactorStore(backend) { try await takeover(store: $0) } }

    @Test("two runners of one reactor on one store: only the lease holder delivers; when it stops, the other takes over from the checkpoint (PostgreSQL)", TestPostgres.enabled)
    func takeoverOnPostgres() async throws { try await withReactorStore("postgres") { try await takeover(store: $0) } }

    func takeover(store: any ReactorStore) async throws {
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
        let a = ReactorRunner(store: store, reactor: reactor("a"), logger: logger, lease: LeaseOptions(owner: "a"))
        let b = ReactorRunner(store: store, reactor: reactor("b"), logger: logger, lease: LeaseOptions(owner: "b"))
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
        // At least once, one node at a time: every delivery of a comes before every delivery of
        // b. A delivery may repeat (a renewal that does not answer in time on a loaded machine
        // stops a's work before its checkpoint, and a delivers that event again), never go missing.
        let deliveries = deliveredBy.withLock { $0 }
        let firstOfB = deliveries.firstIndex { $0.owner == "b" } ?? deliveries.endIndex
        #expect(deliveries[..<firstOfB].allSatisfy { $0.owner == "a" } && deliveries[firstOfB...].allSatisfy { $0.owner == "b" }, "only the holder delivered: \(deliveries.map(\.owner))")
        #expect(Set(deliveries.map(\.stream)) == Set((0..<15).map { "user-\($0)" }), "every event delivered, none lost")
        #expect(Set(deliveries[..<firstOfB].map(\.stream)).isSubset(of: Set((0..<10).map { "user-\($0)" })), "a delivered only what was appended while it ran")
        #expect(Set((10..<15).map { "user-\($0)" }).isSubset(of: Set(deliveries[firstOfB...].map(\.stream))), "b delivered what came after it took over")
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
