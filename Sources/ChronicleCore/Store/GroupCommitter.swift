import Synchronization

/// Group commit: operations submitted while a commit is in flight are committed together
/// in the next one (one transaction, one fsync), each keeping its own outcome. The state
/// machine is ``GroupCommitState``, shared with the PostgreSQL writer.
///
/// The backend supplies a serial executor (for SQLite, the database's own writer queue) and
/// a synchronous batch commit. The first submission schedules a drain on the executor; the
/// drain commits batches back to back, in arrival order, until nothing is pending, so the
/// writer never waits for a caller's task to be scheduled between two commits.
///
/// ```swift
/// let committer = GroupCommitter<PreparedAppend, AppendResult, Database>(
///     executor: { job in pool.asyncWriteWithoutTransaction(job) },
///     commit: { db, batch in commitInOneTransaction(db, batch) }   // one Result per operation
/// )
/// let result = try await committer.submit(prepared)
/// ```
public final class GroupCommitter<Operation: Sendable, Outcome: Sendable, Context>: Sendable {
    /// Runs a job serially with the backend's writer context.
    public typealias Executor = @Sendable (_ job: @escaping @Sendable (Context) -> Void) -> Void
    /// Commits a batch and returns one outcome per operation, in the same order.
    public typealias Commit = @Sendable (Context, [Operation]) -> [Result<Outcome, any Error>]

    private typealias Entry = (operation: Operation, continuation: CheckedContinuation<Outcome, any Error>)
    private let state: Mutex<GroupCommitState<Entry>>
    private let executor: Executor
    private let commit: Commit
    /// The most operations committed together.
    public let maximumBatchSize: Int

    /// Creates a committer around a serial executor and a batch commit function.
    public init(maximumBatchSize: Int = 512, executor: @escaping Executor, commit: @escaping Commit) {
        self.maximumBatchSize = max(1, maximumBatchSize)
        self.state = Mutex(GroupCommitState(maximumBatchSize: maximumBatchSize))
        self.executor = executor
        self.commit = commit
    }

    /// How many commits ran, how many operations they carried (their ratio is the mean batch
    /// size), and the time spent committing (against wall time, the writer's utilisation).
    public var statistics: (commits: Int, operations: Int, busy: Duration) {
        state.withLock { ($0.commits, $0.operations, $0.busy) }
    }

    /// Operations waiting for the next commit (the write queue's depth).
    public var pendingCount: Int {
        state.withLock { $0.pendingCount }
    }

    /// Submits an operation and waits for its own outcome.
    public func submit(_ operation: Operation) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            switch state.withLock({ $0.submit((operation, continuation)) }) {
            case .startDrain: executor { context in self.drain(context) }
            case .none: break
            case .refuse(let error): continuation.resume(throwing: error)
            }
        }
    }

    private func drain(_ context: Context) {
        while let batch = state.withLock({ $0.nextBatch() }) {
            let started = ContinuousClock.now
            let results = commit(context, batch.map(\.operation))
            let elapsed = ContinuousClock.now - started
            state.withLock { $0.record(busy: elapsed) }
            GroupCommitState<Entry>.deliver(results, to: batch)
        }
    }
}
