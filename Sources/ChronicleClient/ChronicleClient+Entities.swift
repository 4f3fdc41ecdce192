import ChronicleCore
import Foundation
import NIOHTTP1

extension ChronicleClient {
    /// Posts an event by its type (`POST /v1/events/{type}`): the server's schema maps the
    /// type to its entity, checks the payload and the rules, and appends it.
    ///
    /// The receipt's ``WriteReceipt/correlationId`` follows the write's asynchronous work
    /// (``outcome(of:matching:after:timeout:)``) and its ``WriteReceipt/position`` reads it
    /// back (``readYourWrite(_:_:after:wait:includeDeleted:projection:)``).
    ///
    /// The client gives the event its id (the `Idempotency-Key` header), so a write resent
    /// after a lost connection or a `503` is stored once: the server answers the resend with
    /// the original result (``WriteReceipt/replayed``).
    ///
    /// - Parameters:
    ///   - ifMatch: the entity's version this write expects (its ETag), for a `409` if it moved.
    ///   - correlationId: the request's correlation id; by default a new UUID.
    /// - Throws: ``ChronicleClientError``: `rule-violated` (branch on ``ChronicleClientError/rule``),
    ///   `invalid-payload`, `unknown-event-type`, `entity-not-found`…
    @discardableResult
    public func post(eventType: String, payload: JSONValue, ifMatch version: Int64? = nil, correlationId: String? = nil) async throws -> WriteReceipt {
        let correlationId = correlationId ?? Self.newCorrelationId()
        // The event's id, made here: a resend after a lost answer is the same write, which the
        // server stores once and answers with the original result (`replayed`).
        let eventId = UUID.timeOrdered().uuidString.lowercased()
        let request = ClientRequest(
            method: .POST, path: "/v1/events/" + PathSegment.encode(eventType), body: try Self.body(payload),
            headers: [("Idempotency-Key", eventId)] + (version.map { [("If-Match", "\"\($0)\"")] } ?? []), correlationId: correlationId
        )
        return try await call(request, as: WriteReceipt.self).0
    }

    /// An entity's current document.
    ///
    /// - Throws: ``ChronicleClientError`` `entity-not-found`, `entity-deleted` (unless
    ///   `includeDeleted`), `projection-not-found`, `no-schema`.
    public func entity(_ entity: String, _ id: String, includeDeleted: Bool = false, projection: String? = nil) async throws -> EntityDocument {
        try await document(entity, id, [], includeDeleted: includeDeleted, projection: projection)
    }

    /// An entity's document as it was at `point`: a version (`"3"`) or an RFC 3339 instant
    /// (`"2026-11-27T10:00:00Z"`), folded from its events (time travel).
    public func entity(_ entity: String, _ id: String, at point: String, projection: String? = nil) async throws -> EntityDocument {
        try await document(entity, id, [("at", point)], includeDeleted: false, projection: projection)
    }

    /// An entity's document in the read model as it was right after a log position
    /// (`"42"`) or at an RFC 3339 instant: the same cut as a list `asOf:` gives.
    ///
    /// - Throws: ``ChronicleClientError`` `moment-out-of-range` (its ``ChronicleClientError/problem``
    ///   holds `head`, `first` or `historyFrom`), `not-caught-up`, `entity-not-found`.
    public func entity(_ entity: String, _ id: String, asOf moment: String, includeDeleted: Bool = false, projection: String? = nil) async throws -> EntityDocument {
        try await document(entity, id, [("asOf", moment)], includeDeleted: includeDeleted, projection: projection)
    }

    /// An entity's document as it was after `version`.
    public func entity(_ entity: String, _ id: String, version: Int64, projection: String? = nil) async throws -> EntityDocument {
        try await document(entity, id, [("version", String(version))], includeDeleted: false, projection: projection)
    }

    /// An entity's document once the read models include `position` — the position an
    /// append or a post answered — so the read sees that write (read your own write).
    ///
    /// The server waits up to `wait` (at most 30 s); if the read models are still behind, it
    /// answers `503 not-caught-up`, which this client retries as its ``RetryPolicy`` allows
    /// before throwing it.
    public func readYourWrite(_ entity: String, _ id: String, after position: Int64, wait: Duration = .seconds(5), includeDeleted: Bool = false, projection: String? = nil) async throws -> EntityDocument {
        let milliseconds = min(max(wait.milliseconds, 0), 30_000)
        return try await document(entity, id, [("after", String(position)), ("wait", "\(milliseconds)ms")], includeDeleted: includeDeleted, projection: projection)
    }

    private func document(_ entity: String, _ id: String, _ query: [(String, String)], includeDeleted: Bool, projection: String?) async throws -> EntityDocument {
        var query = query
        if includeDeleted { query.append(("includeDeleted", "true")) }
        if let projection { query.append(("projection", projection)) }
        return try await call(ClientRequest(method: .GET, path: Self.entityPath(entity, id), query: query), as: EntityDocument.self).0
    }

    /// A page of an entity's documents: `filters` on top-level fields, sorted by `sort`
    /// (`"email"`, or `"-email"` for descending; ties by id), continued with the previous
    /// page's ``EntityPage/next`` as `cursor`.
    public func list(
        _ entity: String, filters: [EntityFilter] = [], sort: String? = nil, limit: Int = 100, cursor: String? = nil,
        includeDeleted: Bool = false, asOf: String? = nil, projection: String? = nil
    ) async throws -> EntityPage {
        var query: [(String, String)] = [("limit", String(min(max(limit, 1), 1000)))]
        if let asOf { query.append(("asOf", asOf)) }
        for filter in filters {
            query.append((filter.comparison == .eq ? filter.field : "\(filter.field)[\(filter.comparison.rawValue)]", filter.value.canonicalText))
        }
        if let sort { query.append(("sort", sort)) }
        if let cursor { query.append(("cursor", cursor)) }
        if includeDeleted { query.append(("includeDeleted", "true")) }
        if let projection { query.append(("projection", projection)) }
        return try await call(ClientRequest(method: .GET, path: "/v1/entities/" + PathSegment.encode(entity), query: query), as: EntityPage.self).0
    }

    /// Each event of an entity with the JSON Patch it made to the state, oldest first.
    public func history(_ entity: String, _ id: String, projection: String? = nil) async throws -> EntityHistory {
        let query = projection.map { [("projection", $0)] } ?? []
        return try await call(ClientRequest(method: .GET, path: Self.entityPath(entity, id) + "/history", query: query), as: EntityHistory.self).0
    }

    /// The JSON Patch between two points of an entity, each a version or an RFC 3339 instant.
    public func diff(_ entity: String, _ id: String, from: String, to: String, projection: String? = nil) async throws -> EntityDiff {
        let query = [("from", from), ("to", to)] + (projection.map { [("projection", $0)] } ?? [])
        return try await call(ClientRequest(method: .GET, path: Self.entityPath(entity, id) + "/diff", query: query), as: EntityDiff.self).0
    }
}
