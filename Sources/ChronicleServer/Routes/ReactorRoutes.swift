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
    var parked: Int
}

extension ChronicleServer {
    /// Each reactor's checkpoint, lag and parked count, by name.
    func reactorStatuses() async throws -> [ReactorStatus] {
        guard let store = store as? any ReactorStore, !reactors.isEmpty else { return [] }
        let head = try await store.headPosition()
        var statuses: [ReactorStatus] = []
        for name in reactors.map(\.name).sorted() {
            let position = try await store.reactorPosition(name)
            statuses.append(ReactorStatus(name: name, checkpoint: position, lag: position.map { head - $0 } ?? 0, parked: try await store.parkedEvents(name).count))
        }
        return statuses
    }

    func registerReactorRoutes(on router: Router<ChronicleRequestContext>) {
        let reactors = reactors
        let names = reactors.map(\.name)
        let store = store as? any ReactorStore

        @Sendable func reactorStore(_ name: String? = nil) throws -> any ReactorStore {
            guard let store, name.map(names.contains) ?? true else {
                throw Problem(.notFound, code: "reactor-not-found", title: "Reactor not found", detail: "There is no reactor named \(name ?? ""). See /v1/reactors.")
            }
            return store
        }

        router.get("/v1/reactors") { _, context in
            try context.require(.read)
            let entries = try await self.reactorStatuses().map { status in
                "{\"name\":\(status.name.jsonQuoted),\"checkpoint\":\(status.checkpoint.map(String.init) ?? "null"),\"lag\":{\"events\":\(status.lag)},\"parked\":\(status.parked)}"
            }
            return json(.ok, "{\"reactors\":[\(entries.joined(separator: ","))]}")
        }

        router.get("/v1/reactors/{name}/parked") { _, context in
            try context.require(.read)
            let name = try context.parameters.decoded("name")
            let parked = try await reactorStore(name).parkedEvents(name)
            let entries = parked.map { "{\"eventId\":\"\($0.eventID.uuidString.lowercased())\",\"position\":\($0.position),\"attempts\":\($0.attempts),\"error\":\($0.error.jsonQuoted),\"parkedAt\":\"\(Timestamp.iso8601(microseconds: $0.parkedAtMicroseconds))\"}" }
            return json(.ok, "{\"reactor\":\(name.jsonQuoted),\"parked\":[\(entries.joined(separator: ","))]}")
        }

        router.post("/v1/reactors/{name}/parked/{id}/skip") { _, context in
            try context.require(.admin)
            let name = try context.parameters.decoded("name")
            guard let id = UUID(uuidString: try context.parameters.decoded("id")) else {
                throw Problem.invalid("The event id in the path is not a UUID.")
            }
            guard let skipped = try await reactorStore(name).unpark(name, eventID: id) else {
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
            let store = try reactorStore(name)
            guard let reactor = reactors.first(where: { $0.name == name }), let parked = try await store.unpark(name, eventID: id) else {
                throw Problem(.notFound, code: "parked-event-not-found", title: "Parked event not found", detail: "Reactor \(name) has no parked event \(id.uuidString.lowercased()).")
            }
            let delivered = try await reactor.retry(parked, in: store)
            return json(.ok, "{\"reactor\":\(name.jsonQuoted),\"retried\":\"\(id.uuidString.lowercased())\",\"delivered\":\(delivered)}")
        }
    }
}
