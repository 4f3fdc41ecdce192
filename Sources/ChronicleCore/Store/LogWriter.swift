import Foundation

/// What a backend provides inside one write transaction, so that ``LogWriter`` can apply
/// appends and deletes with the same rules on every backend.
///
/// For backend authors; users of a store never see it.
public protocol EventStoreTransaction {
    /// The documents of an inline projection as the transaction sees them (with what the
    /// append and the batch wrote so far).
    func documents(of projection: String) -> any DocumentLookup
    /// The stream's state, or `nil` if it was never written.
    func stream(_ name: StreamName) throws -> StreamInfo?
    /// The stored event with this id, if any.
    func event(id: UUID) throws -> RecordedEvent?
    /// Stores an event and its stream's new state, and applies the inline projections to
    /// `revealed` (the event with its personal fields as sent, when ``LogWriter`` sealed
    /// them) or else to `event`. Throws ``ChronicleError/Code/idempotencyConflict`` if the
    /// event's id is already stored.
    mutating func insert(_ event: RecordedEvent, stream: StreamInfo, revealed: RecordedEvent?) throws
    /// Saves a stream's state.
    mutating func save(_ stream: StreamInfo) throws
    /// Removes every event of the stream, keeping each one's position and hash for verification.
    mutating func purge(_ stream: StreamName) throws
    /// The position of the first stored event after `position` that matches `query` (those
    /// the transaction inserted included), or `nil`: an append condition's check.
    func firstMatch(_ query: DCBQuery, after position: Int64) throws -> Int64?
    /// The subject's row in the key table (see ``PersonalData``), if it has one.
    func subjectKey(for subject: String) throws -> StoredSubjectKey?
    /// Saves a subject's key row (replacing the subject's previous one); erasing saves one
    /// without a key. The store must not keep the old key's bytes anywhere it can read.
    mutating func saveSubjectKey(_ key: StoredSubjectKey) throws
    /// The stored events (as stored: sealed) with a value sealed by that key.
    func events(sealedWith keyID: UUID) throws -> [RecordedEvent]
}

extension EventStoreTransaction {
    /// Stores an event whose inline projections see it as stored.
    public mutating func insert(_ event: RecordedEvent, stream: StreamInfo) throws {
        try insert(event, stream: stream, revealed: nil)
    }
}

/// The append and delete rules, as one value shared by every backend: expectations,
/// idempotent retries, positions, revisions, timestamps and the hash chain.
///
/// A backend keeps a `LogWriter` for its write transaction, calls ``append(_:in:now:)`` or
/// ``delete(_:mode:expected:in:now:)``, and on failure rolls back both its transaction and
/// its copy of the writer.
public struct LogWriter: Sendable {
    /// The position of the last event written.
    public private(set) var head: Int64
    /// The hash of the last event written.
    public private(set) var lastHash: EventHash
    /// The recording time of the last event written (times never go backwards).
    public private(set) var lastRecordedAt: Int64
    /// The key that wraps the subject keys personal fields are sealed with.
    public let masterKey: MasterKey?
    /// What sealed appends ahead of the writer; it learns the keys the writer sees.
    let sealer: PersonalSealer?
    private var encoder = CanonicalEventEncoder()

    /// Starts after the given last event (`head` 0 and ``HashChain/genesis`` for an empty
    /// log); `masterKey` seals personal fields (``PersonalData``), `sealer` is the store's
    /// ``PersonalSealer`` (whose sealing ahead the writer checks, and which learns its keys).
    public init(head: Int64 = 0, lastHash: EventHash = .zero, lastRecordedAt: Int64 = 0, masterKey: MasterKey? = nil, sealer: PersonalSealer? = nil) {
        self.head = head
        self.lastHash = lastHash
        self.lastRecordedAt = lastRecordedAt
        self.masterKey = masterKey
        self.sealer = sealer
    }

    /// Applies an append. Each event is first checked by every projection's rules
    /// (``Projection/checkAppend(_:documents:)``): an inline projection's with its documents
    /// as they stand just before the event, the others with the checks that need no
    /// documents. The request's own rules read the documents of the inline projection they
    /// name (``AppendRule/projection``), or of the first inline one. An
    /// event that a projection says erases its stream (a schema's `erase`) hard-deletes the
    /// stream right after, in the same transaction.
    ///
    /// A retry (events whose ids are stored) is answered with the original result. To keep
    /// the usual path to one lookup per stream, stored ids are only looked up when the
    /// append would otherwise fail: its expectation or a rule no longer holds, or its first
    /// event's id is taken.
    public mutating func append(_ request: PreparedAppend, in transaction: inout some EventStoreTransaction, now: Int64, projections: [ProjectionRegistration] = []) throws -> AppendResult {
        let result = try append(request, in: &transaction, now: now, checks: projections)
        guard !projections.isEmpty else { return result }
        for part in request.streams where part.erases(projections) {
            if try transaction.stream(part.stream)?.status != .tombstoned {
                _ = try delete(part.stream, mode: .hard, expected: .any, in: &transaction, now: now)
            }
        }
        return result
    }

    private mutating func append(_ request: PreparedAppend, in transaction: inout some EventStoreTransaction, now: Int64, checks projections: [ProjectionRegistration]) throws -> AppendResult {
        // Personal fields are sealed first, so that a retry compares with what is stored.
        let (request, plaintext) = try sealPersonalFields(of: request, projections: projections, in: &transaction)
        // The expectations and the request's own rules come before the first write, so that
        // an append they refuse writes nothing (backends can skip a savepoint when a failure
        // wrote nothing); a projection's rules run per event, after the events before it.
        var currentRevisions: [Int64?] = []
        currentRevisions.reserveCapacity(request.streams.count)
        for part in request.streams {
            let info = try transaction.stream(part.stream)
            do {
                try Self.check(part.expected, against: info, stream: part.stream)
            } catch let error as ChronicleError where error.code == .wrongExpectedRevision {
                if let original = try Self.originalResult(of: request, in: transaction) { return original }
                throw error
            }
            currentRevisions.append(info?.revision)
        }
        do {
            for rule in request.rules {
                let inline = projections.first { $0.lifecycle == .inline && (rule.projection == nil || $0.name == rule.projection) }
                guard let inline else {
                    throw ChronicleError(.invalidInput, "Rules need an inline projection\(rule.projection.map { " (\($0))" } ?? ""): their documents must be current in the append's transaction. Open the store with one.")
                }
                try rule.verify(in: transaction.documents(of: inline.name))
            }
            if let condition = request.condition, let found = try transaction.firstMatch(condition.failIfEventsMatch, after: condition.after ?? 0) {
                var error = ChronicleError(.appendConditionFailed, "An event matching the append's condition is stored after position \(condition.after ?? 0) (at position \(found)): the decision read stale events. Read again with the query, decide again, and retry with the new head as after.")
                error.details = ["position": .integer(found)]
                throw error
            }
        } catch let error as ChronicleError {
            if let original = try Self.originalResult(of: request, in: transaction) { return original }
            throw error
        }
        let start = self
        let recordedAt = max(now, lastRecordedAt)
        var results: [AppendResult.StreamResult] = []
        results.reserveCapacity(request.streams.count)
        for (part, currentRevision) in zip(request.streams, currentRevisions) {
            let firstRevision = (currentRevision ?? -1) + 1
            var revision = firstRevision - 1
            let firstPosition = head + 1
            for event in part.events {
                revision += 1
                let stored = record(event, stream: part.stream, revision: revision, recordedAt: recordedAt)
                let revealed = plaintext[event.id].map { data in
                    var revealed = stored
                    revealed.dataJSON = data
                    return revealed
                }
                let nothingWritten = stored.position == start.head + 1
                do {
                    for registration in projections {
                        try registration.projection.checkAppend(revealed ?? stored, documents: registration.lifecycle == .inline ? transaction.documents(of: registration.name) : nil)
                    }
                    try transaction.insert(stored, stream: StreamInfo(stream: part.stream, revision: revision, status: .active), revealed: revealed)
                } catch let error as ChronicleError where nothingWritten {
                    // Nothing is written yet: this may be a retry of a stored append (whose
                    // rules, checked again now, may no longer hold).
                    self = start
                    if let original = try Self.originalResult(of: request, in: transaction) { return original }
                    throw error
                }
            }
            results.append(.init(stream: part.stream, firstRevision: firstRevision, lastRevision: revision, firstPosition: firstPosition, lastPosition: head))
        }
        return AppendResult(streams: results)
    }

    /// Applies a delete and records it as a `$streamDeleted` event in `$streams`.
    public mutating func delete(_ stream: StreamName, mode: DeleteMode, expected: ExpectedRevision, in transaction: inout some EventStoreTransaction, now: Int64) throws -> DeleteResult {
        if stream.isReserved {
            throw ChronicleError(.invalidInput, "Stream \(stream.rawValue.debugDescription) is reserved for Chronicle and cannot be deleted.", stream: stream)
        }
        guard let info = try transaction.stream(stream), let revision = info.revision else {
            throw ChronicleError(.streamNotFound, "Stream \(stream.rawValue.debugDescription) does not exist; there is nothing to delete.", stream: stream)
        }
        if info.status == .tombstoned {
            throw Self.tombstoned(stream)
        }
        if info.status == .softDeleted && mode == .soft {
            throw ChronicleError(.streamNotFound, "Stream \(stream.rawValue.debugDescription) is already deleted (soft). Use mode=hard to purge it.", stream: stream)
        }
        if info.status == .active {
            try Self.check(expected, against: info, stream: stream)
        } else if case .exact(let wanted) = expected, wanted != revision {
            throw Self.wrongRevision(stream, expected: expected, actual: revision)
        }
        if mode == .hard {
            try transaction.purge(stream)
        }
        try transaction.save(StreamInfo(stream: stream, revision: revision, status: mode == .hard ? .tombstoned : .softDeleted))
        let stored = try appendSystemEvent(StreamDeletion.eventType, to: .deletions, data: StreamDeletion.data(stream: stream, mode: mode, revision: revision), in: &transaction, now: now)
        return DeleteResult(stream: stream, revision: revision, position: stored.position)
    }

    /// Appends one of Chronicle's own events (a `$` type to a `$` stream), which users cannot
    /// append: deletions, parked reactor events.
    public mutating func appendSystemEvent(_ type: String, to stream: StreamName, data: JSONValue, metadata: JSONValue = [:], in transaction: inout some EventStoreTransaction, now: Int64) throws -> RecordedEvent {
        let revision = (try transaction.stream(stream)?.revision ?? -1) + 1
        let event = PreparedEvent(unchecked: .timeOrdered(), type: type, data: data.canonicalText, metadata: metadata.canonicalText)
        let stored = record(event, stream: stream, revision: revision, recordedAt: max(now, lastRecordedAt))
        try transaction.insert(stored, stream: StreamInfo(stream: stream, revision: revision, status: .active))
        return stored
    }

    private mutating func record(_ event: PreparedEvent, stream: StreamName, revision: Int64, recordedAt: Int64) -> RecordedEvent {
        head += 1
        var stored = RecordedEvent(
            id: event.id, stream: stream, type: event.type, revision: revision, position: head,
            recordedAtMicroseconds: recordedAt, dataJSON: event.data, metadataJSON: event.metadata, hash: .zero, tags: event.tags
        )
        stored.hash = encoder.hash(previous: lastHash, event: stored)
        lastHash = stored.hash
        lastRecordedAt = recordedAt
        return stored
    }

    /// Checks an expectation against a stream's state. A soft-deleted stream counts as not
    /// existing, but its revision continues, so `.exact(lastRevision)` still matches it.
    public static func check(_ expected: ExpectedRevision, against info: StreamInfo?, stream: StreamName) throws {
        if info?.status == .tombstoned {
            throw tombstoned(stream)
        }
        let revision = info?.revision
        let exists = info?.status == .active && revision != nil
        switch expected {
        case .any:
            return
        case .noStream where !exists, .streamExists where exists:
            return
        case .exact(let wanted) where wanted == revision:
            return
        default:
            throw wrongRevision(stream, expected: expected, actual: revision)
        }
    }

    static func wrongRevision(_ stream: StreamName, expected: ExpectedRevision, actual: Int64?) -> ChronicleError {
        let found = actual.map { "is at revision \($0)" } ?? "has no events"
        return ChronicleError(
            .wrongExpectedRevision,
            "Stream \(stream.rawValue.debugDescription) \(found), but the request expected \(expected). Read the stream again, decide again, and retry with the new revision.",
            stream: stream, expectedRevision: expected, actualRevision: actual
        )
    }

    static func tombstoned(_ stream: StreamName) -> ChronicleError {
        ChronicleError(.streamDeleted, "Stream \(stream.rawValue.debugDescription) was hard-deleted; it can never be read or written again. Use another stream name.", stream: stream)
    }

    /// If the request's events are all stored already (a retry), the result they got the
    /// first time; `nil` if none is stored; an idempotency conflict if only some are, or with
    /// other content.
    static func originalResult(of request: PreparedAppend, in transaction: some EventStoreTransaction) throws -> AppendResult? {
        var firstEvents: [RecordedEvent?] = []
        for part in request.streams {
            firstEvents.append(try transaction.event(id: part.events[0].id))
        }
        if firstEvents.allSatisfy({ $0 == nil }) { return nil }
        var results: [AppendResult.StreamResult] = []
        for (part, first) in zip(request.streams, firstEvents) {
            guard first != nil else {
                throw ChronicleError(.idempotencyConflict, "Part of this append was stored before, but not its events for \(part.stream.rawValue.debugDescription). Retry exactly the original append, or use new event ids for a new one.", stream: part.stream)
            }
            var stored: [RecordedEvent] = []
            for event in part.events {
                guard let existing = try transaction.event(id: event.id) else {
                    throw ChronicleError(.idempotencyConflict, "Event \(event.id) was not stored with the rest of the original append to \(part.stream.rawValue.debugDescription). Retry exactly the original append, or use new event ids.", stream: part.stream)
                }
                guard existing.stream == part.stream else {
                    throw ChronicleError(.idempotencyConflict, "Event id \(event.id) is already stored in stream \(existing.stream.rawValue.debugDescription), not \(part.stream.rawValue.debugDescription). Use a new id for a new event.", stream: part.stream)
                }
                guard event.hasSameContent(as: existing) else {
                    throw ChronicleError(.idempotencyConflict, "Event id \(event.id) is already stored with a different type or data. Use a new id for a new event.", stream: part.stream)
                }
                if let previous = stored.last, existing.revision != previous.revision + 1 {
                    throw ChronicleError(.idempotencyConflict, "Events \(previous.id) and \(event.id) were stored, but not together in this order. Retry exactly the original append.", stream: part.stream)
                }
                stored.append(existing)
            }
            results.append(.init(stream: part.stream, firstRevision: stored[0].revision, lastRevision: stored[stored.count - 1].revision, firstPosition: stored[0].position, lastPosition: stored[stored.count - 1].position))
        }
        return AppendResult(streams: results, replayed: true)
    }
}

extension PreparedEvent {
    /// An event Chronicle makes itself, already canonical.
    init(unchecked id: UUID, type: String, data: String, metadata: String) {
        self.id = id
        self.type = type
        self.data = data
        self.metadata = metadata
    }
}
