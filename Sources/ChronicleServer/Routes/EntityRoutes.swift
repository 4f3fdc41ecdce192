import ChronicleCore
import ChronicleProjections
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore

/// Reads of entities: current documents, and their past folded from the events.
struct EntityReads: Sendable {
    let store: any EventStore
    let documents: any DocumentStore
    let projection: any Projection
    let lifecycle: ProjectionLifecycle
    /// The projection's rebuilds, for `/v1/projections`.
    let runs = ProjectionRuns()

    /// The projection's name.
    var name: String { projection.name }

    /// The stream of an entity (`user`, `1234` → `user-1234`).
    func stream(entity: String, id: String) throws -> StreamName {
        guard let stream = projection.stream(entity: entity, id: id) else {
            return try StreamName("\(entity)-\(id)")
        }
        return stream
    }

    /// The entity's timeline (``EntityTimeline/load(entity:id:upTo:store:documents:projection:)``);
    /// with `point`, only as far as needed for it, starting from the store's latest snapshot before it.
    func timeline(entity: String, id: String, upTo point: EntityTimeline.Point? = nil) async throws -> EntityTimeline {
        do {
            return try await EntityTimeline.load(entity: entity, id: id, upTo: point, store: store, documents: documents, projection: projection)
        } catch let error as ChronicleError where error.code == .streamNotFound && error.actualRevision != nil {
            throw Problem(.notFound, code: "entity-deleted", title: "Entity deleted", detail: "\(entity) \(id) was deleted; its history is hidden with its stream.")
        }
    }

    /// Parses a point (`version`, `at`, `from`, `to`).
    static func point(_ text: String, name: String) throws -> EntityTimeline.Point {
        guard let point = EntityTimeline.Point(parsing: text) else {
            throw Problem.invalid("\(name) must be a version (0 or more) or an RFC 3339 instant such as 2026-11-27T10:00:00Z; got \(text.debugDescription).")
        }
        return point
    }

    /// The document at a point, or a 404 problem saying why there is none.
    static func document(at point: EntityTimeline.Point, in timeline: EntityTimeline) throws -> Document {
        if case .version(let version) = point, let latest = timeline.latestVersion, version > latest {
            throw Problem(.notFound, code: "version-not-found", title: "Version not found", detail: "\(timeline.entity) \(timeline.id) has no version \(version); its latest is \(latest).", extensions: ["latestVersion": .integer(latest)])
        }
        guard let document = timeline.document(at: point) else {
            throw Problem(.notFound, code: "entity-not-found", title: "Entity not found", detail: "\(timeline.entity) \(timeline.id) did not exist at that point.")
        }
        return document
    }
}

extension EntityReads {
    /// The projection a request reads: `?projection=NAME`, else the primary one.
    static func select(_ request: Request, from projections: [EntityReads]) throws -> EntityReads {
        guard let primary = projections.first else {
            throw Problem(.notFound, code: "no-schema", title: "No read models", detail: "This server keeps no entities: start it with --schema FILE to declare them.")
        }
        guard let name = request.uri.queryParameters["projection"].map(String.init) else { return primary }
        guard let reads = projections.first(where: { $0.name == name }) else {
            throw Problem(.notFound, code: "projection-not-found", title: "Projection not found", detail: "There is no projection named \(name.debugDescription); this server keeps \(projections.map(\.name).joined(separator: ", ")). See /v1/projections.")
        }
        return reads
    }

    /// The position a moment parameter (`asOf`, `from`, `to`) names, checked against the log
    /// and this projection; `nil` when the parameter is absent.
    func position(_ request: Request, _ name: String) async throws -> Int64? {
        guard let text = request.uri.queryParameters[Substring(name)].map(String.init) else { return nil }
        guard let moment = LogMoment(parsing: text) else {
            throw Problem.invalid("\(name) must be a log position (0 or more) or an RFC 3339 instant such as 2026-11-27T10:00:00Z; got \(text.debugDescription).")
        }
        return try await moment.resolve(in: store, documents: documents, name: name)
    }
}

extension ChronicleServer {
    func registerEntityRoutes(on router: Router<ChronicleRequestContext>) {
        let projections = projections
        let store = store

        @Sendable func reads(_ request: Request) throws -> EntityReads { try EntityReads.select(request, from: projections) }

        router.get("/v1/entities/{entity}/{id}") { request, context in
            try context.require(.read)
            let reads = try reads(request)
            let entity = try context.parameters.decoded("entity"), id = try context.parameters.decoded("id")
            _ = try reads.stream(entity: entity, id: id)
            let query = request.uri.queryParameters
            let points = ["asOf", "version", "at"].filter { query[$0] != nil }
            guard points.count <= 1 else {
                throw Problem.invalid("Give one of asOf (the read model at a log position or instant), version or at (this entity's past), not \(points.joined(separator: " and ")).")
            }
            if let asOf = try await reads.position(request, "asOf") {
                guard let document = try await reads.documents.document(entity: entity, id: id, asOf: asOf) else {
                    throw Problem(.notFound, code: "entity-not-found", title: "Entity not found", detail: "There was no \(entity) with id \(id) as of position \(asOf).", extensions: ["asOf": .integer(asOf)])
                }
                if document.deleted && query["includeDeleted"] != "true" {
                    throw Problem(.notFound, code: "entity-deleted", title: "Entity deleted", detail: "\(entity) \(id) was deleted as of position \(asOf); add includeDeleted=true to see its last state.", extensions: ["version": .integer(document.version), "asOf": .integer(asOf)])
                }
                return try Response.json(.ok, DocumentResponse(document, asOf: asOf), headers: [.eTag: EventRequests.eTag(document.version)])
            }
            if let version = query["version"].map(String.init) ?? query["at"].map(String.init) {
                let point = try EntityReads.point(version, name: query["version"] != nil ? "version" : "at")
                let document = try EntityReads.document(at: point, in: try await reads.timeline(entity: entity, id: id, upTo: point))
                return try Response.json(.ok, DocumentResponse(document), headers: [.eTag: EventRequests.eTag(document.version)])
            }
            if let after = query["after"] {
                guard let position = Int64(after), position >= 0 else {
                    throw Problem.invalid("after must be a log position (0 or more); got \(String(after).debugDescription).")
                }
                let wait = try waitDuration(query["wait"])
                try await waitForPosition(position, store: store, documents: reads.documents, wait: wait)
            }
            guard let document = try await reads.documents.document(entity: entity, id: id) else {
                throw Problem(.notFound, code: "entity-not-found", title: "Entity not found", detail: "There is no \(entity) with id \(id).")
            }
            if document.deleted && query["includeDeleted"] != "true" {
                throw Problem(.notFound, code: "entity-deleted", title: "Entity deleted", detail: "\(entity) \(id) was deleted; add ?includeDeleted=true to see its last state.", extensions: ["version": .integer(document.version)])
            }
            let eTag = EventRequests.eTag(document.version)
            if let none = request.headers[.ifNoneMatch], none.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == eTag }) {
                return Response(status: .notModified, headers: [.eTag: eTag])
            }
            return try Response.json(.ok, DocumentResponse(document), headers: [.eTag: eTag])
        }

        router.get("/v1/entities/{entity}") { request, context in
            try context.require(.read)
            let reads = try reads(request)
            let entity = try context.parameters.decoded("entity")
            let query = try documentQuery(entity: entity, request.uri.queryParameters)
            if let asOf = try await reads.position(request, "asOf") {
                let page = try await reads.documents.documents(query, asOf: asOf)
                return try Response.json(.ok, DocumentListResponse(entity: entity, page: page, asOf: asOf), headers: request.nextLink("cursor", page.next?.token))
            }
            let page = try await reads.documents.documents(query)
            return try Response.json(.ok, DocumentListResponse(entity: entity, page: page), headers: request.nextLink("cursor", page.next?.token))
        }

        router.get("/v1/entities/{entity}/{id}/history") { request, context in
            try context.require(.read)
            let reads = try reads(request)
            let entity = try context.parameters.decoded("entity"), id = try context.parameters.decoded("id")
            let timeline = try await reads.timeline(entity: entity, id: id)
            guard !timeline.steps.isEmpty else {
                throw Problem(.notFound, code: "entity-not-found", title: "Entity not found", detail: "There is no \(entity) with id \(id).")
            }
            return try Response.json(.ok, EntityHistoryResponse(timeline))
        }

        router.get("/v1/entities/{entity}/{id}/diff") { request, context in
            try context.require(.read)
            let reads = try reads(request)
            let entity = try context.parameters.decoded("entity"), id = try context.parameters.decoded("id")
            let query = request.uri.queryParameters
            guard let fromText = query["from"].map(String.init), let toText = query["to"].map(String.init) else {
                throw Problem.invalid("diff needs from and to: versions or RFC 3339 instants, such as ?from=0&to=3.")
            }
            let from = try EntityReads.point(fromText, name: "from"), to = try EntityReads.point(toText, name: "to")
            let timeline = try await reads.timeline(entity: entity, id: id)
            let before = try EntityReads.document(at: from, in: timeline)
            let after = try EntityReads.document(at: to, in: timeline)
            return try Response.json(.ok, EntityDiffResponse(timeline, from: before, to: after))
        }
    }
}

/// Parses `GET /v1/entities/{entity}` parameters: `limit`, `cursor`, `sort` (`field` or
/// `-field`), `includeDeleted`, and filters `field=value` or `field[gte]=value` (eq, ne, gt,
/// gte, lt, lte). Values are JSON scalars (`5`, `true`, `"5"`), else plain strings.
func documentQuery(entity: String, _ parameters: HummingbirdCore.FlatDictionary<Substring, Substring>) throws -> DocumentQuery {
    func field(_ name: Substring) throws -> String {
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 }) else {
            throw Problem.invalid("\(String(name).debugDescription) is not a field name filters or sorts can use: letters, digits and _ only.")
        }
        return String(name)
    }
    var query = DocumentQuery(entity: entity)
    for (rawName, value) in parameters {
        // Hummingbird decodes values but not names; `age%5Bgte%5D` is `age[gte]`.
        let name = Substring(String(rawName).removingPercentEncoding ?? String(rawName))
        switch name {
        case "limit": query.limit = try LogQuery.limit(value)
        case "cursor":
            guard let cursor = DocumentCursor(token: String(value)) else {
                throw Problem.invalid("cursor is not one this server gave; pass the `next` of the previous page as it is.")
            }
            query.cursor = cursor
        case "sort":
            query.descending = value.hasPrefix("-")
            query.sortField = try field(value.hasPrefix("-") ? value.dropFirst() : value[...])
        case "includeDeleted":
            guard value == "true" || value == "false" else { throw Problem.invalid("includeDeleted must be true or false.") }
            query.includeDeleted = value == "true"
        case "access_token", "projection", "asOf":
            continue
        default:
            var fieldName = name
            var comparison = DocumentQuery.Comparison.eq
            if let open = name.firstIndex(of: "["), name.hasSuffix("]") {
                let operation = name[name.index(after: open)..<name.index(before: name.endIndex)]
                guard let parsed = DocumentQuery.Comparison(rawValue: String(operation)) else {
                    throw Problem.invalid("\(String(name).debugDescription): the comparisons are eq, ne, gt, gte, lt and lte, as in age[gte]=18.")
                }
                comparison = parsed
                fieldName = name[..<open]
            }
            let parsed = (try? JSONValue(parsing: String(value))) ?? .string(String(value))
            if case .object = parsed { throw Problem.invalid("Filters compare with a scalar value, not an object.") }
            if case .array = parsed { throw Problem.invalid("Filters compare with a scalar value, not an array.") }
            query.filters.append(.init(field: try field(fieldName), comparison, parsed))
        }
    }
    return query
}

/// `wait`: seconds (`2`, `0.5`) or with a unit (`500ms`, `2s`); default 5 s, at most 30 s.
func waitDuration(_ text: Substring?) throws -> Duration {
    guard let text else { return .seconds(5) }
    var number = String(text)
    var scale = 1.0
    if number.hasSuffix("ms") {
        number.removeLast(2)
        scale = 0.001
    } else if number.hasSuffix("s") {
        number.removeLast()
    }
    guard let value = Double(number), value >= 0, value * scale <= 30 else {
        throw Problem.invalid("wait must be a duration up to 30 s, such as 2s or 500ms; got \(String(text).debugDescription).")
    }
    return .milliseconds(Int64(value * scale * 1000))
}

/// Waits (bounded) until the documents include `position` (read your own write).
///
/// A position past the log's head is no write of the client's (every append answers a
/// position at or below the head): a `400`, not a wait that ends in a `503`.
func waitForPosition(_ position: Int64, store: any EventStore, documents: any DocumentStore, wait: Duration) async throws {
    if try await documents.documentsPosition() >= position { return }
    let logHead = try await store.headPosition()
    if position > logHead {
        throw Problem.invalid("after=\(position) is beyond the log's head (\(logHead)): pass a position an append answered.", ["head": .integer(logHead)])
    }
    let reached = await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            while !Task.isCancelled {
                guard let current = try? await documents.documentsPosition() else { return false }
                if current >= position { return true }
                // Woken by commits; an asynchronous projection moves between them, so look again soon.
                await withTaskGroup(of: Void.self) { waits in
                    waits.addTask { try? await store.waitForEvents(after: max(current, position - 1)) }
                    waits.addTask { try? await Task.sleep(for: .milliseconds(20)) }
                    await waits.next()
                    waits.cancelAll()
                }
            }
            return false
        }
        group.addTask {
            try? await Task.sleep(for: wait)
            return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
    if !reached {
        let head = (try? await documents.documentsPosition()) ?? 0
        throw Problem(.serviceUnavailable, code: "not-caught-up", title: "Not caught up", detail: "The read models have not reached position \(position) within \(wait) (they are at \(head)). Retry, or wait longer with ?wait=.", extensions: ["position": .integer(head), "lag": .integer(position - head)], headers: [.retryAfter: "1"])
    }
}
