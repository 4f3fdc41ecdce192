/// Where the projection engine writes documents inside a driver's write transaction: the
/// driver stores what it is told (SQL, or a batch's pending changes), the engine decides
/// what that is (``Projection/apply(_:to:snapshotInterval:)``).
public protocol DocumentWriting: DocumentLookup {
    /// Stores a document (new or changed); with `snapshot`, also keeps it as a snapshot of
    /// its version for time travel.
    mutating func saveDocument(_ document: Document, snapshot: Bool) throws
    /// Removes an entity's document and its snapshots (a hard delete or an erase).
    mutating func removeDocument(entity: String, id: String) throws
    /// Records the change in the projection's temporal table, in the same transaction (see
    /// ``DocumentHistoryPlan`` for what a driver does with a list of them).
    mutating func recordHistory(_ change: DocumentHistoryChange) throws
}

extension Projection {
    /// Applies one stored event to the documents — the inline and the asynchronous
    /// lifecycles' step, written once for every backend: the event's ``changes(of:current:)``
    /// (each target, its current document, what the event does to it), the temporal table's
    /// row, and a snapshot every `snapshotInterval` versions (0: never).
    public func apply(_ event: RecordedEvent, to documents: inout some DocumentWriting, snapshotInterval: Int) throws {
        // The targets are distinct, so reading each before writing any is the same as in turn.
        for step in try changes(of: event, current: { try documents.document(entity: $0.entity, id: $0.id) }) {
            let current = step.before
            switch step.change {
            case .none:
                break
            case .save(let document):
                let snapshot = snapshotInterval > 0 && document.version >= 0 && (document.version + 1) % Int64(snapshotInterval) == 0 && document.version != current?.version
                try documents.saveDocument(document, snapshot: snapshot)
                try documents.recordHistory(.saved(document, replacing: current?.position))
            case .remove(let entity, let id):
                try documents.removeDocument(entity: entity, id: id)
                try documents.recordHistory(.removed(entity: entity, id: id, at: event.position))
            }
        }
    }
}
