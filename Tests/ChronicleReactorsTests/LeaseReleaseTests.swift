import ChronicleCore
import ChronicleProjections
import ChronicleReactors
import ChronicleTestSupport
import ChronicleTesting
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// A graceful shutdown gives the leases up (issue 19, item 9): a restarted single node must
/// not stand by until its own old lease expires.
@Suite("Leases are released on graceful shutdown")
struct LeaseReleaseTests {
    @Test("SQLite: a stopped node leaves no lease behind, and the next runner starts at once")
    func sqlite() async throws {
        try await Self.restart(on: SQLiteBackend())
    }

    @Test("PostgreSQL: a stopped node leaves no lease behind, and the next runner starts at once", TestPostgres.enabled)
    func postgres() async throws {
        try await Self.restart(on: PostgresBackend())
    }

    /// Runs a reactor and an asynchronous projection as one node, stops it gracefully, then
    /// starts a new node (a new lease owner, as a restarted process is). The leases last two
    /// minutes, so only a release explains the second node taking them within the deadline (90 s, for a
    /// loaded machine).
    static func restart(on backend: some ConformanceBackend) async throws {
        try await backend.withStore(projection: CounterProjection(), lifecycle: .async) { store in
            let deliveries = Mutex<[String]>([])
            func node(_ owner: String) -> (group: ServiceGroup, leases: [String]) {
                let options = LeaseOptions(duration: .seconds(120), owner: owner)
                let reactor = Reactor(name: "mail", startsAtBeginning: true) { _ in
                    deliveries.withLock { $0.append(owner) }
                    return []
                }
                let projection = ProjectionRunner(store: store, logger: testLogger, lease: options)
                let runner = ReactorRunner(store: store, reactor: reactor, logger: testLogger, lease: options)
                let group = ServiceGroup(configuration: .init(services: [projection, runner], gracefulShutdownSignals: [], logger: testLogger))
                return (group, [ReactorRunner.leaseName("mail"), ProjectionRunner.leaseName(projection.projection)])
            }
            func run(_ owner: String, position: Int64) async throws -> [String] {
                let (group, leases) = node(owner)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    do {
                        try await store.append(to: StreamName("counter-1"), [EventData(type: "Incremented", data: ["by": 1])])
                        try await withDeadline(seconds: 90, "node \(owner) to take both leases and handle position \(position)") {
                            while true {
                                var holders: [String?] = []
                                for lease in leases { holders.append(try await store.leaseHolder(lease)) }
                                if holders.allSatisfy({ $0 == owner }),
                                   try await store.reactorPosition("mail") == position,
                                   try await store.projectionCheckpoint() == position { return }
                                try await Task.sleep(for: .milliseconds(10))
                            }
                        }
                    } catch {
                        await group.triggerGracefulShutdown()
                        try? await tasks.waitForAll()
                        throw error
                    }
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
                return leases
            }

            let leases = try await run("node-first", position: 1)
            for lease in leases {
                #expect(try await store.leaseHolder(lease) == nil, "the stopped node released \(lease)")
            }
            _ = try await run("node-restarted", position: 2)
            for lease in leases {
                #expect(try await store.leaseHolder(lease) == nil, "the restarted node released \(lease) too")
            }
            #expect(deliveries.withLock { $0 } == ["node-first", "node-restarted"], "each event delivered once, by the node that held the lease")
        }
    }
}
