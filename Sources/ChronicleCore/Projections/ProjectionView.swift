import Foundation

/// One named projection of a ``ProjectionStore``, seen as a store of its own: its documents,
/// checkpoint and rebuild, and the store's log. What reads one projection (entity routes, a
/// `ProjectionRunner`, the unique audit) takes a view.
///
/// ```swift
/// let totals = try store.projection(named: "order-totals")
/// let document = try await totals.document(entity: "order", id: "42")
/// ```
public struct ProjectionView: AsyncProjectionStore {
    /// The store that keeps the projection.
    public let store: any ProjectionStore
    /// The projection and its lifecycle.
    public let registration: ProjectionRegistration

    /// A view of `registration` in `store`.
    public init(store: any ProjectionStore, registration: ProjectionRegistration) {
        self.store = store
        self.registration = registration
    }

    /// The projection's name.
    public var name: String { registration.name }
    /// The fold.
    public var projection: any Projection { registration.projection }
    /// When the store applies it.
    public var lifecycle: ProjectionLifecycle { registration.lifecycle }

    // MARK: DocumentStore and AsyncProjectionStore, for this projection

    public func document(entity: String, id: String) async throws -> Document? {
        try await store.document(entity: entity, id: id, projection: name)
    }

    public func documents(_ query: DocumentQuery) async throws -> DocumentPage {
        try await store.documents(query, projection: name)
    }

    public func documentsPosition() async throws -> Int64 {
        try await store.documentsPosition(projection: name)
    }

    public func snapshot(entity: String, id: String, before point: EntityTimeline.Point) async throws -> Document? {
        try await store.snapshot(entity: entity, id: id, before: point, projection: name)
    }

    public func document(entity: String, id: String, asOf position: Int64) async throws -> Document? {
        try await store.document(entity: entity, id: id, projection: name, asOf: position)
    }

    public func documents(_ query: DocumentQuery, asOf position: Int64) async throws -> DocumentPage {
        try await store.documents(query, projection: name, asOf: position)
    }

    public func historyStart() async throws -> Int64 {
        try await store.historyStart(projection: name)
    }

    public func changePositions(entity: String, id: String, after position: Int64) async throws -> [Int64] {
        try await store.changePositions(entity: entity, id: id, projection: name, after: position)
    }

    public func changes(from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int) async throws -> ChangePage {
        try await store.changes(projection: name, from: from, to: to, entity: entity, after: cursor, limit: limit)
    }

    @discardableResult
    public func rebuildDocuments(progress: @Sendable (_ done: Int64, _ total: Int64) -> Void) async throws -> Int {
        try await store.rebuildDocuments(projection: name, progress: progress)
    }

    public func projectionCheckpoint() async throws -> Int64 {
        try await store.projectionCheckpoint(projection: name)
    }

    public func applyProjection(_ events: [RecordedEvent], after checkpoint: Int64, through: Int64) async throws -> Int64 {
        try await store.applyProjection(events, after: checkpoint, through: through, projection: name)
    }

    // MARK: EventStore, forwarded

    @discardableResult
    public func append(_ request: AppendRequest) async throws -> AppendResult { try await store.append(request) }

    public func read(_ stream: StreamName, from start: ReadStart, direction: ReadDirection, limit: Int) async throws -> [RecordedEvent] {
        try await store.read(stream, from: start, direction: direction, limit: limit)
    }

    public func readLog(after position: Int64, limit: Int, filter: LogFilter) async throws -> LogPage {
        try await store.readLog(after: position, limit: limit, filter: filter)
    }

    public func info(_ stream: StreamName) async throws -> StreamInfo? { try await store.info(stream) }

    public func delete(_ stream: StreamName, mode: DeleteMode, expected: ExpectedRevision) async throws -> DeleteResult {
        try await store.delete(stream, mode: mode, expected: expected)
    }

    public func headPosition() async throws -> Int64 { try await store.headPosition() }

    public func waitForEvents(after position: Int64) async throws { try await store.waitForEvents(after: position) }

    public func verify() async throws -> VerificationReport { try await store.verify() }
}
