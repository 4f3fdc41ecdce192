import AsyncHTTPClient
import ChronicleClient
import ChronicleCore
import ChronicleProjections
import ChronicleServer
import ChronicleSQLite
import Foundation
import Logging
import NIOCore

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
    /// Every document the event at a position changed, with the patch it made to each.
    func effects(_ position: Int64, projection: String?) async throws -> EventEffectsResponse
    /// Forgets a subject (see ``PersonalDataStore/eraseSubject(_:actor:rebuild:)``).
    func eraseSubject(_ subject: String, actor: String?) async throws -> SubjectErasure
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
        return try await EntityTimeline.load(entity: entity, id: id, store: store, documents: store, projection: projection)
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

    /// Refuses to erase on a store whose documents it cannot rewrite: every projection the
    /// file keeps documents of must be open (the schema given with --schema).
    func eraseSubject(_ subject: String, actor: String?) async throws -> SubjectErasure {
        let open = Set(store.projections.map(\.name))
        if let missing = try await store.projectionNames().first(where: { !open.contains($0) }) {
            throw CommandFailure(message: "the store keeps documents of projection \(missing), which would keep the subject's fields: give the schema they were built with (--schema FILE), or erase through the server (--server URL).", exitCode: 64)
        }
        return try await store.eraseSubject(subject, actor: actor)
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

/// A running server, through ``ChronicleClient`` (its retries, problems and subscriptions).
struct RemoteCLIStore: CLIStore {
    let client: ChronicleClient

    /// Runs `body` with a client for `server`, shutting the client down afterwards.
    static func with<T>(server: String, apiKey: String?, _ body: (RemoteCLIStore) async throws -> T) async throws -> T {
        guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw CommandFailure(message: "--server \(server.debugDescription) is not an http(s) URL such as http://127.0.0.1:8080.", exitCode: 64)
        }
        var http = HTTPClient.Configuration()
        http.timeout.connect = .seconds(5)
        // A command retries a little (a server restarting, a 503), then says what is wrong;
        // `tail` gives up after a few failed reconnections rather than waiting for ever.
        let configuration = ChronicleClient.Configuration(
            url: server, apiKey: apiKey, retry: RetryPolicy(maximumAttempts: 4, initialDelay: .milliseconds(100), maximumDelay: .seconds(1)),
            subscriptionReconnectAttempts: 5
        )
        var logger = Logger(label: "chronicle.cli")
        logger.logLevel = .critical
        do {
            return try await ChronicleClient.withClient(configuration: configuration, http: http, logger: logger) { client in
                try await body(RemoteCLIStore(client: client))
            }
        } catch let error as ChronicleClientError {
            throw failure(error, server: server)
        }
    }

    /// A client error as the CLI reports it: the problem's `detail`.
    static func failure(_ error: ChronicleClientError, server: String) -> CommandFailure {
        switch error.code {
        case .connectionFailed:
            CommandFailure(message: "cannot reach the server at \(server): \(error.cause ?? error.detail). Is chronicle serve running there?")
        case .invalidResponse:
            CommandFailure(message: "the server's answer is not what this chronicle reads: \(error.detail)")
        default:
            CommandFailure(message: error.detail)
        }
    }

    func append(_ event: EventData, to stream: StreamName, expected: ExpectedRevision) async throws -> AppendResult.StreamResult {
        try await client.append(event, to: stream, expected: expected).stream
    }

    func delete(_ stream: StreamName, mode: DeleteMode, expected: ExpectedRevision) async throws -> DeleteResult {
        try await client.delete(stream, mode: mode, expected: expected == .noStream ? .any : expected)
    }

    func eraseSubject(_ subject: String, actor: String?) async throws -> SubjectErasure {
        try await client.eraseSubject(subject, actor: actor)
    }

    func read(_ stream: StreamName, from start: ReadStart, direction: ReadDirection, limit: Int) async throws -> [RecordedEvent] {
        try await client.read(stream, from: start, direction: direction, limit: limit)
    }

    func readLog(after position: Int64, limit: Int, filter: LogFilter) async throws -> LogPage {
        try await client.readLog(after: position, limit: limit, filter: filter)
    }

    func entity(_ entity: String, _ id: String, at point: String?, includeDeleted: Bool, projection: String?) async throws -> DocumentResponse {
        let document: EntityDocument
        if let point, let version = Int64(point) {
            document = try await client.entity(entity, id, version: version, projection: projection)
        } else if let point {
            document = try await client.entity(entity, id, at: point, projection: projection)
        } else {
            document = try await client.entity(entity, id, includeDeleted: includeDeleted, projection: projection)
        }
        return DocumentResponse(Document(
            entity: document.entity, id: document.id, state: document.state, version: document.version, position: document.position,
            updatedAtMicroseconds: Timestamp.microseconds(parsing: document.updatedAt) ?? 0, deleted: document.deleted
        ))
    }

    private func projectionQuery(_ projection: String?) -> [(String, String)] {
        projection.map { [("projection", $0)] } ?? []
    }

    private func entityPath(_ entity: String, _ id: String) -> String {
        "/v1/entities/\(PathSegment.encode(entity))/\(PathSegment.encode(id))"
    }

    // The CLI prints the server's own wire types for these, so it reads them as such.
    func history(_ entity: String, _ id: String, projection: String?) async throws -> EntityHistoryResponse {
        try await client.get(entityPath(entity, id) + "/history", query: projectionQuery(projection), as: EntityHistoryResponse.self)
    }

    func diff(_ entity: String, _ id: String, from: String, to: String, projection: String?) async throws -> EntityDiffResponse {
        try await client.get(entityPath(entity, id) + "/diff", query: [("from", from), ("to", to)] + projectionQuery(projection), as: EntityDiffResponse.self)
    }

    func projections() async throws -> ProjectionList {
        try await client.get("/v1/projections", as: ProjectionList.self)
    }

    /// A GET of the API, decoded as the wire type `T`.
    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try await client.get(path, as: T.self)
    }

    /// A POST of the API with an empty object, decoded as the wire type `T`.
    func post<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try await client.post(path, body: JSONValue.object([:]), as: T.self)
    }

    func query(_ query: DCBQuery, after: Int64, limit: Int) async throws -> DCBQueryPage {
        try await client.query(query, after: after, limit: limit)
    }

    func rebuild(_ name: String) async throws -> RebuildResponse {
        try await post("/v1/projections/\(PathSegment.encode(name))/rebuild", as: RebuildResponse.self)
    }

    func follow(after position: Int64?, filter: LogFilter, _ body: @Sendable (RecordedEvent) -> Void) async throws {
        var last = position
        do {
            for try await event in client.subscribe(after: position, filter: filter) {
                last = event.position
                body(event)
            }
        } catch let error as ChronicleClientError where error.code == .connectionFailed {
            throw CommandFailure(message: "lost the server at \(client.configuration.url) and could not reconnect; run tail again with --after \(last.map(String.init) ?? "<the last position printed>") to resume")
        }
    }
}
