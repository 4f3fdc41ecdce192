/// A read-model document: the state a projection derived for one entity.
public struct Document: Sendable, Hashable {
    /// The entity kind, such as `user` (the stream's category).
    public var entity: String
    /// The entity's id, such as `1234` (the rest of the stream name).
    public var id: String
    /// The derived state (a JSON object).
    public var state: JSONValue
    /// The revision of the last event of the entity's stream applied.
    public var version: Int64
    /// The global position of that event.
    public var position: Int64
    /// When that event was recorded, in microseconds since the epoch.
    public var updatedAtMicroseconds: Int64
    /// Whether the entity was (soft-)deleted.
    public var deleted: Bool

    /// Creates a document.
    public init(entity: String, id: String, state: JSONValue, version: Int64, position: Int64, updatedAtMicroseconds: Int64, deleted: Bool = false) {
        self.entity = entity
        self.id = id
        self.state = state
        self.version = version
        self.position = position
        self.updatedAtMicroseconds = updatedAtMicroseconds
        self.deleted = deleted
    }
}

/// What applying one event does to a document.
public enum DocumentChange: Sendable, Hashable {
    /// Nothing: the projection does not handle the event.
    case none
    /// Store this document (new or updated).
    case save(Document)
    /// Remove the document (hard delete).
    case remove(entity: String, id: String)
}

/// A projection: a named, pure fold of events into documents.
///
/// `evolve` sees one event and the current document of the entity it concerns (if any) and
/// says what to store. The same function serves every lifecycle: inline (in the append's
/// transaction), replay for rebuilds, and time travel (folding a stream up to a version).
public protocol Projection: Sendable {
    /// The projection's name.
    var name: String { get }
    /// A fingerprint of the definition: when it changes, stored documents are rebuilt.
    var definitionHash: String { get }
    /// The entity an event concerns, or `nil` if the projection ignores the event.
    func entity(of event: RecordedEvent) -> (entity: String, id: String)?
    /// What the event does to the current document.
    func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange
    /// Every document the event changes, each once: by default the one of ``entity(of:)``.
    /// A projection whose events also change other entities' documents (a schema's `id:` or
    /// `each:`) lists them all; the engine applies ``evolve(_:with:target:)`` to each, in the
    /// same transaction, and records each in the temporal table at the event's position.
    func targets(of event: RecordedEvent) -> [DocumentChangeKey]
    /// What the event does to the document of one of its ``targets(of:)``. Default:
    /// ``evolve(_:with:)``.
    func evolve(_ document: Document?, with event: RecordedEvent, target: DocumentChangeKey) throws -> DocumentChange
    /// Whether some events change documents of entities other than their stream's (then an
    /// entity's timeline is its stream's events and those other events). Default: `false`.
    var changesOtherEntities: Bool { get }
    /// Every document the event changes, as it was (`current` reads it), and what the event
    /// does to it: what the engine applies. Default: ``targets(of:)``, then
    /// ``evolve(_:with:target:)`` for each; a projection whose targets all read the event's
    /// data overrides it to read the data once.
    func changes(of event: RecordedEvent, current: (DocumentChangeKey) throws -> Document?) throws -> [TargetChange]
    /// Whether appending an event of this type erases its stream: the store then hard-deletes
    /// the stream (events purged, tombstoned) in the same transaction. Default: never.
    func erases(eventType: String, in stream: StreamName) -> Bool
    /// Checks an event about to be appended against the rules the projection gives its type
    /// (a schema's payload schema, `require:`, `unique:`, declared types), in the write
    /// transaction, just before the event is stored: `documents` holds what the append and
    /// the batch wrote so far. Every way in runs it — stream appends, declarative writes, the
    /// library, the CLI, reactor outcomes — so a rule holds whatever the way in; only imports
    /// (history as it was) skip it.
    ///
    /// `documents` is `nil` when the projection's documents are not current in the write
    /// transaction (async and live lifecycles): only the checks that need no documents run.
    /// Default: no checks.
    func checkAppend(_ event: RecordedEvent, documents: (any DocumentLookup)?) throws
    /// What ``checkAppend(_:documents:)`` will most likely read for an event, so that a
    /// backend that reads ahead (PostgreSQL) fetches it with the rest of a batch. A hint:
    /// what it misses is read when asked for. Default: nothing.
    func readsForCheck(of event: RecordedEvent) -> [AppendCheckRead]
    /// Whether any event type has personal fields (see ``PersonalData``): a store then
    /// needs a master key. Default: no.
    var declaresPersonalData: Bool { get }
    /// Whether events of this type may have personal fields (the writer parses only those).
    func declaresPersonalFields(type: String) -> Bool
    /// The personal fields of an event about to be appended to `stream` and whose they are;
    /// ``LogWriter`` seals them on every way in (imports keep what they carry). Throws
    /// ``ChronicleError/Code/invalidPayload`` when a subject cannot be found in the event.
    /// `data` is evaluated only when asked for (it parses the event's data).
    func personalFields(type: String, stream: StreamName, data: @autoclosure () throws -> JSONValue) throws -> [PersonalField]
}

/// One document an event changes: which, as it was before, and what the event does to it.
public struct TargetChange: Sendable {
    /// The document's entity kind and id.
    public var target: DocumentChangeKey
    /// The document before the event (`nil`: none).
    public var before: Document?
    /// What the event does to it.
    public var change: DocumentChange

    /// Creates a change.
    public init(target: DocumentChangeKey, before: Document?, change: DocumentChange) {
        self.target = target
        self.before = before
        self.change = change
    }
}

/// A read a projection's append check makes: a document, or the holder of a unique value.
public enum AppendCheckRead: Sendable, Hashable {
    /// An entity's document.
    case document(entity: String, id: String)
    /// The live entity holding `value` in `field`.
    case holder(entity: String, field: String, value: JSONValue)
}

extension Projection {
    /// The entity of ``entity(of:)``, if any.
    public func targets(of event: RecordedEvent) -> [DocumentChangeKey] {
        entity(of: event).map { [DocumentChangeKey(entity: $0.entity, id: $0.id)] } ?? []
    }

    /// ``evolve(_:with:)``: the event changes the one entity of ``entity(of:)``.
    public func evolve(_ document: Document?, with event: RecordedEvent, target: DocumentChangeKey) throws -> DocumentChange {
        try evolve(document, with: event)
    }

    /// Events change their own stream's entity only.
    public var changesOtherEntities: Bool { false }

    /// ``targets(of:)``, each with ``evolve(_:with:target:)``.
    public func changes(of event: RecordedEvent, current: (DocumentChangeKey) throws -> Document?) throws -> [TargetChange] {
        try changesTargetByTarget(of: event, current: current)
    }

    /// ``targets(of:)``, each with ``evolve(_:with:target:)``: the default of
    /// ``changes(of:current:)``, for an override to fall back on.
    public func changesTargetByTarget(of event: RecordedEvent, current: (DocumentChangeKey) throws -> Document?) throws -> [TargetChange] {
        try targets(of: event).map { target in
            let before = try current(target)
            return TargetChange(target: target, before: before, change: try evolve(before, with: event, target: target))
        }
    }

    /// Never erases.
    public func erases(eventType: String, in stream: StreamName) -> Bool { false }

    /// No personal fields.
    public var declaresPersonalData: Bool { false }

    /// No personal fields.
    public func declaresPersonalFields(type: String) -> Bool { false }

    /// No personal fields.
    public func personalFields(type: String, stream: StreamName, data: @autoclosure () throws -> JSONValue) throws -> [PersonalField] { [] }

    /// No checks.
    public func checkAppend(_ event: RecordedEvent, documents: (any DocumentLookup)?) throws {}

    /// Nothing to read.
    public func readsForCheck(of event: RecordedEvent) -> [AppendCheckRead] { [] }

    /// The stream of an entity: `entity-id`, the inverse of the usual ``entity(of:)``.
    public func stream(entity: String, id: String) -> StreamName? {
        try? StreamName("\(entity)-\(id)")
    }

    /// The document of an entity folded from its stream's events (the live lifecycle); a
    /// soft-deleted stream gives a document marked deleted.
    public func liveDocument(events: [RecordedEvent], status: StreamInfo.Status?) throws -> Document? {
        guard status != .tombstoned, var document = try fold(events).last?.document else { return nil }
        if status == .softDeleted { document.deleted = true }
        return document
    }
}

/// Reads the documents a store keeps for its inline projection.
public protocol DocumentStore: Sendable {
    /// The document of an entity, deleted or not; `nil` if there is none.
    func document(entity: String, id: String) async throws -> Document?
    /// A page of an entity's documents.
    func documents(_ query: DocumentQuery) async throws -> DocumentPage
    /// The log position up to which the documents are current: the head for an inline
    /// projection, the checkpoint for an asynchronous one.
    func documentsPosition() async throws -> Int64
    /// The latest snapshot of an entity's document at or before a point, if the store keeps
    /// snapshots; time travel folds on from it instead of from the first event.
    func snapshot(entity: String, id: String, before point: EntityTimeline.Point) async throws -> Document?
    /// The document of an entity as it was right after `position`; see ``ProjectionStore/document(entity:id:projection:asOf:)``.
    func document(entity: String, id: String, asOf position: Int64) async throws -> Document?
    /// A page of documents as they were right after `position`; see ``ProjectionStore/documents(_:projection:asOf:)``.
    func documents(_ query: DocumentQuery, asOf position: Int64) async throws -> DocumentPage
    /// Where the recorded past starts; see ``ProjectionStore/historyStart(projection:)``.
    func historyStart() async throws -> Int64
    /// The positions at which an entity's document changed; see ``ProjectionStore/changePositions(entity:id:projection:after:)``.
    func changePositions(entity: String, id: String, after position: Int64) async throws -> [Int64]
    /// What changed between two positions; see ``ProjectionStore/changes(projection:from:to:entity:after:limit:)``.
    func changes(from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int) async throws -> ChangePage
    /// Drops the documents and rebuilds them from the events alone; returns the number of
    /// events replayed. Readers see the old documents until the new ones are complete.
    /// `progress` gets the log position reached and the position the rebuild goes to.
    @discardableResult
    func rebuildDocuments(progress: @Sendable (_ done: Int64, _ total: Int64) -> Void) async throws -> Int
}

extension DocumentStore {
    /// Rebuilds the documents without reporting progress.
    @discardableResult
    public func rebuildDocuments() async throws -> Int {
        try await rebuildDocuments { _, _ in }
    }
}

extension Projection {
    /// Folds events (of one entity, in order) into the document as it stood after each;
    /// the time-travel and history primitive. With `target`, each event is applied as it
    /// changes that entity (``evolve(_:with:target:)``), so events of other streams fold in too.
    public func fold(_ events: [RecordedEvent], from start: Document? = nil, target: DocumentChangeKey? = nil) throws -> [(event: RecordedEvent, document: Document?)] {
        var current = start
        var steps: [(event: RecordedEvent, document: Document?)] = []
        for event in events {
            let change = try target.map { try evolve(current, with: event, target: $0) } ?? evolve(current, with: event)
            switch change {
            case .none: break
            case .save(let document): current = document
            case .remove: current = nil
            }
            steps.append((event, current))
        }
        return steps
    }
}

/// The documents of one projection held in memory, built by applying events in order: what
/// rebuilds and imports fold the log into before storing it. With `recordingHistory`, it also
/// keeps the temporal table's changes, for the caller to take (``takeHistory()``) and store.
public struct DocumentSet: Sendable, DocumentWriting {
    /// The documents, by entity and id.
    public private(set) var documents: [String: [String: Document]] = [:]
    /// Whether ``history`` is kept.
    public var recordingHistory: Bool
    /// The temporal table's changes not taken yet.
    public private(set) var history: [DocumentHistoryChange] = []

    /// A set holding `documents`.
    public init(_ documents: [String: [String: Document]] = [:], recordingHistory: Bool = false) {
        self.documents = documents
        self.recordingHistory = recordingHistory
    }

    /// Applies one event through the projection.
    public mutating func apply(_ event: RecordedEvent, _ projection: any Projection) throws {
        try projection.apply(event, to: &self, snapshotInterval: 0)
    }

    /// Returns the recorded changes and forgets them.
    public mutating func takeHistory() -> [DocumentHistoryChange] {
        defer { history = [] }
        return history
    }

    /// Every document.
    public var all: [Document] { documents.values.flatMap(\.values) }

    /// An entity's document; see ``DocumentLookup/document(entity:id:)``.
    public func document(entity: String, id: String) -> Document? { documents[entity]?[id] }

    /// The first live holder by id, as the stored backends answer; see ``DocumentLookup/holder(entity:field:value:)``.
    public func holder(entity: String, field: String, value: JSONValue) -> String? {
        documents[entity]?.values.filter { !$0.deleted && $0.state[field].map { JSONValue.equal($0, value) } == true }.map(\.id).min()
    }

    public mutating func saveDocument(_ document: Document, snapshot: Bool) {
        documents[document.entity, default: [:]][document.id] = document
    }

    public mutating func removeDocument(entity: String, id: String) {
        documents[entity]?[id] = nil
    }

    public mutating func recordHistory(_ change: DocumentHistoryChange) {
        if recordingHistory { history.append(change) }
    }
}
