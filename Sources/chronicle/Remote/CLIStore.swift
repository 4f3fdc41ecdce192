import AsyncHTTPClient
import ChronicleCore
import ChronicleProjections
import ChronicleServer
import ChronicleSQLite
import Foundation
import NIOCore
import NIOHTTP1

/// What the data commands (`append`, `read`, `log`, `tail`) need, on a data directory or a
/// running server.
protocol CLIStore: Sendable {
    func append(_ event: EventData, to stream: StreamName, expected: ExpectedRevision) async throws -> AppendResult.StreamResult
    func read(_ stream: StreamName, from start: ReadStart, direction: ReadDirection, limit: Int) async throws -> [RecordedEvent]
    /// Deletes a stream, soft or hard.
    func delete(_ stream: StreamName, mode: DeleteMode, expected: ExpectedRevision) async throws -> DeleteResult
    func readLog(after position: Int64, limit: Int, filter: LogFilter) async throws -> LogPage
    /// Prints events as they come, after `position` (`nil`: the current end), until interrupted.
    func follow(after position: Int64?, filter: LogFilter, _ body: @Sendable (RecordedEvent) -> Void) async throws
    /// An entity's document, now or at a point (a version or an instant).
    /// `projection` names one (`nil`: the primary one).
    func entity(_ entity: String, _ id: String, at point: String?, includeDeleted: Bool, projection: String?) async throws -> DocumentResponse
    /// An entity's history.
    func history(_ entity: String, _ id: String, projection: String?) async throws -> EntityHistoryResponse
    /// The patch between two points of an entity.
    func diff(_ entity: String, _ id: String, from: String, to: String, projection: String?) async throws -> EntityDiffResponse
    /// The projections and their status.
    func projections() async throws -> ProjectionList
    /// Rebuilds a projection's documents from the events.
    func rebuild(_ name: String) async throws -> RebuildResponse
    /// The events matching a DCB query.
    func query(_ query: DCBQuery, after: Int64, limit: Int) async throws -> DCBQueryPage
    /// An entity's document as of a moment (a position or an RFC 3339 instant).
    func entity(_ entity: String, _ id: String, asOf: String, includeDeleted: Bool, projection: String?) async throws -> DocumentResponse
    /// A page of an entity kind's documents, now or as of a moment.
    func list(_ entity: String, asOf: String?, limit: Int, cursor: String?, includeDeleted: Bool, projection: String?) async throws -> DocumentListResponse
    /// What changed between two moments.
    func changes(from: String, to: String, entity: String?, limit: Int, cursor: String?, projection: String?) async throws -> ChangesResponse
    /// Which event set each field of an entity, now or as of a moment.
    func blame(_ entity: String, _ id: String, asOf: String?, projection: String?) async throws -> BlameResponse
}

/// A store opened in the process: a data directory or a PostgreSQL database.
struct LocalCLIStore: CLIStore {
    let store: any OperatorStore
    let projection: (any Projection)?

    func requireProjection(_ name: String? = nil) throws -> any Projection {
        guard let projection else {
            throw CommandFailure(message: "entities need the schema they were built with: add --schema FILE, or use --server URL.", exitCode: 64)
        }
        if let name, name != projection.name {
            throw CommandFailure(message: "on a data directory only the schema's projection (\(projection.name)) can be read, not \(name); use --server URL to read the projections a server keeps.", exitCode: 64)
        }
        return projection
    }

    func timeline(_ entity: String, _ id: String, _ name: String?) async throws -> EntityTimeline {
        let projection = try requireProjection(name)
        let stream = try StreamName("\(entity)-\(id)")
        return try EntityTimeline(entity: entity, id: id, events: try await store.read(stream, from: .start, direction: .forwards, limit: .max), projection: projection)
    }

    private func point(_ text: String, _ name: String) throws -> EntityTimeline.Point {
        guard let point = EntityTimeline.Point(parsing: text) else {
            throw CommandFailure(message: "--\(name) must be a version (0 or more) or an RFC 3339 instant such as 2026-11-27T10:00:00Z.", exitCode: 64)
        }
        return point
    }

    private func document(_ timeline: EntityTimeline, _ point: EntityTimeline.Point) throws -> Document {
        guard let document = timeline.document(at: point) else {
            throw CommandFailure(message: "\(timeline.entity) \(timeline.id) has no state at that point\(timeline.latestVersion.map { " (its latest version is \($0))" } ?? "").")
        }
        return document
    }

    func entity(_ entity: String, _ id: String, at point: String?, includeDeleted: Bool, projection name: String?) async throws -> DocumentResponse {
        if let point {
            return DocumentResponse(try document(try await timeline(entity, id, name), try self.point(point, "at")))
        }
        _ = try requireProjection(name)
        guard let document = try await store.document(entity: entity, id: id) else {
            throw CommandFailure(message: "there is no \(entity) with id \(id).")
        }
        if document.deleted && !includeDeleted {
            throw CommandFailure(message: "\(entity) \(id) was deleted; add --include-deleted to see its last state.")
        }
        return DocumentResponse(document)
    }

    func history(_ entity: String, _ id: String, projection name: String?) async throws -> EntityHistoryResponse {
        EntityHistoryResponse(try await timeline(entity, id, name))
    }

    func projections() async throws -> ProjectionList {
        guard let projection else { return ProjectionList([]) }
        let head = try await store.headPosition()
        return ProjectionList([
            ProjectionStatus(
                name: projection.name, lifecycle: "inline", definitionHash: projection.definitionHash, checkpoint: head,
                lag: Lag(events: 0, seconds: 0), rebuild: RebuildStatus()
            ),
        ])
    }

    func rebuild(_ name: String) async throws -> RebuildResponse {
        let projection = try requireProjection()
        guard projection.name == name else {
            throw CommandFailure(message: "there is no projection named \(name); the schema's projection is \(projection.name).")
        }
        let start = ContinuousClock.now
        let bar = ProgressBar(label: "rebuild \(name)", total: Int(try await store.headPosition()))
        let replayed = try await store.rebuildDocuments { done, _ in bar.update(Int(done)) }
        bar.finish("rebuilt \(name)")
        let violations = try await (projection as? DeclarativeProjection)?.uniqueViolations(in: store) ?? []
        return RebuildResponse(name: name, replayedEvents: replayed, duration: ContinuousClock.now - start, uniqueViolations: violations)
    }

    func diff(_ entity: String, _ id: String, from: String, to: String, projection name: String?) async throws -> EntityDiffResponse {
        let timeline = try await timeline(entity, id, name)
        return EntityDiffResponse(timeline, from: try document(timeline, try point(from, "from")), to: try document(timeline, try point(to, "to")))
    }

    /// Appends through the schema's rules: a data directory whose read models were built
    /// with a schema is only written with that schema (`--schema`), so that its rules hold.
    func append(_ event: EventData, to stream: StreamName, expected: ExpectedRevision) async throws -> AppendResult.StreamResult {
        if projection == nil, let name = try await store.projectionNames().first {
            throw CommandFailure(message: "this store keeps read models (projection \(name)) whose schema has rules; add --schema FILE (the one the server runs with) so the append is checked, or use --server URL.", exitCode: 64)
        }
        return try await store.append(to: stream, [event], expected: expected)
    }

    func read(_ stream: StreamName, from start: ReadStart, direction: ReadDirection, limit: Int) async throws -> [RecordedEvent] {
        try await store.read(stream, from: start, direction: direction, limit: limit)
    }

    /// Deletes through the schema's projection: a store that keeps read models is only
    /// changed with the schema they were built with (`--schema`), so their rows follow.
    func delete(_ stream: StreamName, mode: DeleteMode, expected: ExpectedRevision) async throws -> DeleteResult {
        if projection == nil, let name = try await store.projectionNames().first {
            throw CommandFailure(message: "this store keeps read models (projection \(name)); add --schema FILE (the one the server runs with) so their rows follow the delete, or use --server URL.", exitCode: 64)
        }
        return try await store.delete(stream, mode: mode, expected: expected)
    }

    func query(_ query: DCBQuery, after: Int64, limit: Int) async throws -> DCBQueryPage {
        try await store.read(query: query, after: after, limit: limit)
    }

    func readLog(after position: Int64, limit: Int, filter: LogFilter) async throws -> LogPage {
        try await store.readLog(after: position, limit: limit, filter: filter)
    }

    func follow(after position: Int64?, filter: LogFilter, _ body: @Sendable (RecordedEvent) -> Void) async throws {
        var start = position ?? 0
        if position == nil { start = try await store.headPosition() }
        for try await event in store.subscribe(after: start, filter: filter) {
            body(event)
        }
    }
}

/// A running server, over HTTP (and Server-Sent Events for `tail`).
struct RemoteCLIStore: CLIStore {
    let base: String
    let apiKey: String?
    let http: HTTPClient

    /// Runs `body` with a client for `server`, shutting the client down afterwards.
    static func with<T>(server: String, apiKey: String?, _ body: (RemoteCLIStore) async throws -> T) async throws -> T {
        guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw CommandFailure(message: "--server \(server.debugDescription) is not an http(s) URL such as http://127.0.0.1:8080.", exitCode: 64)
        }
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(5)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let store = RemoteCLIStore(base: server.hasSuffix("/") ? String(server.dropLast()) : server, apiKey: apiKey, http: http)
        do {
            let result = try await body(store)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private func send(_ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(60)) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        do {
            return try await http.execute(request, timeout: timeout)
        } catch {
            throw CommandFailure(message: "cannot reach the server at \(base): \(error). Is chronicle serve running there?")
        }
    }

    /// Sends a request and decodes the answer as the server's wire type `T`; a problem
    /// answer becomes a failure with the problem's `detail`.
    private func call<T: Decodable>(_ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = [], as type: T.Type = T.self) async throws -> T {
        let response = try await send(method, path, body: body, headers: headers)
        let bytes = Data(try await response.body.collect(upTo: 64 << 20).readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            throw Self.failure(response.status, bytes)
        }
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch {
            throw CommandFailure(message: "the server's answer to \(method) \(path) is not what this chronicle reads (\(error)): \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
    }

    /// The `detail` of a problem answer.
    private struct ProblemDetail: Decodable {
        var detail: String
    }

    private static func failure(_ status: HTTPResponseStatus, _ bytes: Data) -> CommandFailure {
        if let problem = try? JSONDecoder().decode(ProblemDetail.self, from: bytes) {
            return CommandFailure(message: problem.detail)
        }
        return CommandFailure(message: "the server answered \(status.code) \(status.reasonPhrase)")
    }

    private func query(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        var components = URLComponents()
        components.queryItems = items.map { URLQueryItem(name: $0.0, value: $0.1) }
        return components.percentEncodedQuery.map { "?" + $0 } ?? ""
    }

    private func path(_ stream: StreamName) -> String {
        "/v1/streams/" + PathSegment.encode(stream.rawValue)
    }

    func append(_ event: EventData, to stream: StreamName, expected: ExpectedRevision) async throws -> AppendResult.StreamResult {
        let expectation: JSONValue = switch expected {
        case .exact(let revision): .integer(revision)
        default: .string(expected.description)
        }
        var fields: [String: JSONValue] = ["id": .string(event.id.uuidString.lowercased()), "type": .string(event.type), "data": event.data, "metadata": event.metadata]
        if !event.tags.isEmpty { fields["tags"] = .array(event.tags.map(JSONValue.string)) }
        let body: JSONValue = ["expectedRevision": expectation, "events": [.object(fields)]]
        return try await call(.POST, path(stream), body: body.canonicalText, as: AppendResponse.self).result
    }

    func delete(_ stream: StreamName, mode: DeleteMode, expected: ExpectedRevision) async throws -> DeleteResult {
        let headers: [(String, String)] = switch expected {
        case .exact(let revision): [("If-Match", "\"\(revision)\"")]
        case .streamExists: [("If-Match", "*")]
        default: []
        }
        let answer = try await call(.DELETE, path(stream) + query([("mode", mode.rawValue)]), headers: headers, as: StreamDeleteResponse.self)
        return DeleteResult(stream: stream, revision: answer.revision, position: answer.position)
    }

    func read(_ stream: StreamName, from start: ReadStart, direction: ReadDirection, limit: Int) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        var from: String? = switch start {
        case .start: nil
        case .end: "end"
        case .revision(let revision): String(revision)
        }
        while events.count < limit {
            var items = [("direction", direction.rawValue), ("limit", String(min(1000, limit - events.count)))]
            if let from { items.append(("from", from)) }
            let page = try await call(.GET, path(stream) + query(items), as: StreamPage.self)
            events += page.events.map(\.event)
            guard let next = page.next else { break }
            from = String(next)
        }
        return events
    }

    func readLog(after position: Int64, limit: Int, filter: LogFilter) async throws -> LogPage {
        var items = [("after", String(position)), ("limit", String(min(max(limit, 1), 1000)))]
        items += filter.types.sorted().map { ("type", $0) } + filter.categories.sorted().map { ("category", $0) }
        return try await call(.GET, "/v1/log" + query(items), as: LogPageResponse.self).page
    }

    private func entityPath(_ entity: String, _ id: String) -> String {
        "/v1/entities/\(PathSegment.encode(entity))/\(PathSegment.encode(id))"
    }

    func entity(_ entity: String, _ id: String, at point: String?, includeDeleted: Bool, projection: String?) async throws -> DocumentResponse {
        var items: [(String, String)] = []
        if let point { items.append((Int64(point) == nil ? "at" : "version", point)) }
        if includeDeleted { items.append(("includeDeleted", "true")) }
        if let projection { items.append(("projection", projection)) }
        return try await call(.GET, entityPath(entity, id) + query(items))
    }

    func history(_ entity: String, _ id: String, projection: String?) async throws -> EntityHistoryResponse {
        try await call(.GET, entityPath(entity, id) + "/history" + query(projection.map { [("projection", $0)] } ?? []))
    }

    func projections() async throws -> ProjectionList {
        try await call(.GET, "/v1/projections")
    }

    /// A GET of the API, decoded as the wire type `T`.
    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try await call(.GET, path)
    }

    /// A POST of the API without a body, decoded as the wire type `T`.
    func post<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try await call(.POST, path, body: "{}")
    }

    func query(_ query: DCBQuery, after: Int64, limit: Int) async throws -> DCBQueryPage {
        let items: [JSONValue] = query.items.map { item in
            ["types": .array(item.types.sorted().map(JSONValue.string)), "tags": .array(item.tags.sorted().map(JSONValue.string))]
        }
        let body: JSONValue = ["query": ["items": .array(items)], "after": .integer(after), "limit": .integer(Int64(min(max(limit, 1), 1000)))]
        let answer = try await call(.POST, "/v1/query", body: body.canonicalText, as: QueryResponse.self)
        return DCBQueryPage(events: answer.events.map(\.event), head: answer.head)
    }

    func rebuild(_ name: String) async throws -> RebuildResponse {
        try await call(.POST, "/v1/projections/\(PathSegment.encode(name))/rebuild", body: "{}")
    }

    func diff(_ entity: String, _ id: String, from: String, to: String, projection: String?) async throws -> EntityDiffResponse {
        try await call(.GET, entityPath(entity, id) + "/diff" + query([("from", from), ("to", to)] + (projection.map { [("projection", $0)] } ?? [])))
    }

    func follow(after position: Int64?, filter: LogFilter, _ body: @Sendable (RecordedEvent) -> Void) async throws {
        var items = [("after", position.map(String.init) ?? "end")]
        items += filter.types.sorted().map { ("type", $0) } + filter.categories.sorted().map { ("category", $0) }
        let response = try await send(.GET, "/v1/subscribe" + query(items), timeout: .hours(24 * 365))
        guard response.status == .ok else {
            throw Self.failure(response.status, Data(try await response.body.collect(upTo: 1 << 20).readableBytesView))
        }
        var pending = ""
        for try await chunk in response.body {
            pending += String(buffer: chunk)
            while let end = pending.range(of: "\n\n") {
                let block = pending[..<end.lowerBound]
                pending = String(pending[end.upperBound...])
                var event: String?, data: String?
                for line in block.split(separator: "\n") {
                    if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
                }
                if event == "shutdown" {
                    throw CommandFailure(message: "the server is shutting down; run tail again with --after <the last position printed> to resume")
                }
                if let data, let recorded = try? JSONDecoder().decode(EventResponse.self, from: Data(data.utf8)) {
                    body(recorded.event)
                }
            }
        }
    }
}

