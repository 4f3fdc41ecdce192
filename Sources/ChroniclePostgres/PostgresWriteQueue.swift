import ChronicleCore
import Synchronization

/// Group commit for an asynchronous database: Core's ``GroupCommitState`` (the same state
/// machine SQLite's `GroupCommitter` drives), with a commit loop that awaits PostgreSQL.
///
/// The loop is ``run(closing:commit:)``, which the store runs inside its `run()`; it sleeps
/// while nothing waits and is woken by the submission that starts a drain. Each caller
/// awaits its own outcome, so the queue holds at most one entry per waiting caller.
///
/// Commits overlap by up to ``pipelineDepth`` batches: a batch's commit calls its hand-off
/// once it holds the write lock, and the next batch is taken then, so that its `BEGIN`,
/// its condition sampling and its request for the lock run while the one before works
/// under the lock. The write lock, not this queue, orders the commits, as it does for the
/// commits of other nodes; a batch is taken only when the one before has handed off, so it
/// still collects what arrived while that one waited for the lock.
final class PostgresWriteQueue<Operation: Sendable, Outcome: Sendable>: Sendable {
    /// Commits a batch; calls the hand-off (any number of times) once the next batch may start.
    typealias Commit = @Sendable ([Operation], _ handOff: @escaping @Sendable () -> Void) async -> [Result<Outcome, any Error>]
    private typealias Entry = (operation: Operation, continuation: CheckedContinuation<Outcome, any Error>)
    private typealias Machine = GroupCommitState<Entry>

    private struct State {
        var machine: Machine
        /// The commit loop, asleep until a submission starts a drain.
        var waiter: CheckedContinuation<Void, Never>?
        /// Batches whose commit has not ended.
        var running = 0
        /// Whether the newest batch has not handed off yet.
        var starting = false
        /// The commit loop, waiting for its turn to take the next batch.
        var turnWaiter: CheckedContinuation<Void, Never>?

        func mayStart(depth: Int) -> Bool { !starting && running < depth }
    }

    private let state: Mutex<State>
    /// The most operations committed together.
    let maximumBatchSize: Int
    /// The most batches committing at once (1: one after the other).
    let pipelineDepth: Int

    init(maximumBatchSize: Int, pipelineDepth: Int = 1) {
        self.maximumBatchSize = max(1, maximumBatchSize)
        self.pipelineDepth = max(1, pipelineDepth)
        self.state = Mutex(State(machine: Machine(maximumBatchSize: maximumBatchSize)))
    }

    /// How many commits ran and how many operations they carried.
    var statistics: (commits: Int, operations: Int) {
        state.withLock { ($0.machine.commits, $0.machine.operations) }
    }

    /// Operations waiting for a batch to take them.
    var pendingCount: Int {
        state.withLock { $0.machine.pendingCount }
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

    /// Commits batches in arrival order, overlapping up to ``pipelineDepth`` of them, until
    /// the task is cancelled; then waits for the commits under way, fails what is still
    /// pending with `closing` and refuses later submissions.
    func run(closing: ChronicleError, commit: @escaping Commit) async {
        state.withLock { $0.machine.reopen() }
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                await turn()
                guard !Task.isCancelled, let batch = await nextBatch() else { break }
                state.withLock { state in
                    state.running += 1
                    state.starting = true
                }
                let handOff = HandOff { [self] in release { $0.starting = false } }
                group.addTask {
                    let outcomes = await commit(batch.map(\.operation)) { handOff() }
                    handOff()
                    self.release { $0.running -= 1 }
                    Machine.deliver(outcomes, to: batch)
                }
            }
        }
        let abandoned = state.withLock { $0.machine.close(closing) }
        for entry in abandoned {
            entry.continuation.resume(throwing: closing)
        }
    }

    /// Runs its action the first time it is called, and never again.
    private final class HandOff: Sendable {
        private let done = Atomic(false)
        private let action: @Sendable () -> Void

        init(_ action: @escaping @Sendable () -> Void) { self.action = action }

        func callAsFunction() {
            if !done.exchange(true, ordering: .acquiringAndReleasing) { action() }
        }
    }

    /// Changes the pipeline's state and wakes the loop if the next batch may start now.
    private func release(_ change: (inout State) -> Void) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            change(&state)
            guard state.mayStart(depth: pipelineDepth) else { return nil }
            defer { state.turnWaiter = nil }
            return state.turnWaiter
        }
        waiter?.resume()
    }

    /// Returns when the next batch may start (or the task is cancelled).
    private func turn() async {
        await sleep(in: \.turnWaiter) { [pipelineDepth] in $0.mayStart(depth: pipelineDepth) }
    }

    /// The next batch; sleeps while the machine has ended its drain (nothing waits).
    private func nextBatch() async -> [Entry]? {
        while !Task.isCancelled {
            if let batch = state.withLock({ $0.machine.nextBatch() }) { return batch }
            // A submission since nextBatch() started a new drain: take it at once.
            await sleep(in: \.waiter) { $0.machine.isDraining }
        }
        return nil
    }

    /// Returns at once if `ready` holds (or the task is cancelled); otherwise leaves its
    /// continuation in `slot` for whoever makes it hold, and returns when resumed from there
    /// or cancelled.
    private func sleep(in slot: WritableKeyPath<State, CheckedContinuation<Void, Never>?> & Sendable, unless ready: (State) -> Bool) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if ready(state) || Task.isCancelled { return true }
                    state[keyPath: slot] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state[keyPath: slot] = nil }
                return state[keyPath: slot]
            }
            waiter?.resume()
        }
    }
}
