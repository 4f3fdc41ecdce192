/// When a store's projection is applied.
public enum ProjectionLifecycle: String, Sendable, Hashable, CaseIterable {
    /// In the append's transaction: a read right after the append sees it.
    case inline
    /// In the background, from a checkpoint (see ``AsyncProjectionStore``): appends don't
    /// wait for it; readers wait for a position with `after`/`wait` when they need to.
    case async
    /// Never stored: a read folds the entity's stream on demand. Nothing to rebuild or lag
    /// behind, but reads cost a fold and entities cannot be listed.
    case live
}

/// A store whose projection runs in the background: `ProjectionRunner` (in
/// `ChronicleProjections`) reads the log after ``projectionCheckpoint()`` and hands each page
/// to ``applyProjection(_:after:through:)``, which stores the document changes and the new
/// checkpoint in one transaction — so a crash never applies an event twice or skips one.
public protocol AsyncProjectionStore: EventStore, DocumentStore {
    /// The position up to which the documents are current.
    func projectionCheckpoint() async throws -> Int64
    /// Applies events (those of the log in `(checkpoint, through]` that the projection may
    /// care about) and moves the checkpoint to `through`, if the stored checkpoint is still
    /// `checkpoint`. Returns the stored checkpoint afterwards (unchanged if it had moved, for
    /// example by a rebuild, so the caller resumes from there).
    func applyProjection(_ events: [RecordedEvent], after checkpoint: Int64, through: Int64) async throws -> Int64
}
