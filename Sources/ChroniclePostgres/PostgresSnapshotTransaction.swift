import ChronicleCore
import Foundation

/// Thrown by ``PostgresSnapshotTransaction`` when ``LogWriter`` asks for something that was
/// not read from the database yet. The batch reads it and runs the operation again: the
/// writer is deterministic, so a second run over more data gives the same result.
struct NeedsData: Error {
    var streams: Set<StreamName> = []
    var events: Set<UUID> = []
    /// Documents of the inline projections, by projection, entity and id.
    var documents: Set<DocumentKey> = []
    /// Holders of a value in a field, for `unique` rules.
    var holders: Set<HolderKey> = []
    /// Append conditions: the first stored match of a query after a position.
    var conditions: Set<ConditionKey> = []
    /// Subjects whose key rows personal fields or an erasure need.
    var subjects: Set<String> = []
    /// Keys whose sealed events an erasure counts.
    var sealedWith: Set<UUID> = []

    var isEmpty: Bool { streams.isEmpty && events.isEmpty && documents.isEmpty && holders.isEmpty && conditions.isEmpty && subjects.isEmpty && sealedWith.isEmpty }
}

/// What an append condition asks: the first event after `after` that matches `query`.
struct ConditionKey: Hashable, Sendable {
    var query: DCBQuery
    var after: Int64
}

/// What a `unique` rule asks: which live entity of a kind has `value` in `field`.
struct HolderKey: Hashable, Sendable {
    var projection: String
    var entity: String
    var field: String
    var value: JSONValue
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
/// Operations write into it in place; after one that fails, the batch goes back to a copy
/// kept at its last checkpoint and runs the operations that succeeded since again, so a
/// refused append leaves no trace (see ``PostgresEventStore/run(_:writer:reactors:snapshot:now:projections:on:logger:)``).
struct PostgresSnapshotTransaction: EventStoreTransaction, DocumentWriting {
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

    /// The inline projections, applied to each event as it is inserted (as SQLite does).
    let inline: [any Projection]
    /// The projection whose documents the ``DocumentWriting`` methods touch.
    private var scope = ""
    /// Every how many versions a document is also kept as a snapshot; 0 for never.
    let snapshotInterval: Int
    /// Documents as stored before the batch (`nil`: none).
    private(set) var storedDocuments: [DocumentKey: Document?] = [:]
    /// The ids of the live documents that held a value before the batch (a superset: each
    /// is checked again against its document).
    private(set) var storedHolders: [HolderKey: [String]] = [:]
    /// The first match of each condition stored before the batch (`nil`: none).
    private(set) var storedConditions: [ConditionKey: Int64?] = [:]
    /// Documents changed by the batch (`nil`: removed).
    private(set) var pendingDocuments: [DocumentKey: Document?] = [:]
    /// Snapshots to store, and the entities whose snapshots go (removed documents).
    private(set) var pendingSnapshots: [(projection: String, document: Document)] = []
    private(set) var removedSnapshots: Set<DocumentKey> = []
    /// The temporal tables' changes, by projection, in the order they were made.
    private(set) var pendingHistory: [(projection: String, change: DocumentHistoryChange)] = []
    /// Key rows as stored before the batch (`nil`: none), by subject.
    private(set) var storedKeys: [String: StoredSubjectKey?] = [:]
    /// The stored events sealed with each key, for erasures.
    private(set) var storedSealed: [UUID: [RecordedEvent]] = [:]
    /// Key rows saved by the batch, by subject.
    private(set) var pendingKeys: [String: StoredSubjectKey] = [:]

    /// A transaction that applies the inline ones of `projections` to each event it inserts.
    init(projections: [ProjectionRegistration] = [], snapshotInterval: Int = 0) {
        self.inline = ProjectionRegistration.inline(projections)
        self.snapshotInterval = snapshotInterval
    }

    /// A transaction that applies pages of one asynchronous projection.
    init(applying projection: any Projection, snapshotInterval: Int) {
        self.inline = []
        self.snapshotInterval = snapshotInterval
        self.scope = projection.name
    }

    /// The same transaction, reading and writing `projection`'s documents.
    func scoped(to projection: String) -> PostgresSnapshotTransaction {
        var copy = self
        copy.scope = projection
        return copy
    }

    func documents(of projection: String) -> any DocumentLookup { scoped(to: projection) }

    /// Records what was read from the database. Keys that were asked for and not found
    /// must be passed as `nil` so that they count as read.
    mutating func learn(streams: [StreamName: StreamInfo?], events: [UUID: RecordedEvent?], documents: [DocumentKey: Document?] = [:], holders: [HolderKey: [String]] = [:], conditions: [ConditionKey: Int64?] = [:]) {
        storedConditions.merge(conditions) { old, _ in old }
        storedStreams.merge(streams) { old, _ in old }
        storedEvents.merge(events) { old, _ in old }
        storedDocuments.merge(documents) { old, _ in old }
        storedHolders.merge(holders) { old, _ in old }
    }

    /// Records the key rows and sealed events read from the database.
    mutating func learn(keys: [String: StoredSubjectKey?], sealed: [UUID: [RecordedEvent]]) {
        storedKeys.merge(keys) { old, _ in old }
        storedSealed.merge(sealed) { old, _ in old }
    }

    /// Makes room for `events` inserts, so that a batch of large appends does not grow its
    /// tables of inserted events again and again.
    mutating func reserve(events: Int) {
        insertedEvents.reserveCapacity(events)
        writes.reserveCapacity(events)
    }

    /// What of `need` is not read yet.
    func unknown(_ need: NeedsData) -> NeedsData {
        NeedsData(
            streams: need.streams.filter { storedStreams[$0] == nil }, events: need.events.filter { storedEvents[$0] == nil },
            documents: need.documents.filter { storedDocuments[$0] == nil }, holders: need.holders.filter { storedHolders[$0] == nil },
            conditions: need.conditions.filter { storedConditions[$0] == nil },
            subjects: need.subjects.filter { storedKeys[$0] == nil }, sealedWith: need.sealedWith.filter { storedSealed[$0] == nil }
        )
    }

    /// Whether the batch wrote anything.
    var hasWrites: Bool { !writes.isEmpty || !pendingStreams.isEmpty || !pendingDocuments.isEmpty || !pendingKeys.isEmpty }

    func subjectKey(for subject: String) throws -> StoredSubjectKey? {
        if let pending = pendingKeys[subject] { return pending }
        guard let stored = storedKeys[subject] else { throw NeedsData(subjects: [subject]) }
        return stored
    }

    mutating func saveSubjectKey(_ key: StoredSubjectKey) throws {
        pendingKeys[key.subject] = key
    }

    /// The events sealed with the key: those stored before the batch (read when asked for),
    /// then those the batch inserted.
    func events(sealedWith keyID: UUID) throws -> [RecordedEvent] {
        guard let stored = storedSealed[keyID] else { throw NeedsData(sealedWith: [keyID]) }
        let inserted = insertedEvents.values.filter { PersonalData.isSealed($0.dataJSON, with: keyID) }
        return (stored + inserted).filter { !purgedStreams.contains($0.stream) }.sorted { $0.position < $1.position }
    }

    func stream(_ name: StreamName) throws -> StreamInfo? {
        if let pending = pendingStreams[name] { return pending }
        if let stored = storedStreams[name] { return stored }
        throw NeedsData(streams: [name])
    }

    /// The first match stored before the batch (read under the write lock), else the first
    /// the batch inserted.
    func firstMatch(_ query: DCBQuery, after position: Int64) throws -> Int64? {
        let key = ConditionKey(query: query, after: position)
        guard let stored = storedConditions[key] else { throw NeedsData(conditions: [key]) }
        if let stored { return stored }
        return insertedEvents.values.filter { $0.position > position && !purgedStreams.contains($0.stream) && query.matches($0) }.map(\.position).min()
    }

    func event(id: UUID) throws -> RecordedEvent? {
        if let inserted = insertedEvents[id] {
            return purgedStreams.contains(inserted.stream) ? nil : inserted
        }
        guard let stored = storedEvents[id] else { throw NeedsData(events: [id]) }
        guard let stored, !purgedStreams.contains(stored.stream) else { return nil }
        return stored
    }

    /// An id that was not read is taken as free: a batch is first committed without reading
    /// its ids (the engine asks for them only when an append fails), and an id stored
    /// already stores nothing (`ON CONFLICT (id) DO NOTHING`) and fails that commit, which
    /// is rolled back and committed again with every id of every append read ahead.
    mutating func insert(_ event: RecordedEvent, stream: StreamInfo, revealed: RecordedEvent?) throws {
        if storedEvents[event.id] != nil || insertedEvents[event.id] != nil, try self.event(id: event.id) != nil {
            throw ChronicleError(.idempotencyConflict, "Event id \(event.id) is already stored. Use a new id for a new event, or retry exactly the original append.", stream: event.stream)
        }
        for projection in inline {
            scope = projection.name
            try projection.apply(revealed ?? event, to: &self, snapshotInterval: snapshotInterval)
        }
        insertedEvents[event.id] = event
        writes.append(.insert(event))
        pendingStreams[stream.stream] = stream
    }

    /// Records a document change of the projection engine (``Projection/apply(_:to:snapshotInterval:)``);
    /// the batch sends it with its events.
    mutating func saveDocument(_ document: Document, snapshot: Bool) throws {
        pendingDocuments[DocumentKey(projection: scope, entity: document.entity, id: document.id)] = .some(document)
        if snapshot { pendingSnapshots.append((scope, document)) }
    }

    /// Records a document's removal, and its snapshots'.
    mutating func removeDocument(entity: String, id: String) throws {
        let key = DocumentKey(projection: scope, entity: entity, id: id)
        pendingDocuments[key] = .some(nil)
        pendingSnapshots.removeAll { $0.projection == scope && $0.document.entity == entity && $0.document.id == id }
        removedSnapshots.insert(key)
    }

    /// Records a temporal-table change; the batch sends them with its documents.
    mutating func recordHistory(_ change: DocumentHistoryChange) throws {
        pendingHistory.append((scope, change))
    }

    /// The batch's temporal-table changes as one plan per projection.
    var historyPlans: [(projection: String, plan: DocumentHistoryPlan)] {
        var order: [String] = []
        var changes: [String: [DocumentHistoryChange]] = [:]
        for (projection, change) in pendingHistory {
            if changes[projection] == nil { order.append(projection) }
            changes[projection, default: []].append(change)
        }
        return order.map { ($0, DocumentHistoryPlan(changes[$0] ?? [])) }
    }

    mutating func save(_ stream: StreamInfo) throws {
        pendingStreams[stream.stream] = stream
    }

    mutating func purge(_ stream: StreamName) throws {
        purgedStreams.insert(stream)
        writes.append(.purge(stream))
    }

    func document(entity: String, id: String) throws -> Document? {
        let key = DocumentKey(projection: scope, entity: entity, id: id)
        if let pending = pendingDocuments[key] { return pending }
        if let stored = storedDocuments[key] { return stored }
        throw NeedsData(documents: [key])
    }

    /// The live holder of a value: among those stored before the batch and the documents the
    /// batch changed, checked against each one's current document, the first by id.
    func holder(entity: String, field: String, value: JSONValue) throws -> String? {
        let key = HolderKey(projection: scope, entity: entity, field: field, value: value)
        guard let stored = storedHolders[key] else { throw NeedsData(holders: [key]) }
        let wanted = SortKey(value)
        guard wanted != .missing else { return nil }
        var candidates = Set(stored)
        for pending in pendingDocuments.keys where pending.projection == scope && pending.entity == entity { candidates.insert(pending.id) }
        for id in candidates.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            if let document = try document(entity: entity, id: id), !document.deleted, SortKey(document.state[field]) == wanted {
                return id
            }
        }
        return nil
    }

    /// The document changes to send: upserts and removals, in key order.
    var documentChanges: (upserts: [(projection: String, document: Document)], removals: [DocumentKey]) {
        var upserts: [(key: DocumentKey, document: Document)] = [], removals: [DocumentKey] = []
        for (key, document) in pendingDocuments {
            if let document { upserts.append((key, document)) } else { removals.append(key) }
        }
        return (upserts.sorted { $0.key < $1.key }.map { ($0.key.projection, $0.document) }, removals.sorted())
    }

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
