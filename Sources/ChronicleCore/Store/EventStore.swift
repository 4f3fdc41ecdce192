/// An event store: an append-only log of events, grouped in streams.
///
/// Every backend (``InMemoryEventStore``, `SQLiteEventStore`, …) implements this protocol
/// and passes the same conformance suite in `ChronicleTesting`, so code written against it
/// runs unchanged on any of them.
///
/// - Appends are atomic across streams and idempotent by event id.
/// - The global log is gap-free for readers: once a reader has seen position N, no event
///   below N is committed later.
/// - ``subscribe(after:filter:batchSize:)`` is built on ``readLog(after:limit:filter:)`` and
///   ``waitForEvents(after:)``, so a slow subscriber reads from storage and is never dropped.
public protocol EventStore: Sendable {
    /// Appends events to one or more streams, all or nothing.
    ///
    /// Re-sending events whose ids are already stored (same streams, same content) returns
    /// the original result and stores nothing.
    @discardableResult
    func append(_ request: AppendRequest) async throws -> AppendResult

    /// Reads up to `limit` events of a stream, starting at `start` (inclusive) and going in `direction`.
    ///
    /// - Throws: ``ChronicleError/Code/streamNotFound`` for an unknown or soft-deleted stream,
    ///   ``ChronicleError/Code/streamDeleted`` for a hard-deleted one.
    func read(_ stream: StreamName, from start: ReadStart, direction: ReadDirection, limit: Int) async throws -> [RecordedEvent]

    /// Reads up to `limit` events of the global log with a position above `position` that match `filter`.
    func readLog(after position: Int64, limit: Int, filter: LogFilter) async throws -> LogPage

    /// The state of a stream, or `nil` if it was never written.
    func info(_ stream: StreamName) async throws -> StreamInfo?

    /// Deletes a stream. Soft: hidden from reads, events kept, can be written again (its
    /// revision continues). Hard: events purged, the stream can never be written again.
    /// Either way, a `$streamDeleted` event is recorded in the `$streams` stream.
    func delete(_ stream: StreamName, mode: DeleteMode, expected: ExpectedRevision) async throws -> DeleteResult

    /// The position of the last committed event (0 for an empty store).
    func headPosition() async throws -> Int64

    /// Returns once the head position is above `position`, or when the task is cancelled.
    func waitForEvents(after position: Int64) async throws

    /// Recomputes the hash chain over the whole log.
    func verify() async throws -> VerificationReport

    /// The events after `position` that match a DCB query (by type and tags, across
    /// streams), up to `limit`, and the position a conditional append may use as its `after`.
    /// Default: a scan of the log (``readByScanning(query:after:limit:)``); stores with a tag
    /// index answer from it.
    func read(query: DCBQuery, after position: Int64, limit: Int) async throws -> DCBQueryPage
}

extension EventStore {
    /// Reads by scanning the log; see ``EventStore/read(query:after:limit:)``.
    public func read(query: DCBQuery, after position: Int64, limit: Int) async throws -> DCBQueryPage {
        try await readByScanning(query: query, after: position, limit: limit)
    }

    /// Appends `events` to one stream.
    @discardableResult
    public func append(to stream: StreamName, _ events: [EventData], expected: ExpectedRevision = .any) async throws -> AppendResult.StreamResult {
        let result = try await append(AppendRequest([.init(stream: stream, expected: expected, events: events)]))
        return result.streams[0]
    }

    /// Reads a whole stream forwards (up to `limit` events).
    public func read(_ stream: StreamName, limit: Int = .max) async throws -> [RecordedEvent] {
        try await read(stream, from: .start, direction: .forwards, limit: limit)
    }

    /// Reads the log after `position` without a filter.
    public func readLog(after position: Int64 = 0, limit: Int) async throws -> LogPage {
        try await readLog(after: position, limit: limit, filter: LogFilter())
    }

    /// Events after `position` that match `filter`: those stored now, then live ones as they
    /// are committed, in order, each exactly once, until the task is cancelled.
    ///
    /// ```swift
    /// for try await event in store.subscribe(after: lastSeen) {
    ///     try await handle(event)
    ///     lastSeen = event.position
    /// }
    /// ```
    public func subscribe(after position: Int64 = 0, filter: LogFilter = LogFilter(), batchSize: Int = 512) -> EventSubscription {
        EventSubscription(store: self, after: position, filter: filter, batchSize: batchSize)
    }

    /// Events after `position` that match a DCB query: those stored now, then live ones, in
    /// order, each exactly once, until the task is cancelled.
    public func subscribe(query: DCBQuery, after position: Int64 = 0, batchSize: Int = 512) -> EventSubscription {
        EventSubscription(store: self, after: position, filter: LogFilter(), query: query, batchSize: batchSize)
    }
}

/// Where a stream read starts.
public enum ReadStart: Sendable, Hashable {
    /// The first event (revision 0) reading forwards, or the last reading backwards.
    case start
    /// The last event.
    case end
    /// This revision, inclusive.
    case revision(Int64)
}

/// Which way a stream read goes.
public enum ReadDirection: String, Sendable, Hashable, CaseIterable {
    /// Ascending revisions.
    case forwards
    /// Descending revisions.
    case backwards
}

/// Which events of the global log to return. Empty sets mean "all".
public struct LogFilter: Sendable, Hashable {
    /// Event types to keep.
    public var types: Set<String>
    /// Stream categories to keep (`user` keeps `user-1`, `user-2`…).
    public var categories: Set<String>
    /// Only events whose metadata `correlationId` is this: the events caused by one request.
    public var correlation: String?

    /// Creates a filter; the default keeps everything.
    public init(types: Set<String> = [], categories: Set<String> = [], correlation: String? = nil) {
        self.types = types
        self.categories = categories
        self.correlation = correlation
    }

    /// Whether `event` passes.
    public func matches(_ event: RecordedEvent) -> Bool {
        guard (types.isEmpty || types.contains(event.type)) && (categories.isEmpty || categories.contains(event.stream.category)) else { return false }
        guard let correlation else { return true }
        return event.metadata["correlationId"] == .string(correlation)
    }

    /// Whether the filter keeps everything.
    public var isEmpty: Bool { types.isEmpty && categories.isEmpty && correlation == nil }
}

/// A page of the global log.
public struct LogPage: Sendable, Hashable {
    /// The matching events, in position order.
    public var events: [RecordedEvent]
    /// The position up to which the log was scanned: pass it as `after` to read on. It can
    /// be above the last event's position when a filter skipped events.
    public var scannedThrough: Int64

    /// Creates a page.
    public init(events: [RecordedEvent], scannedThrough: Int64) {
        self.events = events
        self.scannedThrough = scannedThrough
    }
}

/// The state of a stream.
public struct StreamInfo: Sendable, Hashable {
    /// Whether a stream is live or deleted.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Readable and writable.
        case active
        /// Soft-deleted: hidden, events kept, writable again.
        case softDeleted
        /// Hard-deleted: events purged, never writable again.
        case tombstoned
    }

    /// The stream.
    public var stream: StreamName
    /// The revision of its last event; `nil` if none was ever written.
    public var revision: Int64?
    /// Live or deleted.
    public var status: Status

    /// Creates stream info.
    public init(stream: StreamName, revision: Int64?, status: Status) {
        self.stream = stream
        self.revision = revision
        self.status = status
    }
}

/// How to delete a stream.
public enum DeleteMode: String, Sendable, Hashable, CaseIterable {
    /// Hide the stream; keep its events; it can be written again.
    case soft
    /// Purge its events and tombstone it forever (erasure requests).
    case hard
}

/// The outcome of a delete.
public struct DeleteResult: Sendable, Hashable {
    /// The stream.
    public var stream: StreamName
    /// Its revision when it was deleted.
    public var revision: Int64
    /// The position of the `$streamDeleted` event that records the deletion.
    public var position: Int64

    /// Creates a delete result.
    public init(stream: StreamName, revision: Int64, position: Int64) {
        self.stream = stream
        self.revision = revision
        self.position = position
    }
}

/// What ``EventStore/verify()`` found.
public struct VerificationReport: Sendable, Hashable {
    /// Events whose hash was recomputed and matched.
    public var verifiedEvents: Int64
    /// Purged (hard-deleted) events whose recorded hash was carried over.
    public var purgedEvents: Int64
    /// The last position checked.
    public var headPosition: Int64
    /// The first position where the chain breaks, or `nil` if the log is intact.
    public var firstBrokenPosition: Int64?
    /// What is wrong at ``firstBrokenPosition``.
    public var problem: String?

    /// Creates a report.
    public init(verifiedEvents: Int64, purgedEvents: Int64, headPosition: Int64, firstBrokenPosition: Int64? = nil, problem: String? = nil) {
        self.verifiedEvents = verifiedEvents
        self.purgedEvents = purgedEvents
        self.headPosition = headPosition
        self.firstBrokenPosition = firstBrokenPosition
        self.problem = problem
    }

    /// Whether the whole chain checked out.
    public var isIntact: Bool { firstBrokenPosition == nil }
}
