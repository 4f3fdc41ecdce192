import Foundation

/// An event store in memory, for unit tests of code that uses an ``EventStore``.
///
/// It follows every rule of the durable backends (it passes the same conformance suite) but
/// keeps nothing when the process ends. Don't use it in production.
public actor InMemoryEventStore: ProjectionStore, DocumentStore, AsyncProjectionStore, LogArchive, ReactorStore, LeaseStore, PersonalDataStore {
    struct Storage {
        var events: [Int64: RecordedEvent] = [:]
        var eventsByID: [UUID: Int64] = [:]
        var streamPositions: [StreamName: [Int64]] = [:]
        var streams: [StreamName: StreamInfo] = [:]
        var purged: [Int64: EventHash] = [:]
        /// Documents by projection, entity and id.
        var documents: [String: [String: [String: Document]]] = [:]
        /// The temporal tables, by projection.
        var versions: [String: DocumentVersions] = [:]
        /// The key table, by subject.
        var keys: [String: StoredSubjectKey] = [:]
    }

    var storage = Storage()
    var writer: LogWriter
    /// The master key the subject keys are wrapped with: the one given, or a random one for
    /// the store's life when its projections declare personal fields.
    public nonisolated let masterKey: MasterKey?
    /// Seals appends' personal fields before the writer checks them (as the other stores do).
    nonisolated let sealer: PersonalSealer
    private let notifier = CommitNotifier()
    private let limits: EventStoreLimits
    /// The projections the store keeps, the primary one first.
    public nonisolated let projections: [ProjectionRegistration]
    private var checkpoints: [String: Int64] = [:]
    private var reactorCheckpoints: [String: Int64] = [:]
    private var parked: [String: [ParkedEvent]] = [:]
    private var leases: [String: (owner: String, expiresAt: Int64)] = [:]

    /// Takes or renews a lease; see ``LeaseStore/acquireLease(_:owner:duration:)``.
    public func acquireLease(_ name: String, owner: String, duration: Duration) -> Bool {
        let now = Timestamp.now()
        if let lease = leases[name], lease.owner != owner, lease.expiresAt > now { return false }
        leases[name] = (owner, now + duration.microseconds)
        return true
    }

    /// Gives a lease up; see ``LeaseStore/releaseLease(_:owner:)``.
    public func releaseLease(_ name: String, owner: String) {
        if leases[name]?.owner == owner { leases[name] = nil }
    }

    /// The holder of an unexpired lease; see ``LeaseStore/leaseHolder(_:)``.
    public func leaseHolder(_ name: String) -> String? {
        leases[name].flatMap { $0.expiresAt > Timestamp.now() ? $0.owner : nil }
    }

    /// A reactor's checkpoint; see ``ReactorStore/reactorCheckpoint(_:fromBeginning:)``.
    public func reactorCheckpoint(_ reactor: String, fromBeginning: Bool) -> Int64 {
        if let position = reactorCheckpoints[reactor] { return position }
        let start = fromBeginning ? 0 : writer.head
        reactorCheckpoints[reactor] = start
        return start
    }

    /// A reactor's checkpoint if it started; see ``ReactorStore/reactorPosition(_:)``.
    public func reactorPosition(_ reactor: String) -> Int64? { reactorCheckpoints[reactor] }

    /// Appends a reaction's outcomes and moves the checkpoint together; see
    /// ``ReactorStore/completeReaction(_:after:through:outcomes:)``.
    public func completeReaction(_ reactor: String, after expected: Int64, through: Int64, outcomes: [ReactorOutcome]) throws {
        guard reactorCheckpoints[reactor] == expected else { return }
        if !outcomes.isEmpty {
            let prepared = try AppendRequest(outcomes.map { .init(stream: $0.stream, events: $0.events) }).prepared(limits: limits)
            _ = try write { writer, transaction in
                try writer.append(prepared, in: &transaction, now: Timestamp.now(), projections: projections)
            }
        }
        reactorCheckpoints[reactor] = through
    }

    /// Parks an event (recording `$reactorParked`) and moves the checkpoint; see ``ReactorStore/park(_:trigger:after:)``.
    public func park(_ event: ParkedEvent, trigger: RecordedEvent, after expected: Int64?) throws {
        if let expected {
            guard reactorCheckpoints[event.reactor] == expected else { return }
            reactorCheckpoints[event.reactor] = event.position
        }
        parked[event.reactor, default: []].removeAll { $0.eventID == event.eventID }
        parked[event.reactor, default: []].append(event)
        parked[event.reactor]?.sort { $0.position < $1.position }
        let record = event.systemEvent(trigger: trigger)
        _ = try write { writer, transaction in
            try writer.appendSystemEvent("$reactorParked", to: .reactors, data: record.data, metadata: record.metadata, in: &transaction, now: Timestamp.now())
        }
    }

    /// A reactor's parked events; see ``ReactorStore/parkedEvents(_:)``.
    public func parkedEvents(_ reactor: String) -> [ParkedEvent] {
        parked[reactor] ?? []
    }

    /// Removes a parked event; see ``ReactorStore/unpark(_:eventID:)``.
    public func unpark(_ reactor: String, eventID: UUID) -> ParkedEvent? {
        guard let index = parked[reactor]?.firstIndex(where: { $0.eventID == eventID }) else { return nil }
        return parked[reactor]?.remove(at: index)
    }

    /// Creates an empty store; `projection`'s documents are kept inline (updated with each
    /// append) or asynchronously (by a `ProjectionRunner`).
    public init(limits: EventStoreLimits = EventStoreLimits(), projection: (any Projection)? = nil, lifecycle: ProjectionLifecycle = .inline, masterKey: MasterKey? = nil) {
        self.limits = limits
        self.projections = ProjectionRegistration.list(primary: projection, lifecycle: lifecycle)
        self.masterKey = masterKey ?? (projection?.declaresPersonalData == true ? .random() : nil)
        self.sealer = PersonalSealer(masterKey: self.masterKey)
        self.writer = LogWriter(masterKey: self.masterKey, sealer: sealer)
    }

    /// Creates an empty store that keeps several projections side by side, each with its own
    /// lifecycle; the first is the primary one (see ``ProjectionStore``).
    public init(limits: EventStoreLimits = EventStoreLimits(), projections: [ProjectionRegistration], masterKey: MasterKey? = nil) throws {
        try ProjectionRegistration.validate(projections)
        self.limits = limits
        self.projections = projections
        self.masterKey = masterKey ?? (projections.contains { $0.projection.declaresPersonalData } ? .random() : nil)
        self.sealer = PersonalSealer(masterKey: self.masterKey)
        self.writer = LogWriter(masterKey: self.masterKey, sealer: sealer)
    }

    /// An asynchronous projection's checkpoint; see ``ProjectionStore/projectionCheckpoint(projection:)``.
    public func projectionCheckpoint(projection name: String) throws -> Int64 {
        _ = try registration(named: name)
        return checkpoints[name] ?? 0
    }

    /// Applies a page of events and moves the checkpoint; see ``AsyncProjectionStore/applyProjection(_:after:through:)``.
    public func applyProjection(_ events: [RecordedEvent], after expected: Int64, through: Int64, projection name: String) throws -> Int64 {
        let projection = try asyncRegistration(name).projection
        let checkpoint = checkpoints[name] ?? 0
        guard checkpoint == expected, through > expected else { return checkpoint }
        var documents = DocumentSet(storage.documents[name] ?? [:], recordingHistory: true)
        for event in events where event.position > expected && event.position <= through {
            try documents.apply(event, projection)
        }
        storage.documents[name] = documents.documents
        storage.versions[name, default: DocumentVersions()].apply(DocumentHistoryPlan(documents.takeHistory()))
        checkpoints[name] = through
        return through
    }

    /// An entity's document in a projection; see ``ProjectionStore/document(entity:id:projection:)``.
    public func document(entity: String, id: String, projection name: String) throws -> Document? {
        let registration = try registration(named: name)
        if registration.lifecycle == .live {
            guard let stream = registration.projection.stream(entity: entity, id: id) else { return nil }
            let events = try revealed((storage.streamPositions[stream] ?? []).compactMap { storage.events[$0] })
            return try registration.projection.liveDocument(events: events, status: storage.streams[stream]?.status)
        }
        return storage.documents[name]?[entity]?[id]
    }

    /// No snapshots in memory: time travel folds from the first event; see ``ProjectionStore/snapshot(entity:id:before:projection:)``.
    public func snapshot(entity: String, id: String, before point: EntityTimeline.Point, projection: String) -> Document? {
        nil
    }

    /// An entity's document as of a position; see ``ProjectionStore/document(entity:id:projection:asOf:)``.
    public func document(entity: String, id: String, projection name: String, asOf position: Int64) throws -> Document? {
        let registration = try registration(named: name)
        if registration.lifecycle == .live {
            guard let stream = registration.projection.stream(entity: entity, id: id) else { return nil }
            let deletions = (storage.streamPositions[.deletions] ?? []).compactMap { storage.events[$0] }.filter { StreamDeletion.stream(of: $0) == stream }
            let events = try revealed(((storage.streamPositions[stream] ?? []).compactMap { storage.events[$0] } + deletions).sorted { $0.position < $1.position })
            return try liveDocument(registration.projection, events: events, asOf: position)
        }
        return storage.versions[name]?.version(entity: entity, id: id, asOf: position)?.document
    }

    /// A page of a projection's documents as of a position; see ``ProjectionStore/documents(_:projection:asOf:)``.
    public func documents(_ query: DocumentQuery, projection name: String, asOf position: Int64) throws -> DocumentPage {
        try refuseLive(name, "list documents")
        return query.page(of: storage.versions[name]?.documents(entity: query.entity, asOf: position) ?? [])
    }

    /// The whole past is recorded in memory; see ``ProjectionStore/historyStart(projection:)``.
    public func historyStart(projection name: String) throws -> Int64 {
        _ = try registration(named: name)
        return 0
    }

    /// The positions an entity's document changed at; see ``ProjectionStore/changePositions(entity:id:projection:after:)``.
    public func changePositions(entity: String, id: String, projection name: String, after position: Int64) throws -> [Int64] {
        guard try registration(named: name).lifecycle != .live else { return [] }
        return (storage.versions[name]?.rows[DocumentChangeKey(entity: entity, id: id)] ?? []).map(\.validFrom).filter { $0 > position }
    }

    /// The entities changed between two positions; see ``ProjectionStore/changedDocuments(projection:from:to:entity:after:limit:)``.
    public func changedDocuments(projection name: String, from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int) throws -> [ChangedDocument] {
        try refuseLive(name, "list changes")
        return storage.versions[name]?.changed(from: from, to: to, entity: entity, after: cursor, limit: limit) ?? []
    }

    /// A page of a projection's documents; see ``ProjectionStore/documents(_:projection:)``.
    public func documents(_ query: DocumentQuery, projection name: String) throws -> DocumentPage {
        try refuseLive(name, "list documents")
        return query.page(of: (storage.documents[name]?[query.entity] ?? [:]).values)
    }

    /// Rebuilds a projection's documents from the events; see ``ProjectionStore/rebuildDocuments(projection:progress:)``.
    @discardableResult
    public func rebuildDocuments(projection name: String, progress: @Sendable (_ done: Int64, _ total: Int64) -> Void) throws -> Int {
        try refuseLive(name, "rebuild documents")
        let projection = try registration(named: name).projection
        var documents = DocumentSet(recordingHistory: true)
        var replayed = 0
        for position in stride(from: Int64(1), through: writer.head, by: 1) {
            guard let event = storage.events[position] else { continue }
            replayed += 1
            try documents.apply(revealed(event), projection)
        }
        storage.documents[name] = documents.documents
        var versions = DocumentVersions()
        versions.apply(DocumentHistoryPlan(documents.takeHistory()))
        storage.versions[name] = versions
        checkpoints[name] = writer.head
        progress(writer.head, writer.head)
        return replayed
    }

    /// Appends events; see ``EventStore/append(_:)``.
    @discardableResult
    public func append(_ request: AppendRequest) throws -> AppendResult {
        let prepared = try sealer.seal(request.prepared(limits: limits), projections: projections)
        try refuseRulesWithoutInlineProjection(prepared)
        return try write { writer, transaction in
            try writer.append(prepared, in: &transaction, now: Timestamp.now(), projections: projections)
        }
    }

    /// Deletes a stream; see ``EventStore/delete(_:mode:expected:)``.
    public func delete(_ stream: StreamName, mode: DeleteMode, expected: ExpectedRevision) throws -> DeleteResult {
        try write { writer, transaction in
            try writer.delete(stream, mode: mode, expected: expected, in: &transaction, now: Timestamp.now())
        }
    }

    func write<T>(_ body: (inout LogWriter, inout Transaction) throws -> T) throws -> T {
        // Move the storage out so that changing it copies nothing; undo the changes on failure.
        var transaction = Transaction(base: storage, inline: inlineProjections)
        storage = Storage()
        var newWriter = writer
        do {
            let result = try body(&newWriter, &transaction)
            storage = transaction.base
            writer = newWriter
            notifier.advance(to: writer.head)
            return result
        } catch {
            transaction.rollBack()
            storage = transaction.base
            throw error
        }
    }

    /// Reads a stream; see ``EventStore/read(_:from:direction:limit:)``.
    public func read(_ stream: StreamName, from start: ReadStart, direction: ReadDirection, limit: Int) throws -> [RecordedEvent] {
        let info = try StreamReadCheck.readable(storage.streams[stream], stream: stream)
        guard limit > 0, let last = info.revision else { return [] }
        let positions = storage.streamPositions[stream] ?? []
        let first = positions.first.flatMap { storage.events[$0]?.revision } ?? 0
        var revisions: [Int64] = []
        let from: Int64
        switch (start, direction) {
        case (.start, .forwards): from = first
        case (.start, .backwards), (.end, _): from = last
        case (.revision(let revision), _): from = revision
        }
        if direction == .forwards {
            var revision = max(from, first)
            while revision <= last && revisions.count < limit { revisions.append(revision); revision += 1 }
        } else {
            var revision = min(from, last)
            while revision >= first && revisions.count < limit { revisions.append(revision); revision -= 1 }
        }
        return try revealed(revisions.compactMap { storage.events[positions[Int($0 - first)]] })
    }

    /// Reads the global log; see ``EventStore/readLog(after:limit:filter:)``.
    public func readLog(after position: Int64, limit: Int, filter: LogFilter) throws -> LogPage {
        var events: [RecordedEvent] = []
        var current = max(position, 0)
        while current < writer.head && events.count < max(limit, 0) {
            current += 1
            if let event = storage.events[current], filter.matches(event) {
                events.append(event)
            }
        }
        return LogPage(events: try revealed(events), scannedThrough: max(current, position))
    }

    /// The state of a stream; see ``EventStore/info(_:)``.
    public func info(_ stream: StreamName) -> StreamInfo? {
        storage.streams[stream]
    }

    /// The last position; see ``EventStore/headPosition()``.
    public func headPosition() -> Int64 { writer.head }

    /// Waits for a commit; see ``EventStore/waitForEvents(after:)``.
    public nonisolated func waitForEvents(after position: Int64) async throws {
        await notifier.wait(after: position)
    }

    /// Entries after a position; see ``LogArchive/exportLog(after:limit:)``.
    public func exportLog(after position: Int64, limit: Int) -> [LogEntry] {
        var entries: [LogEntry] = []
        var current = max(0, position)
        while current < writer.head && entries.count < max(1, limit) {
            current += 1
            if let event = storage.events[current] {
                entries.append(.event(event))
            } else if let hash = storage.purged[current] {
                entries.append(.purged(position: current, hash: hash))
            }
        }
        return entries
    }

    /// The reactors' state; see ``LogArchive/exportReactors()``.
    public func exportReactors() -> ReactorArchive {
        ReactorArchive(checkpoints: reactorCheckpoints, parked: parked.values.flatMap { $0 })
    }

    /// Loads a log into this empty store; see ``LogArchive/importLog(_:reactors:progress:)``.
    public func importLog(_ entries: [LogEntry], reactors: ReactorArchive, progress: @Sendable (Int) -> Void) throws {
        guard writer.head == 0 else {
            throw ChronicleError(.invalidInput, "The store is not empty; import into a new store.")
        }
        try reactors.check(against: entries)
        var check = LogImportCheck()
        var imported = Storage()
        imported.keys = storage.keys
        var last: RecordedEvent?
        for (index, entry) in entries.enumerated() {
            let deletion = try check.check(entry, index: index)
            switch entry {
            case .event(let event):
                imported.events[event.position] = event
                imported.eventsByID[event.id] = event.position
                imported.streamPositions[event.stream, default: []].append(event.position)
                imported.streams[event.stream] = StreamInfo(stream: event.stream, revision: event.revision, status: .active)
                if let deletion { imported.streams[deletion.stream] = deletion }
                last = event
            case .purged(let position, let hash):
                imported.purged[position] = hash
            }
        }
        for registration in projections where registration.lifecycle != .live {
            var documents = DocumentSet(recordingHistory: true)
            for case .event(let event) in entries {
                try documents.apply(revealed(event, keys: imported.keys), registration.projection)
            }
            imported.documents[registration.name] = documents.documents
            var versions = DocumentVersions()
            versions.apply(DocumentHistoryPlan(documents.takeHistory()))
            imported.versions[registration.name] = versions
            checkpoints[registration.name] = entries.last?.position ?? 0
        }
        storage = imported
        reactorCheckpoints = reactors.checkpoints
        parked = Dictionary(grouping: reactors.parked, by: \.reactor)
        writer = LogWriter(head: entries.last?.position ?? 0, lastHash: last?.hash ?? .zero, lastRecordedAt: last?.recordedAtMicroseconds ?? 0, masterKey: masterKey, sealer: sealer)
        progress(entries.count)
        notifier.advance(to: writer.head)
    }

    /// Checks the hash chain; see ``EventStore/verify()``.
    public func verify() -> VerificationReport {
        var verifier = HashChainVerifier()
        var position: Int64 = 1
        while position <= writer.head && !verifier.isBroken {
            if let event = storage.events[position] {
                verifier.check(event)
            } else if let hash = storage.purged[position] {
                verifier.skipPurged(position: position, hash: hash)
            }
            position += 1
        }
        return verifier.report(headPosition: writer.head)
    }

    /// Changes the storage in place and journals how to undo them.
    struct Transaction: EventStoreTransaction, DocumentWriting {
        enum Undo {
            case insert(RecordedEvent, previousStream: StreamInfo?)
            case save(StreamName, previous: StreamInfo?)
            case purge(StreamName, positions: [Int64], events: [RecordedEvent])
            case document(projection: String, entity: String, id: String, previous: Document?)
            case history(projection: String, key: DocumentChangeKey, previous: [DocumentVersion]?)
            case key(String, previous: StoredSubjectKey?)
        }

        var base: Storage
        /// The inline projections, applied to each event as it is inserted.
        let inline: [any Projection]
        /// The projection whose documents ``saveDocument(_:snapshot:)`` and the lookups touch.
        private var scope = ""
        var journal: [Undo] = []

        init(base: Storage, inline: [any Projection]) {
            self.base = base
            self.inline = inline
        }

        func stream(_ name: StreamName) -> StreamInfo? { base.streams[name] }

        func documents(of projection: String) -> any DocumentLookup { DocumentSet(base.documents[projection] ?? [:]) }

        func document(entity: String, id: String) -> Document? { base.documents[scope]?[entity]?[id] }

        func holder(entity: String, field: String, value: JSONValue) -> String? {
            DocumentSet(base.documents[scope] ?? [:]).holder(entity: entity, field: field, value: value)
        }

        func event(id: UUID) -> RecordedEvent? {
            base.eventsByID[id].flatMap { base.events[$0] }
        }

        func firstMatch(_ query: DCBQuery, after position: Int64) -> Int64? {
            base.events.values.filter { $0.position > position && query.matches($0) }.map(\.position).min()
        }

        mutating func insert(_ event: RecordedEvent, stream: StreamInfo, revealed: RecordedEvent?) throws {
            if base.eventsByID[event.id] != nil {
                throw ChronicleError(.idempotencyConflict, "Event id \(event.id) is already stored. Use a new id for a new event, or retry exactly the original append.", stream: event.stream)
            }
            journal.append(.insert(event, previousStream: base.streams[stream.stream]))
            base.events[event.position] = event
            base.eventsByID[event.id] = event.position
            base.streamPositions[event.stream, default: []].append(event.position)
            base.streams[stream.stream] = stream
            for projection in inline {
                scope = projection.name
                try projection.apply(revealed ?? event, to: &self, snapshotInterval: 0)
            }
        }

        mutating func saveDocument(_ document: Document, snapshot: Bool) {
            journal.append(.document(projection: scope, entity: document.entity, id: document.id, previous: base.documents[scope]?[document.entity]?[document.id]))
            base.documents[scope, default: [:]][document.entity, default: [:]][document.id] = document
        }

        mutating func removeDocument(entity: String, id: String) {
            journal.append(.document(projection: scope, entity: entity, id: id, previous: base.documents[scope]?[entity]?[id]))
            base.documents[scope]?[entity]?[id] = nil
        }

        mutating func recordHistory(_ change: DocumentHistoryChange) {
            let key = change.key
            journal.append(.history(projection: scope, key: key, previous: base.versions[scope]?.rows[key]))
            base.versions[scope, default: DocumentVersions()].apply(DocumentHistoryPlan([change]))
        }

        func subjectKey(for subject: String) -> StoredSubjectKey? { base.keys[subject] }

        mutating func saveSubjectKey(_ key: StoredSubjectKey) {
            journal.append(.key(key.subject, previous: base.keys[key.subject]))
            base.keys[key.subject] = key
        }

        func events(sealedWith keyID: UUID) -> [RecordedEvent] {
            base.events.values.filter { PersonalData.isSealed($0.dataJSON, with: keyID) }.sorted { $0.position < $1.position }
        }

        mutating func save(_ stream: StreamInfo) {
            journal.append(.save(stream.stream, previous: base.streams[stream.stream]))
            base.streams[stream.stream] = stream
        }

        mutating func purge(_ stream: StreamName) {
            let positions = base.streamPositions.removeValue(forKey: stream) ?? []
            var events: [RecordedEvent] = []
            for position in positions {
                if let event = base.events.removeValue(forKey: position) {
                    events.append(event)
                    base.eventsByID[event.id] = nil
                    base.purged[position] = event.hash
                }
            }
            journal.append(.purge(stream, positions: positions, events: events))
        }

        mutating func rollBack() {
            while let undo = journal.popLast() {
                switch undo {
                case .insert(let event, let previous):
                    base.events[event.position] = nil
                    base.eventsByID[event.id] = nil
                    base.streamPositions[event.stream]?.removeLast()
                    if base.streamPositions[event.stream]?.isEmpty == true { base.streamPositions[event.stream] = nil }
                    base.streams[event.stream] = previous
                case .save(let name, let previous):
                    base.streams[name] = previous
                case .key(let subject, let previous):
                    base.keys[subject] = previous
                case .document(let projection, let entity, let id, let previous):
                    base.documents[projection, default: [:]][entity, default: [:]][id] = previous
                case .history(let projection, let key, let previous):
                    base.versions[projection]?.setRows(previous, for: key)
                case .purge(let name, let positions, let events):
                    base.streamPositions[name] = positions
                    for event in events {
                        base.events[event.position] = event
                        base.eventsByID[event.id] = event.position
                        base.purged[event.position] = nil
                    }
                }
            }
        }
    }

}

/// The rule every backend applies before reading a stream.
public enum StreamReadCheck {
    /// Returns the info of a readable stream, or throws the error a read of it gets.
    public static func readable(_ info: StreamInfo?, stream: StreamName) throws -> StreamInfo {
        guard let info else {
            throw ChronicleError(.streamNotFound, "Stream \(stream.rawValue.debugDescription) does not exist. Check the name, or append to it first.", stream: stream)
        }
        switch info.status {
        case .active: return info
        case .softDeleted:
            throw ChronicleError(.streamNotFound, "Stream \(stream.rawValue.debugDescription) was deleted (soft). Append to it to bring it back.", stream: stream, actualRevision: info.revision)
        case .tombstoned:
            throw LogWriter.tombstoned(stream)
        }
    }
}
