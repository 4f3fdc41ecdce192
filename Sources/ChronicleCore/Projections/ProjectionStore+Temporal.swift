extension ProjectionStore {
    /// A page of what changed in a projection between two positions: each entity whose
    /// document changed in `(from, to]`, with its state at both ends and the patch between
    /// them, in position order of its last change.
    public func changes(projection: String, from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int) async throws -> ChangePage {
        try refuseLive(projection, "list changes")
        let found = try await changedDocuments(projection: projection, from: from, to: to, entity: entity, after: cursor, limit: max(0, limit) + 1)
        let page = Array(found.prefix(max(0, limit)))
        return ChangePage(changes: page.map(EntityChange.init), next: found.count > page.count ? page.last?.cursor : nil)
    }

    // The primary projection, for the single-projection protocols.

    /// See ``DocumentStore/document(entity:id:asOf:)``.
    public func document(entity: String, id: String, asOf position: Int64) async throws -> Document? {
        guard let primary = projections.first?.name else { return nil }
        return try await document(entity: entity, id: id, projection: primary, asOf: position)
    }

    /// See ``DocumentStore/documents(_:asOf:)``.
    public func documents(_ query: DocumentQuery, asOf position: Int64) async throws -> DocumentPage {
        guard let primary = projections.first?.name else { return DocumentPage(documents: [], next: nil) }
        return try await documents(query, projection: primary, asOf: position)
    }

    /// See ``DocumentStore/historyStart()``.
    public func historyStart() async throws -> Int64 {
        guard let primary = projections.first?.name else { return 0 }
        return try await historyStart(projection: primary)
    }

    /// See ``DocumentStore/changePositions(entity:id:after:)``.
    public func changePositions(entity: String, id: String, after position: Int64) async throws -> [Int64] {
        guard let primary = projections.first?.name else { return [] }
        return try await changePositions(entity: entity, id: id, projection: primary, after: position)
    }

    /// See ``DocumentStore/changes(from:to:entity:after:limit:)``.
    public func changes(from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int) async throws -> ChangePage {
        guard let primary = projections.first?.name else { return ChangePage(changes: [], next: nil) }
        return try await changes(projection: primary, from: from, to: to, entity: entity, after: cursor, limit: limit)
    }

    /// A live projection's document as of a position: folded from its stream's events and
    /// the deletions recorded of it (`$streamDeleted`), in log order, up to there.
    public func liveDocument(_ projection: any Projection, events: [RecordedEvent], asOf position: Int64) throws -> Document? {
        try projection.fold(events.filter { $0.position <= position }).last?.document
    }
}

extension EventStore {
    /// The last position recorded at or before `instant` (microseconds since the epoch), 0 if
    /// none was: positions are recorded in time order (a writer never records an event
    /// earlier than the one before it), so a binary search over the log finds it in a few
    /// reads.
    public func position(atInstant instant: Int64) async throws -> Int64 {
        var low: Int64 = 0, high = try await headPosition()
        // Invariant: every event at or below `low` was recorded at or before `instant`; every
        // event above `high` after it.
        while low < high {
            let middle = low + (high - low + 1) / 2
            // The first stored event at or after `middle` (purged positions are skipped).
            guard let event = try await readLog(after: middle - 1, limit: 1, filter: LogFilter()).events.first, event.position <= high else {
                high = middle - 1
                continue
            }
            if event.recordedAtMicroseconds <= instant {
                low = event.position
            } else {
                high = middle - 1
            }
        }
        return low
    }
}
