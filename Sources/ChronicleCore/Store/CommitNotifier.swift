import Synchronization

/// Wakes tasks waiting for the log to grow. A backend calls ``advance(to:)`` after each
/// commit; subscribers call ``wait(after:)``.
///
/// It carries no events, only the head position, so a slow subscriber costs nothing here:
/// it reads the events from storage when it gets to them.
public final class CommitNotifier: Sendable {
    private struct State {
        var head: Int64 = 0
        var nextID = 0
        var waiters: [Int: (after: Int64, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    private let state = Mutex(State())

    /// Creates a notifier at position 0.
    public init() {}

    /// The highest position announced.
    public var head: Int64 { state.withLock { $0.head } }

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
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.head > position || Task.isCancelled { return true }
                    state.waiters[id] = (position, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }

    /// Like ``wait(after:)`` but gives up after `timeout`, for backends that must also look
    /// for commits made by other processes.
    public func wait(after position: Int64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait(after: position) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
