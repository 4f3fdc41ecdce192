import ChronicleCore
import ChroniclePostgres
import ChronicleProjections
import ChronicleReactors
import ChronicleTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// What each node's reactor handler did, in the order it did it.
final class HandlerJournal: Sendable {
    enum Step: Sendable, Equatable { case started, completed, cancelled }

    struct Entry: Sendable {
        var node: String
        var key: String
        var position: Int64
        var step: Step
        var at: ContinuousClock.Instant
    }

    private let entries = Mutex<[Entry]>([])

    func record(_ node: String, _ delivery: ReactorDelivery, _ step: Step) {
        entries.withLock { $0.append(Entry(node: node, key: delivery.idempotencyKey, position: delivery.event.position, step: step, at: .now)) }
    }

    var all: [Entry] { entries.withLock { $0 } }
}

/// Two nodes on one PostgreSQL database, as two stores in one process: node `a` reaches the
/// database through a ``TCPProxy`` that the test cuts, node `b` directly. Each runs the
/// asynchronous ``TallyProjection`` and the reactor `mail`, under leases of 6 s.
@Suite("PostgreSQL: the lease holder cut off from the database", TestPostgres.enabled, .serialized)
struct PostgresCutOffTests {
    static let lease: Duration = .seconds(6)

    /// Node `name`'s runners. Its reactor handler records each delivery; on node `a`, the
    /// delivery of an event marked `slow` is a side effect that takes 60 s (unless cancelled).
    func node(_ name: String, _ store: PostgresEventStore, _ journal: HandlerJournal) -> ServiceGroup {
        let lease = LeaseOptions(duration: Self.lease, owner: name)
        let reactor = Reactor(name: "mail", filter: LogFilter(types: ["Tallied"]), startsAtBeginning: true, maximumAttempts: 100, backoff: .milliseconds(50), maximumBackoff: .seconds(1), concurrency: 1) { delivery in
            journal.record(name, delivery, .started)
            if name == "a", delivery.event.data["slow"] == .bool(true) {
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    journal.record(name, delivery, .cancelled)
                    throw error
                }
            }
            journal.record(name, delivery, .completed)
            return []
        }
        return ServiceGroup(configuration: .init(services: [
            ProjectionRunner(store: store, logger: testLogger, pageSize: 50, lease: lease),
            ReactorRunner(store: store, reactor: reactor, logger: testLogger, lease: lease),
        ], gracefulShutdownSignals: [], logger: testLogger))
    }

    func append(_ store: PostgresEventStore, _ positions: ClosedRange<Int>, slow: Int? = nil) async throws {
        for position in positions {
            try await store.append(to: StreamName("tally-\(position % 3)"), [EventData(type: "Tallied", data: position == slow ? ["slow": true] : [:])])
        }
    }

    @Test("the holder of a reactor's and a projection's leases, cut off mid-delivery, stops the work before its leases expire; the other node takes over; each side effect happens once and the projection equals a rebuild")
    func holderCutOff() async throws {
        var configuration = TestPostgres.freshConfiguration()
        configuration.projection = TallyProjection()
        configuration.lifecycle = .async
        let proxy = try await TCPProxy(to: configuration.host, port: configuration.port)
        var throughProxy = configuration
        throughProxy.host = "127.0.0.1"
        throughProxy.port = proxy.port
        do {
            try await TestPostgres.withFreshSchema(configuration) { configuration in
                try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger) { b in
                    try await PostgresEventStore.withStore(configuration: throughProxy, logger: testLogger) { a in
                        try await scenario(a: a, b: b, proxy: proxy)
                    }
                }
            }
            await proxy.stop()
        } catch {
            await proxy.stop()
            throw error
        }
    }

    func scenario(a: PostgresEventStore, b: PostgresEventStore, proxy: TCPProxy) async throws {
        let journal = HandlerJournal()
        let groupA = node("a", a, journal), groupB = node("b", b, journal)
        let reactorLease = ReactorRunner.leaseName("mail"), projectionLease = ProjectionRunner.leaseName("tally")
        @Sendable func holders() async throws -> [String?] {
            [try await b.leaseHolder(reactorLease), try await b.leaseHolder(projectionLease)]
        }
        @Sendable func caughtUp(_ position: Int64) async throws -> Bool {
            let delivered = try await b.reactorPosition("mail"), projected = try await b.projectionCheckpoint()
            return delivered == position && projected == position
        }
        var cutAt: ContinuousClock.Instant?
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await groupA.run() }
            do {
                try await eventually("a takes both leases") { try await holders() == ["a", "a"] }
                tasks.addTask { try await groupB.run() }
                try await append(b, 1...10)
                try await eventually("a delivers and projects the first ten") { try await caughtUp(10) }

                // The next page: a's delivery of event 11 is under way (confirmed) when a is cut off.
                try await append(b, 11...20, slow: 11)
                try await eventually("a starts the slow delivery of event 11") {
                    journal.all.contains { $0.node == "a" && $0.position == 11 && $0.step == .started }
                }
                cutAt = .now
                proxy.cut()
                try await append(b, 21...30)
                try await eventually("a's slow delivery ends") {
                    journal.all.contains { $0.node == "a" && $0.position == 11 && $0.step != .started }
                }
                try await eventually("b takes both leases over") { try await holders() == ["b", "b"] }
                try await eventually("b delivers and projects the rest") { try await caughtUp(30) }

                // The network heals: a reads and writes again, but stands by.
                proxy.restore()
                try await eventually("a reaches the database again") { (try? await a.headPosition()) == 30 }
                try await append(a, 31...35)
                try await eventually("b delivers and projects what a appended") { try await caughtUp(35) }
                #expect(try await holders() == ["b", "b"], "b keeps both leases once a is back")
                await groupA.triggerGracefulShutdown()
                await groupB.triggerGracefulShutdown()
                try await tasks.waitForAll()
            } catch {
                await groupA.triggerGracefulShutdown()
                await groupB.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }

        let entries = journal.all
        let cut = try #require(cutAt)
        let takeover = try #require(entries.first { $0.node == "b" }?.at, "b delivered something")
        let slow = try #require(entries.first { $0.node == "a" && $0.position == 11 && $0.step != .started })
        #expect(slow.step == .cancelled, "a stopped the delivery it could not confirm its lease for, instead of completing it")
        #expect(slow.at < takeover, "a stopped \(slow.at - cut) after the cut, b started \(takeover - cut) after it: a must stop first")
        #expect(!entries.contains { $0.node == "a" && $0.step == .completed && $0.at > cut }, "a completed nothing once cut off")
        #expect(!entries.contains { $0.node == "a" && $0.at > takeover }, "a did nothing once b had taken over")

        // Each event's side effect happened once, under its one idempotency key.
        let log = try await b.readLog(after: 0, limit: 1_000, filter: LogFilter()).events
        let keys = log.map { "mail:" + $0.id.uuidString.lowercased() }
        let completed = entries.filter { $0.step == .completed }
        #expect(completed.map(\.key).sorted() == keys.sorted(), "one completed delivery per idempotency key, none missing")
        #expect(completed.filter { $0.node == "a" }.map(\.position) == Array(1...10))
        #expect(completed.filter { $0.node == "b" }.map(\.position) == Array(11...35))

        // The projection holds each event once, and equals its rebuild.
        let expected = TallyProjection.expected(log)
        var documents: [Document?] = []
        for id in 0..<3 {
            let document = try await b.document(entity: "tally", id: String(id))
            documents.append(document)
            let found = TallyProjection.tally(of: document)
            #expect(found?.count == expected[String(id)]?.count && found?.events == expected[String(id)]?.events, "tally \(id): \(found.map { "count \($0.count)" } ?? "none"), expected \(expected[String(id)]?.count ?? 0)")
        }
        #expect(try await b.rebuildDocuments() == 35)
        for id in 0..<3 {
            #expect(try await b.document(entity: "tally", id: String(id)) == documents[id], "tally \(id) equals its rebuild")
        }
    }
}
