import ChronicleCore
import ChronicleReactors
import Foundation
import Hummingbird

/// Where a reactor is, for `/v1/reactors` and `/metrics`: its wire status and this node's
/// runner statistics (the metrics count what this node parked, the status what the store holds).
struct ReactorReport {
    var status: ReactorStatus
    var statistics: ReactorStatistics.Snapshot
}

extension ChronicleServer {
    /// Each reactor's status, by name.
    func reactorStatuses() async throws -> [ReactorReport] {
        guard let store = store as? any ReactorStore, !reactors.isEmpty else { return [] }
        let head = try await store.headPosition()
        var statuses: [ReactorReport] = []
        for reactor in reactors.sorted(by: { $0.name < $1.name }) {
            statuses.append(try await reactorStatus(reactor, in: store, head: head))
        }
        return statuses
    }

    private func reactorStatus(_ reactor: Reactor, in store: any ReactorStore, head: Int64) async throws -> ReactorReport {
        let position = try await store.reactorPosition(reactor.name)
        let lag = position.map { head - $0 } ?? 0
        var lagSeconds = 0.0
        if let position, lag > 0, let next = try await store.readLog(after: position, limit: 1).events.first {
            lagSeconds = max(0, Double(Timestamp.now() - next.recordedAtMicroseconds) / 1_000_000)
        }
        let statistics = reactor.statistics.snapshot
        let status = ReactorStatus(
            name: reactor.name, checkpoint: position, lag: Lag(events: lag, seconds: lagSeconds), concurrency: reactor.concurrency,
            inFlight: statistics.inFlight, delivered: statistics.delivered, failures: statistics.failures,
            parked: try await store.parkedEvents(reactor.name).count,
            lastDeliveredAt: statistics.lastDeliveredAtMicroseconds.map { Timestamp.iso8601(microseconds: $0) },
            runningOn: try await (store as? any LeaseStore)?.leaseHolder(ReactorRunner.leaseName(reactor.name)),
            lastError: statistics.lastError,
            lastErrorAt: statistics.lastErrorAtMicroseconds.map { Timestamp.iso8601(microseconds: $0) },
            nextAttemptAt: statistics.nextAttemptAtMicroseconds.map { Timestamp.iso8601(microseconds: $0) }
        )
        return ReactorReport(status: status, statistics: statistics)
    }

    func registerReactorRoutes(on router: Router<ChronicleRequestContext>) {
        let reactors = reactors
        let store = store as? any ReactorStore

        /// The named reactor and its store, or a `404`.
        @Sendable func lookUp(_ name: String) throws -> (Reactor, any ReactorStore) {
            guard let store, let reactor = reactors.first(where: { $0.name == name }) else {
                throw Problem(.notFound, code: "reactor-not-found", title: "Reactor not found", detail: "There is no reactor named \(name). See /v1/reactors.")
            }
            return (reactor, store)
        }

        router.get("/v1/reactors") { _, context in
            try context.require(.read)
            return try Response.json(.ok, ReactorList(try await self.reactorStatuses().map(\.status)))
        }

        router.get("/v1/reactors/{name}") { _, context in
            try context.require(.read)
            let name = try context.parameters.decoded("name")
            let (reactor, store) = try lookUp(name)
            return try Response.json(.ok, try await self.reactorStatus(reactor, in: store, head: try await store.headPosition()).status)
        }

        router.get("/v1/reactors/{name}/parked") { _, context in
            try context.require(.read)
            let name = try context.parameters.decoded("name")
            let parked = try await lookUp(name).1.parkedEvents(name)
            return try Response.json(.ok, ParkedEventList(reactor: name, parked: parked))
        }

        router.post("/v1/reactors/{name}/parked/{id}/skip") { _, context in
            try context.require(.admin)
            let name = try context.parameters.decoded("name")
            guard let id = UUID(uuidString: try context.parameters.decoded("id")) else {
                throw Problem.invalid("The event id in the path is not a UUID.")
            }
            guard let skipped = try await lookUp(name).1.unpark(name, eventID: id) else {
                throw Problem(.notFound, code: "parked-event-not-found", title: "Parked event not found", detail: "Reactor \(name) has no parked event \(id.uuidString.lowercased()).")
            }
            return try Response.json(.ok, ParkedEventSkipResponse(reactor: name, skipped: skipped.eventID, position: skipped.position))
        }

        router.post("/v1/reactors/{name}/parked/{id}/retry") { _, context in
            try context.require(.admin)
            let name = try context.parameters.decoded("name")
            guard let id = UUID(uuidString: try context.parameters.decoded("id")) else {
                throw Problem.invalid("The event id in the path is not a UUID.")
            }
            let (reactor, store) = try lookUp(name)
            guard let parked = try await store.unpark(name, eventID: id) else {
                throw Problem(.notFound, code: "parked-event-not-found", title: "Parked event not found", detail: "Reactor \(name) has no parked event \(id.uuidString.lowercased()).")
            }
            let delivered = try await reactor.retry(parked, in: store)
            return try Response.json(.ok, ParkedEventRetryResponse(reactor: name, retried: id, delivered: delivered))
        }
    }
}
