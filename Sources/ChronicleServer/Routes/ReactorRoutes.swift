import ChronicleCore
import ChronicleReactors
import Foundation
import Hummingbird

/// Where a reactor is, for `/v1/reactors` and `/metrics`.
struct ReactorStatus {
    var name: String
    /// `nil` until the runner has started.
    var checkpoint: Int64?
    var lag: Int64
    /// Age of the oldest event after the checkpoint, in seconds (0 when caught up).
    var lagSeconds: Double
    var parked: Int
    var concurrency: Int
    /// This node's runner since it started.
    var statistics: ReactorStatistics.Snapshot
    /// The node whose runner holds the reactor's lease, if the store has leases and one does.
    var runningOn: String?

    var json: String {
        let last = statistics.lastDeliveredAtMicroseconds.map { "\"\(Timestamp.iso8601(microseconds: $0))\"" } ?? "null"
        return "{\"name\":\(name.jsonQuoted),\"checkpoint\":\(checkpoint.map(String.init) ?? "null"),\"lag\":{\"events\":\(lag),\"seconds\":\(lagSeconds)},"
            + "\"concurrency\":\(concurrency),\"inFlight\":\(statistics.inFlight),\"delivered\":\(statistics.delivered),\"failures\":\(statistics.failures),"
            + "\"parked\":\(parked),\"lastDeliveredAt\":\(last),\"runningOn\":\(runningOn?.jsonQuoted ?? "null")}"
    }
}

extension ChronicleServer {
    /// Each reactor's status, by name.
    func reactorStatuses() async throws -> [ReactorStatus] {
        guard let store = store as? any ReactorStore, !reactors.isEmpty else { return [] }
        let head = try await store.headPosition()
        var statuses: [ReactorStatus] = []
        for reactor in reactors.sorted(by: { $0.name < $1.name }) {
            statuses.append(try await reactorStatus(reactor, in: store, head: head))
        }
        return statuses
    }

    private func reactorStatus(_ reactor: Reactor, in store: any ReactorStore, head: Int64) async throws -> ReactorStatus {
        let position = try await store.reactorPosition(reactor.name)
        let lag = position.map { head - $0 } ?? 0
        var lagSeconds = 0.0
        if let position, lag > 0, let next = try await store.readLog(after: position, limit: 1).events.first {
            lagSeconds = max(0, Double(Timestamp.now() - next.recordedAtMicroseconds) / 1_000_000)
        }
        return ReactorStatus(
            name: reactor.name, checkpoint: position, lag: lag, lagSeconds: lagSeconds, parked: try await store.parkedEvents(reactor.name).count,
            concurrency: reactor.concurrency, statistics: reactor.statistics.snapshot,
            runningOn: try await (store as? any LeaseStore)?.leaseHolder(ReactorRunner.leaseName(reactor.name))
        )
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
            let entries = try await self.reactorStatuses().map(\.json)
            return json(.ok, "{\"reactors\":[\(entries.joined(separator: ","))]}")
        }

        router.get("/v1/reactors/{name}") { _, context in
            try context.require(.read)
            let name = try context.parameters.decoded("name")
            let (reactor, store) = try lookUp(name)
            return json(.ok, try await self.reactorStatus(reactor, in: store, head: try await store.headPosition()).json)
        }

        router.get("/v1/reactors/{name}/parked") { _, context in
            try context.require(.read)
            let name = try context.parameters.decoded("name")
            let parked = try await lookUp(name).1.parkedEvents(name)
            let entries = parked.map { "{\"eventId\":\"\($0.eventID.uuidString.lowercased())\",\"position\":\($0.position),\"attempts\":\($0.attempts),\"error\":\($0.error.jsonQuoted),\"parkedAt\":\"\(Timestamp.iso8601(microseconds: $0.parkedAtMicroseconds))\"}" }
            return json(.ok, "{\"reactor\":\(name.jsonQuoted),\"parked\":[\(entries.joined(separator: ","))]}")
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
            return json(.ok, "{\"reactor\":\(name.jsonQuoted),\"skipped\":\"\(skipped.eventID.uuidString.lowercased())\",\"position\":\(skipped.position)}")
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
            return json(.ok, "{\"reactor\":\(name.jsonQuoted),\"retried\":\"\(id.uuidString.lowercased())\",\"delivered\":\(delivered)}")
        }
    }
}
