import ChronicleCore
import Hummingbird

extension ChronicleServer {
    /// The read model across time: what changed between two moments, and which event set
    /// each field of an entity (as-of reads of entities are in ``registerEntityRoutes(on:)``).
    func registerTemporalRoutes(on router: Router<ChronicleRequestContext>) {
        let projections = projections

        router.get("/v1/changes") { request, context in
            try context.require(.read)
            let reads = try EntityReads.select(request, from: projections)
            let query = request.uri.queryParameters
            guard let fromText = query["from"].map(String.init), let toText = query["to"].map(String.init) else {
                throw Problem.invalid("changes needs from and to: log positions or RFC 3339 instants, such as ?from=10&to=20.")
            }
            guard let from = LogMoment(parsing: fromText), let to = LogMoment(parsing: toText) else {
                let bad = LogMoment(parsing: fromText) == nil ? ("from", fromText) : ("to", toText)
                throw Problem.invalid("\(bad.0) must be a log position (0 or more) or an RFC 3339 instant such as 2026-11-27T10:00:00Z; got \(bad.1.debugDescription).")
            }
            let range = try await LogMoment.range(from: from, to: to, in: reads.store, documents: reads.documents)
            var cursor: ChangeCursor?
            if let token = query["cursor"] {
                guard let parsed = ChangeCursor(token: String(token)) else {
                    throw Problem.invalid("cursor is not one this server gave; pass the `next` of the previous page as it is.")
                }
                cursor = parsed
            }
            let entity = query["entity"].map(String.init)
            let page = try await reads.documents.changes(from: range.from, to: range.to, entity: entity, after: cursor, limit: try LogQuery.limit(query["limit"]))
            return try Response.json(.ok, ChangesResponse(from: range.from, to: range.to, page: page), headers: request.nextLink("cursor", page.next?.token))
        }

        // `{type}`: Hummingbird keeps one parameter name per position of its route tree, and
        // `POST /v1/events/{type}` names this one; here it is the event's position.
        router.get("/v1/events/{type}/effects") { request, context in
            try context.require(.read)
            let reads = try EntityReads.select(request, from: projections)
            let text = try context.parameters.decoded("type")
            guard let position = Int64(text), position >= 1 else {
                throw Problem.invalid("position must be a log position, 1 or more; got \(text.debugDescription).")
            }
            let effects = try await EventEffects.load(position: position, store: reads.store, documents: reads.documents, projection: reads.projection)
            return try Response.json(.ok, EventEffectsResponse(effects, projection: reads.name))
        }

        router.get("/v1/entities/{entity}/{id}/blame") { request, context in
            try context.require(.read)
            let reads = try EntityReads.select(request, from: projections)
            let entity = try context.parameters.decoded("entity"), id = try context.parameters.decoded("id")
            let asOf = try await reads.position(request, "asOf")
            let timeline = try await reads.timeline(entity: entity, id: id)
            guard let blame = EntityBlame(timeline, upTo: asOf) else {
                let when = asOf.map { " as of position \($0)" } ?? ""
                throw Problem(.notFound, code: "entity-not-found", title: "Entity not found", detail: "There was no \(entity) with id \(id)\(when).")
            }
            return try Response.json(.ok, BlameResponse(blame, asOf: asOf))
        }
    }
}
