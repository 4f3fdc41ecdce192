import Synchronization

/// Group commit: operations submitted while a commit is in flight are committed together
/// in the next one (one transaction, one fsync), each keeping its own outcome.
///
/// There is no background task. The first caller to find no commit in flight becomes the
/// leader: it takes every pending operation (up to ``maximumBatchSize``), commits them, hands
/// out the outcomes, and passes leadership to the first operation that arrived meanwhile.
/// So no caller waits for more than its own batch plus the one in flight before it.
///
/// Backends use it for their single writer:
///
/// ```swift
/// let committer = GroupCommitter<PreparedAppend, AppendResult> { batch in
///     await commitInOneTransaction(batch)   // one Result per operation, in order
/// }
/// let result = try await committer.submit(prepared)
/// ```
public final class GroupCommitter<Operation: Sendable, Outcome: Sendable>: Sendable {
    /// Commits a batch and returns one outcome per operation, in the same order.
    public typealias Commit = @Sendable ([Operation]) async -> [Result<Outcome, any Error>]

    private enum Wake: Sendable {
        case done(Result<Outcome, any Error>)
        case lead
    }

    private final class Waiter: Sendable {
        private let state = Mutex<(wake: Wake?, continuation: CheckedContinuation<Wake, Never>?)>((nil, nil))

        func fulfil(_ wake: Wake) {
            let continuation = state.withLock { state -> CheckedContinuation<Wake, Never>? in
                if let continuation = state.continuation {
                    state.continuation = nil
                    return continuation
                }
                state.wake = wake
                return nil
            }
            continuation?.resume(returning: wake)
        }

        func wait() async -> Wake {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Wake? in
                    if let wake = state.wake { return wake }
                    state.continuation = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    private struct State {
        var pending: [(operation: Operation, waiter: Waiter)] = []
        var leading = false
        var commits = 0
        var operations = 0
    }

    private let state = Mutex(State())
    private let commit: Commit
    /// The most operations committed together.
    public let maximumBatchSize: Int

    /// Creates a committer around a batch commit function.
    public init(maximumBatchSize: Int = 512, commit: @escaping Commit) {
        self.maximumBatchSize = max(1, maximumBatchSize)
        self.commit = commit
    }

    /// How many commits ran and how many operations they carried (their ratio is the mean batch size).
    public var statistics: (commits: Int, operations: Int) {
        state.withLock { ($0.commits, $0.operations) }
    }

    /// Operations waiting for the next commit (the write queue's depth).
    public var pendingCount: Int {
        state.withLock { $0.pending.count }
    }

    /// Submits an operation and waits for its own outcome.
    public func submit(_ operation: Operation) async throws -> Outcome {
        let mine = Waiter()
        let leads = state.withLock { state -> Bool in
            state.pending.append((operation, mine))
            if state.leading { return false }
            state.leading = true
            return true
        }
        if !leads, case .done(let result) = await mine.wait() {
            return try result.get()
        }
        // Leader: the pending queue starts with this caller's own operation.
        let batch = state.withLock { state -> [(operation: Operation, waiter: Waiter)] in
            let count = min(maximumBatchSize, state.pending.count)
            let taken = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            state.commits += 1
            state.operations += count
            return taken
        }
        var results = await commit(batch.map(\.operation))
        if results.count != batch.count {
            results = Array(repeating: .failure(ChronicleError(.storageFailure, "internal error: a commit returned \(results.count) outcomes for \(batch.count) operations")), count: batch.count)
        }
        let next = state.withLock { state -> Waiter? in
            guard let first = state.pending.first else {
                state.leading = false
                return nil
            }
            return first.waiter
        }
        var own: Result<Outcome, any Error>?
        for (entry, result) in zip(batch, results) {
            if entry.waiter === mine {
                own = result
            } else {
                entry.waiter.fulfil(.done(result))
            }
        }
        next?.fulfil(.lead)
        return try own!.get()
    }
}
