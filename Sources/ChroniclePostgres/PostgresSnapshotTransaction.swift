import ChronicleCore
import Foundation

/// Thrown by ``PostgresSnapshotTransaction`` when ``LogWriter`` asks for something that was
/// not read from the database yet. The batch reads it and runs the operation again: the
/// writer is deterministic, so a second run over more data gives the same result.
struct NeedsData: Error {
    var streams: Set<StreamName> = []
    var events: Set<UUID> = []
}

/// The ``EventStoreTransaction`` of the PostgreSQL store: a synchronous, in-memory view of
/// what one write batch read from the database (under the write lock), plus the writes the
/// batch made so far, which it records instead of sending.
///
/// ``LogWriter`` is synchronous and PostgresNIO is not, so the batch reads ahead what the
/// writer will ask for (the state of each stream it writes, and whether each event id is
/// stored), lets the writer run here, then sends the recorded writes in a few batched
/// statements. What was not read ahead throws ``NeedsData``.
///
/// A value type: a batch copies it before each operation and keeps the copy only if the
/// operation succeeds, so a refused append leaves no trace.
struct PostgresSnapshotTransaction: EventStoreTransaction {
    /// One recorded write, in the order the writer made it.
    enum Write {
        case insert(RecordedEvent)
        case purge(StreamName)
    }

    /// Stream states as stored before the batch (`nil`: never written).
    private(set) var storedStreams: [StreamName: StreamInfo?] = [:]
    /// Events by id as stored before the batch (`nil`: not stored).
    private(set) var storedEvents: [UUID: RecordedEvent?] = [:]
    /// Inserts and purges, in order.
    private(set) var writes: [Write] = []
    /// Stream states set by the batch.
    private(set) var pendingStreams: [StreamName: StreamInfo] = [:]
    private var insertedEvents: [UUID: RecordedEvent] = [:]
    private var purgedStreams: Set<StreamName> = []

    /// Records what was read from the database. Keys that were asked for and not found
    /// must be passed as `nil` so that they count as read.
    mutating func learn(streams: [StreamName: StreamInfo?], events: [UUID: RecordedEvent?]) {
        storedStreams.merge(streams) { old, _ in old }
        storedEvents.merge(events) { old, _ in old }
    }

    /// What of `need` is not read yet.
    func unknown(_ need: NeedsData) -> NeedsData {
        NeedsData(streams: need.streams.filter { storedStreams[$0] == nil }, events: need.events.filter { storedEvents[$0] == nil })
    }

    /// Whether the batch wrote anything.
    var hasWrites: Bool { !writes.isEmpty || !pendingStreams.isEmpty }

    func stream(_ name: StreamName) throws -> StreamInfo? {
        if let pending = pendingStreams[name] { return pending }
        if let stored = storedStreams[name] { return stored }
        throw NeedsData(streams: [name])
    }

    func event(id: UUID) throws -> RecordedEvent? {
        if let inserted = insertedEvents[id] {
            return purgedStreams.contains(inserted.stream) ? nil : inserted
        }
        guard let stored = storedEvents[id] else { throw NeedsData(events: [id]) }
        guard let stored, !purgedStreams.contains(stored.stream) else { return nil }
        return stored
    }

    /// An id that was not read ahead is taken as free: the batch reads every id of every
    /// append ahead, so only Chronicle's own events (`$streamDeleted`, with fresh
    /// time-ordered ids) get here, and the unique index on `events.id` would refuse a
    /// collision anyway (failing the batch, never storing an id twice).
    mutating func insert(_ event: RecordedEvent, stream: StreamInfo) throws {
        if storedEvents[event.id] != nil || insertedEvents[event.id] != nil, try self.event(id: event.id) != nil {
            throw ChronicleError(.idempotencyConflict, "Event id \(event.id) is already stored. Use a new id for a new event, or retry exactly the original append.", stream: event.stream)
        }
        insertedEvents[event.id] = event
        writes.append(.insert(event))
        pendingStreams[stream.stream] = stream
    }

    mutating func save(_ stream: StreamInfo) throws {
        pendingStreams[stream.stream] = stream
    }

    mutating func purge(_ stream: StreamName) throws {
        purgedStreams.insert(stream)
        writes.append(.purge(stream))
    }

    func document(entity: String, id: String) throws -> Document? {
        throw Self.rulesUnsupported
    }

    func holder(entity: String, field: String, value: JSONValue) throws -> String? {
        throw Self.rulesUnsupported
    }

    static let rulesUnsupported = ChronicleError(.invalidInput, "Rules and inline documents are not supported on the PostgreSQL store yet. Append without rules, or use the SQLite store for declarative rules.")

    /// The stream rows to change when the batch commits: deletions to record, and streams
    /// written again after a soft delete whose deletion row goes.
    var deletionChanges: (upserts: [StreamInfo], removals: [StreamName]) {
        var upserts: [StreamInfo] = [], removals: [StreamName] = []
        for info in pendingStreams.values {
            let stored = storedStreams[info.stream] ?? nil
            if info.status == .active {
                if let stored, stored.status != .active { removals.append(info.stream) }
            } else {
                upserts.append(info)
            }
        }
        return (upserts.sorted { $0.stream < $1.stream }, removals.sorted())
    }
}
