import ChronicleCore
import Synchronization

/// Group commit for an asynchronous database: operations submitted while a commit is in
/// flight are committed together in the next one (one transaction, one WAL flush), each
/// keeping its own outcome.
///
/// It does what `GroupCommitter` does for SQLite, whose commit is synchronous on the
/// database's writer queue; here the commit awaits PostgreSQL, so the draining loop is a
/// task: ``run(commit:)``, which the store runs inside its `run()`. Each caller awaits its
/// own outcome, so the queue holds at most one entry per waiting caller.
final class PostgresWriteQueue<Operation: Sendable, Outcome: Sendable>: Sendable {
    typealias Commit = @Sendable ([Operation]) async -> [Result<Outcome, any Error>]

    private typealias Entry = (operation: Operation, continuation: CheckedContinuation<Outcome, any Error>)

    private struct State {
        var pending: [Entry] = []
        var waiter: CheckedContinuation<Void, Never>?
        var closed: ChronicleError?
        var commits = 0
        var operations = 0
    }

    private let state = Mutex(State())
    /// The most operations committed together.
    let maximumBatchSize: Int

    init(maximumBatchSize: Int) {
        self.maximumBatchSize = max(1, maximumBatchSize)
    }

    /// How many commits ran and how many operations they carried.
    var statistics: (commits: Int, operations: Int) {
        state.withLock { ($0.commits, $0.operations) }
    }

    /// Submits an operation and waits for its own outcome.
    func submit(_ operation: Operation) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let (waiter, refusal) = state.withLock { state -> (CheckedContinuation<Void, Never>?, ChronicleError?) in
                if let closed = state.closed { return (nil, closed) }
                state.pending.append((operation, continuation))
                defer { state.waiter = nil }
                return (state.waiter, nil)
            }
            if let refusal {
                continuation.resume(throwing: refusal)
            }
            waiter?.resume()
        }
    }

    /// Commits batches back to back, in arrival order, until the task is cancelled; then
    /// fails what is still pending with `closing` and refuses later submissions.
    func run(closing: ChronicleError, commit: Commit) async {
        state.withLock { $0.closed = nil }
        while !Task.isCancelled {
            guard let batch = await nextBatch() else { break }
            let results = await commit(batch.map(\.operation))
            for (index, entry) in batch.enumerated() {
                if index < results.count {
                    entry.continuation.resume(with: results[index])
                } else {
                    entry.continuation.resume(throwing: ChronicleError(.storageFailure, "internal error: a commit returned \(results.count) outcomes for \(batch.count) operations"))
                }
            }
        }
        let abandoned = state.withLock { state -> [Entry] in
            state.closed = closing
            defer { state.pending.removeAll() }
            return state.pending
        }
        for entry in abandoned {
            entry.continuation.resume(throwing: closing)
        }
    }

    private func nextBatch() async -> [Entry]? {
        while !Task.isCancelled {
            if let batch = takeBatch() { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.pending.isEmpty || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
        return nil
    }

    private func takeBatch() -> [Entry]? {
        state.withLock { state -> [Entry]? in
            guard !state.pending.isEmpty else { return nil }
            let count = min(maximumBatchSize, state.pending.count)
            let taken = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            state.commits += 1
            state.operations += count
            return taken
        }
    }
}
