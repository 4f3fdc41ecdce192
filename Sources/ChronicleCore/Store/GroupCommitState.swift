/// The group-commit state machine, written once for every backend's writer: operations
/// submitted while a commit is in flight wait and are committed together in the next one,
/// each keeping its own outcome.
///
/// A pure value: it says what to do and the writer does it. `GroupCommitter` (SQLite: a
/// synchronous commit on the database's writer queue) schedules a drain when
/// ``submit(_:continuation:)`` answers ``SubmitAction/startDrain``; PostgreSQL's write
/// queue (an asynchronous commit loop) wakes its loop instead. Both then take batches with
/// ``nextBatch()`` until it answers `nil`, which ends the drain.
package struct GroupCommitState<Entry> {

    /// What the writer does after a submission.
    package enum SubmitAction {
        /// Start draining: nothing was committing.
        case startDrain
        /// Nothing: a drain is under way and will take the operation.
        case none
        /// Fail the submission with this error: the writer is closed.
        case refuse(ChronicleError)
    }

    /// The most operations committed together.
    package let maximumBatchSize: Int
    private var pending: [Entry] = []
    /// Whether a drain is under way (scheduled, committing, or about to take the next batch).
    package private(set) var isDraining = false
    private var closed: ChronicleError?
    /// How many commits ran.
    package private(set) var commits = 0
    /// How many operations they carried.
    package private(set) var operations = 0
    /// The time spent committing, when the writer reports it.
    package private(set) var busy = Duration.zero

    package init(maximumBatchSize: Int) {
        self.maximumBatchSize = max(1, maximumBatchSize)
    }

    /// Operations waiting for the next commit (the write queue's depth).
    package var pendingCount: Int { pending.count }

    /// Queues an operation (with whatever the writer needs to answer its caller).
    package mutating func submit(_ entry: Entry) -> SubmitAction {
        if let closed { return .refuse(closed) }
        pending.append(entry)
        if isDraining { return .none }
        isDraining = true
        return .startDrain
    }

    /// The next batch, in arrival order, or `nil` when nothing waits: the drain ends, and the
    /// next submission starts another.
    package mutating func nextBatch() -> [Entry]? {
        guard !pending.isEmpty else {
            isDraining = false
            return nil
        }
        let count = min(maximumBatchSize, pending.count)
        let batch = Array(pending.prefix(count))
        pending.removeFirst(count)
        commits += 1
        operations += count
        return batch
    }

    /// Adds the time one commit took.
    package mutating func record(busy elapsed: Duration) {
        busy += elapsed
    }

    /// Refuses later submissions with `error` and hands back what waits, to fail it.
    package mutating func close(_ error: ChronicleError) -> [Entry] {
        closed = error
        isDraining = false
        defer { pending.removeAll() }
        return pending
    }

    /// Takes submissions again after ``close(_:)``.
    package mutating func reopen() {
        closed = nil
    }

    /// Hands each caller of a committed batch its own outcome.
    package static func deliver<Operation, Outcome: Sendable>(_ results: [Result<Outcome, any Error>], to batch: [(operation: Operation, continuation: CheckedContinuation<Outcome, any Error>)]) {
        for (index, entry) in batch.enumerated() {
            if index < results.count {
                entry.continuation.resume(with: results[index])
            } else {
                entry.continuation.resume(throwing: ChronicleError(.storageFailure, "internal error: a commit returned \(results.count) outcomes for \(batch.count) operations"))
            }
        }
    }
}
