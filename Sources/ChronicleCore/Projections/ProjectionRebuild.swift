/// What a driver offers a rebuild of one projection: log pages, a place for the fresh
/// documents, and a swap under its write lock. The rebuild itself (fold, progress, catch-up)
/// is ``ProjectionRebuild``'s, written once for every backend.
///
/// For backend authors.
public protocol ProjectionRebuildStorage: Sendable {
    /// The position of the last committed event.
    func head() async throws -> Int64
    /// Committed events in `(after, through]`, in position order, at most `limit`.
    func events(after position: Int64, through: Int64, limit: Int) async throws -> [RecordedEvent]
    /// Keeps the documents folded so far where ``swap(after:catchUp:)`` finds them (a fresh
    /// table, or memory); readers still see the old documents.
    func stage(_ documents: [Document]) async throws
    /// Forgets temporal-table rows staged by an earlier rebuild that did not finish.
    func resetStagedHistory() async throws
    /// Applies a page's temporal-table changes to the rows being staged (not the ones
    /// readers see).
    func stageHistory(_ plan: DocumentHistoryPlan) async throws
    /// Under the write lock, in one transaction: hands the events committed after `through`
    /// to `catchUp`, which folds them and returns the documents they changed (`nil`: gone)
    /// and their temporal-table changes; then replaces the projection's documents and
    /// temporal table with the staged ones and those changes, drops its snapshots, and
    /// records its definition at the head. Returns how many events it handed over.
    func swap(after through: Int64, catchUp: @escaping @Sendable ([RecordedEvent]) throws -> RebuildCatchUp) async throws -> Int
}

/// What the events committed during a rebuild changed: documents (`nil`: gone) and the
/// temporal table.
public struct RebuildCatchUp: Sendable {
    /// The documents they changed.
    public var documents: [DocumentChangeKey: Document?]
    /// Their temporal-table changes.
    public var history: DocumentHistoryPlan
}

/// An entity's key in a rebuild's catch-up.
public struct DocumentChangeKey: Hashable, Sendable {
    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String

    /// Creates a key.
    public init(entity: String, id: String) {
        self.entity = entity
        self.id = id
    }
}

/// Rebuilds a projection from the events alone, without stopping appends or reads for long:
/// the log up to the head is folded page by page (appends go on, and keep updating the old
/// documents of an inline projection), staged, and one short transaction under the write
/// lock folds what was appended meanwhile and swaps the documents in. Readers see the old
/// documents until then.
public enum ProjectionRebuild {
    /// Runs a rebuild; returns the number of events replayed. `progress` gets the position
    /// reached and the position the rebuild goes to.
    public static func run(
        _ projection: any Projection, on storage: some ProjectionRebuildStorage, pageSize: Int = 10_000,
        progress: @Sendable (_ done: Int64, _ total: Int64) -> Void
    ) async throws -> Int {
        let target = try await storage.head()
        try await storage.resetStagedHistory()
        var documents = DocumentSet(recordingHistory: true)
        var position: Int64 = 0
        var replayed = 0
        while position < target {
            let page = try await storage.events(after: position, through: target, limit: max(1, pageSize))
            guard let last = page.last else { break }
            for event in page { try documents.apply(event, projection) }
            try await storage.stageHistory(DocumentHistoryPlan(documents.takeHistory()))
            replayed += page.count
            position = last.position
            progress(position, target)
        }
        try await storage.stage(documents.all)
        let folded = documents
        replayed += try await storage.swap(after: target) { late in
            var documents = folded
            var touched: Set<DocumentChangeKey> = []
            for event in late {
                touched.formUnion(projection.targets(of: event))
                try documents.apply(event, projection)
            }
            var changes: [DocumentChangeKey: Document?] = [:]
            for key in touched { changes[key] = .some(documents.documents[key.entity]?[key.id]) }
            return RebuildCatchUp(documents: changes, history: DocumentHistoryPlan(documents.takeHistory()))
        }
        progress(target, target)
        return replayed
    }
}
