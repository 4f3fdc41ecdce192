import ChronicleCore
import Synchronization

/// Group commit for an asynchronous database: Core's ``GroupCommitState`` (the same state
/// machine SQLite's `GroupCommitter` drives), with a commit loop that awaits PostgreSQL.
///
/// The loop is ``run(closing:commit:)``, which the store runs inside its `run()`; it sleeps
/// while nothing waits and is woken by the submission that starts a drain. Each caller
/// awaits its own outcome, so the queue holds at most one entry per waiting caller.
final class PostgresWriteQueue<Operation: Sendable, Outcome: Sendable>: Sendable {
    typealias Commit = @Sendable ([Operation]) async -> [Result<Outcome, any Error>]
    private typealias Entry = (operation: Operation, continuation: CheckedContinuation<Outcome, any Error>)
    private typealias Machine = GroupCommitState<Entry>

    private struct State {
        var machine: Machine
        /// The commit loop, asleep until a submission starts a drain.
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>
    /// The most operations committed together.
    let maximumBatchSize: Int

    init(maximumBatchSize: Int) {
        self.maximumBatchSize = max(1, maximumBatchSize)
        self.state = Mutex(State(machine: Machine(maximumBatchSize: maximumBatchSize)))
    }

    /// How many commits ran and how many operations they carried.
    var statistics: (commits: Int, operations: Int) {
        state.withLock { ($0.machine.commits, $0.machine.operations) }
    }

    /// Submits an operation and waits for its own outcome.
    func submit(_ operation: Operation) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let (action, waiter) = state.withLock { state -> (Machine.SubmitAction, CheckedContinuation<Void, Never>?) in
                let action = state.machine.submit((operation, continuation))
                guard case .startDrain = action else { return (action, nil) }
                defer { state.waiter = nil }
                return (action, state.waiter)
            }
            switch action {
            case .startDrain: waiter?.resume()
            case .none: break
            case .refuse(let error): continuation.resume(throwing: error)
            }
        }
    }

    /// Commits batches back to back, in arrival order, until the task is cancelled; then
    /// fails what is still pending with `closing` and refuses later submissions.
    func run(closing: ChronicleError, commit: Commit) async {
        state.withLock { $0.machine.reopen() }
        while !Task.isCancelled {
            guard let batch = await nextBatch() else { break }
            Machine.deliver(await commit(batch.map(\.operation)), to: batch)
        }
        let abandoned = state.withLock { $0.machine.close(closing) }
        for entry in abandoned {
            entry.continuation.resume(throwing: closing)
        }
    }

    /// The next batch; sleeps while the machine has ended its drain (nothing waits).
    private func nextBatch() async -> [Entry]? {
        while !Task.isCancelled {
            if let batch = state.withLock({ $0.machine.nextBatch() }) { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    // A submission since nextBatch() started a new drain: take it at once.
                    let resumeNow = state.withLock { state -> Bool in
                        if state.machine.isDraining || Task.isCancelled { return true }
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
}
