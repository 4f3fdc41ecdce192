import ChronicleCore

extension ChronicleClient {
    /// Every entity whose document changed between two moments (log positions or RFC 3339
    /// instants), with its documents at both ends and the patch between them, in position
    /// order of its last change; continue with the page's ``EntityChanges/next`` as `cursor`.
    ///
    /// - Throws: ``ChronicleClientError`` `moment-out-of-range` (beyond the head, in the
    ///   future, before the first event, or `from` after `to`), `not-caught-up`.
    public func changes(from: String, to: String, entity: String? = nil, limit: Int = 100, cursor: String? = nil, projection: String? = nil) async throws -> EntityChanges {
        var query: [(String, String)] = [("from", from), ("to", to), ("limit", String(min(max(limit, 1), 1000)))]
        if let entity { query.append(("entity", entity)) }
        if let cursor { query.append(("cursor", cursor)) }
        if let projection { query.append(("projection", projection)) }
        return try await call(ClientRequest(method: .GET, path: "/v1/changes", query: query), as: EntityChanges.self).0
    }

    /// For each field of an entity's state (now, or as of a moment), the event that last set it.
    public func blame(_ entity: String, _ id: String, asOf moment: String? = nil, projection: String? = nil) async throws -> EntityBlameResult {
        var query: [(String, String)] = []
        if let moment { query.append(("asOf", moment)) }
        if let projection { query.append(("projection", projection)) }
        return try await call(ClientRequest(method: .GET, path: Self.entityPath(entity, id) + "/blame", query: query), as: EntityBlameResult.self).0
    }

    /// Every document the event at `position` changed — its own entity and those its type's
    /// `id:`/`each:` declarations name — with the JSON Patch it made to each.
    public func effects(ofEventAt position: Int64, projection: String? = nil) async throws -> EventEffectsResult {
        let query = projection.map { [("projection", $0)] } ?? []
        let wire = try await call(ClientRequest(method: .GET, path: "/v1/events/\(position)/effects", query: query), as: WireEventEffects.self).0
        return EventEffectsResult(projection: wire.projection, event: wire.event.event, effects: wire.effects)
    }
}
