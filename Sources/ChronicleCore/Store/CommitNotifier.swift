import Synchronization

/// Wakes tasks waiting for the log to grow. A backend calls ``advance(to:)`` after each
/// commit; subscribers call ``wait(after:)``, or ``wait(after:polling:readHead:)`` when
/// other processes may commit too.
///
/// It carries no events, only the head position, so a slow subscriber costs nothing here:
/// it reads the events from storage when it gets to them. A waiter costs nothing either
/// while it waits: no timer, no query. Commits made by other processes are found by one
/// poll per notifier, however many wait (see ``wait(after:polling:readHead:)``).
public final class CommitNotifier: Sendable {
    private struct Waiter {
        var after: Int64
        /// Set for waiters that also step in as the poller when the current one leaves.
        var pollGeneration: UInt64?
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var head: Int64 = 0
        var nextID = 0
        var waiters: [Int: Waiter] = [:]
        /// Whether a waiter is polling the storage for other processes' commits.
        var polling = false
        /// Advanced each time the poller leaves, so that a waiter that would take over does.
        var pollGeneration: UInt64 = 0
        /// Head reads made by pollers, for ``pollCount``.
        var polls = 0
    }

    private let state = Mutex(State())

    /// Creates a notifier at position 0.
    public init() {}

    /// The highest position announced.
    public var head: Int64 { state.withLock { $0.head } }

    /// How many tasks are waiting (for tests and metrics).
    public var waiterCount: Int { state.withLock { $0.waiters.count } }

    /// How many times a poller has read the head from storage since the notifier was made
    /// (for tests and benchmarks: it grows with time, not with the number of waiters).
    public var pollCount: Int { state.withLock { $0.polls } }

    /// Announces that the log now ends at `position`, waking every waiter below it.
    public func advance(to position: Int64) {
        let woken: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard position > state.head else { return [] }
            state.head = position
            var ready: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in state.waiters where waiter.after < position {
                ready.append(waiter.continuation)
                state.waiters[id] = nil
            }
            return ready
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns when the head is above `position`, or at once if the task is cancelled.
    public func wait(after position: Int64) async {
        await wait(after: position, pollGeneration: nil)
    }

    /// Returns when the head is above `position` (or at once if the task is cancelled),
    /// also finding commits that other processes made, which announce nothing here.
    ///
    /// Of all the tasks waiting this way, one at a time is the poller: every `interval` it
    /// calls `readHead` (which reads the head from storage and calls ``advance(to:)``),
    /// and the others wait without a timer or a query. When the poller's own wait is over,
    /// another waiter takes its place. So a thousand idle subscribers cost one head read
    /// per `interval`, not a thousand.
    ///
    /// - Throws: what `readHead` throws, to the waiter that was polling.
    public func wait(after position: Int64, polling interval: Duration, readHead: @Sendable () async throws -> Int64) async throws {
        enum Turn { case done, poll, wait(UInt64) }
        while !Task.isCancelled {
            let turn: Turn = state.withLock { state in
                if state.head > position { return .done }
                if state.polling { return .wait(state.pollGeneration) }
                state.polling = true
                return .poll
            }
            switch turn {
            case .done:
                return
            case .wait(let generation):
                await wait(after: position, pollGeneration: generation)
            case .poll:
                defer { resignPoller() }
                while !Task.isCancelled {
                    await wait(after: position, timeout: interval)
                    if head > position || Task.isCancelled { return }
                    state.withLock { $0.polls += 1 }
                    if try await readHead() > position { return }
                }
            }
        }
    }

    /// Like ``wait(after:)`` but gives up after `timeout`.
    public func wait(after position: Int64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait(after: position) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// The poller leaves: wakes the waiters that may poll, so that one of them takes over.
    private func resignPoller() {
        let woken: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.polling = false
            state.pollGeneration &+= 1
            var ready: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in state.waiters where waiter.pollGeneration != nil {
                ready.append(waiter.continuation)
                state.waiters[id] = nil
            }
            return ready
        }
        for continuation in woken { continuation.resume() }
    }

    /// Waits for the head to pass `position`; with a `pollGeneration`, also returns once the
    /// poller of that generation has left (or already had).
    private func wait(after position: Int64, pollGeneration: UInt64?) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.head > position || Task.isCancelled { return true }
                    if let pollGeneration, pollGeneration != state.pollGeneration || !state.polling { return true }
                    state.waiters[id] = Waiter(after: position, pollGeneration: pollGeneration, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }
}
