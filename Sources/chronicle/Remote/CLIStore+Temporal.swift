import ChronicleCore
import ChronicleServer
import Foundation

extension LocalCLIStore {
    /// The position a moment option names, checked as the server checks it.
    private func position(_ text: String, _ option: String) async throws -> Int64 {
        guard let moment = LogMoment(parsing: text) else {
            throw CommandFailure(message: "--\(option) must be a log position (0 or more) or an RFC 3339 instant such as 2026-11-27T10:00:00Z; got \(text.debugDescription).", exitCode: 64)
        }
        return try await moment.resolve(in: store, documents: store, name: "--\(option)")
    }

    func entity(_ entity: String, _ id: String, asOf: String, includeDeleted: Bool, projection name: String?) async throws -> DocumentResponse {
        _ = try requireProjection(name)
        let position = try await position(asOf, "as-of")
        guard let document = try await store.document(entity: entity, id: id, asOf: position) else {
            throw CommandFailure(message: "there was no \(entity) with id \(id) as of position \(position).")
        }
        if document.deleted && !includeDeleted {
            throw CommandFailure(message: "\(entity) \(id) was deleted as of position \(position); add --include-deleted to see its last state.")
        }
        return DocumentResponse(document, asOf: position)
    }

    func list(_ entity: String, asOf: String?, limit: Int, cursor: String?, includeDeleted: Bool, projection name: String?) async throws -> DocumentListResponse {
        _ = try requireProjection(name)
        var query = DocumentQuery(entity: entity, limit: limit, includeDeleted: includeDeleted)
        if let cursor {
            guard let parsed = DocumentCursor(token: cursor) else { throw CommandFailure(message: "--cursor is not one a list gave; pass its next as it is.", exitCode: 64) }
            query.cursor = parsed
        }
        guard let asOf else { return DocumentListResponse(entity: entity, page: try await store.documents(query)) }
        let position = try await position(asOf, "as-of")
        return DocumentListResponse(entity: entity, page: try await store.documents(query, asOf: position), asOf: position)
    }

    func changes(from: String, to: String, entity: String?, limit: Int, cursor: String?, projection name: String?) async throws -> ChangesResponse {
        _ = try requireProjection(name)
        guard let start = LogMoment(parsing: from), let end = LogMoment(parsing: to) else {
            throw CommandFailure(message: "--from and --to must be log positions (0 or more) or RFC 3339 instants such as 2026-11-27T10:00:00Z.", exitCode: 64)
        }
        var after: ChangeCursor?
        if let cursor {
            guard let parsed = ChangeCursor(token: cursor) else { throw CommandFailure(message: "--cursor is not one a page of changes gave; pass its next as it is.", exitCode: 64) }
            after = parsed
        }
        let range = try await LogMoment.range(from: start, to: end, in: store, documents: store)
        let page = try await store.changes(from: range.from, to: range.to, entity: entity, after: after, limit: limit)
        return ChangesResponse(from: range.from, to: range.to, page: page)
    }

    func blame(_ entity: String, _ id: String, asOf: String?, projection name: String?) async throws -> BlameResponse {
        var position: Int64?
        if let asOf { position = try await self.position(asOf, "as-of") }
        guard let blame = EntityBlame(try await timeline(entity, id, name), upTo: position) else {
            throw CommandFailure(message: "there was no \(entity) with id \(id)\(position.map { " as of position \($0)" } ?? "").")
        }
        return BlameResponse(blame, asOf: position)
    }

    func effects(_ position: Int64, projection name: String?) async throws -> EventEffectsResponse {
        let projection = try requireProjection(name)
        return EventEffectsResponse(try await EventEffects.load(position: position, store: store, documents: store, projection: projection), projection: projection.name)
    }
}

extension RemoteCLIStore {
    private func path(_ base: String, _ items: [(String, String?)]) -> String {
        var components = URLComponents()
        components.queryItems = items.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        let query = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
        return query.isEmpty ? base : base + "?" + query
    }

    private func entityPath(_ entity: String, _ id: String?) -> String {
        "/v1/entities/\(PathSegment.encode(entity))" + (id.map { "/" + PathSegment.encode($0) } ?? "")
    }

    func entity(_ entity: String, _ id: String, asOf: String, includeDeleted: Bool, projection: String?) async throws -> DocumentResponse {
        try await get(path(entityPath(entity, id), [("asOf", asOf), ("includeDeleted", includeDeleted ? "true" : nil), ("projection", projection)]), as: DocumentResponse.self)
    }

    func list(_ entity: String, asOf: String?, limit: Int, cursor: String?, includeDeleted: Bool, projection: String?) async throws -> DocumentListResponse {
        try await get(path(entityPath(entity, nil), [
            ("asOf", asOf), ("limit", String(limit)), ("cursor", cursor), ("includeDeleted", includeDeleted ? "true" : nil), ("projection", projection),
        ]), as: DocumentListResponse.self)
    }

    func changes(from: String, to: String, entity: String?, limit: Int, cursor: String?, projection: String?) async throws -> ChangesResponse {
        try await get(path("/v1/changes", [("from", from), ("to", to), ("entity", entity), ("limit", String(limit)), ("cursor", cursor), ("projection", projection)]), as: ChangesResponse.self)
    }

    func blame(_ entity: String, _ id: String, asOf: String?, projection: String?) async throws -> BlameResponse {
        try await get(path(entityPath(entity, id) + "/blame", [("asOf", asOf), ("projection", projection)]), as: BlameResponse.self)
    }

    func effects(_ position: Int64, projection: String?) async throws -> EventEffectsResponse {
        try await get(path("/v1/events/\(position)/effects", [("projection", projection)]), as: EventEffectsResponse.self)
    }
}
