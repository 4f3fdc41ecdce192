import Synchronization

/// The pooled connections a store has leased and not yet given back, for the error that says
/// why no connection came: how many were out, for how long, and how many callers waited.
final class PostgresLeases: Sendable {
    private struct State {
        var next: UInt64 = 0
        var held: [UInt64: ContinuousClock.Instant] = [:]
        var waiting = 0
    }

    private let state = Mutex(State())
    /// The pool's size.
    let maximumConnections: Int

    init(maximumConnections: Int) { self.maximumConnections = maximumConnections }

    /// A caller starts waiting for a connection.
    func wait() { state.withLock { $0.waiting += 1 } }

    /// A waiting caller gives up.
    func giveUp() { state.withLock { $0.waiting -= 1 } }

    /// A waiting caller got its connection; the lease to pass to ``release(_:)``.
    func acquire() -> UInt64 {
        state.withLock { state in
            state.waiting -= 1
            state.next += 1
            state.held[state.next] = .now
            return state.next
        }
    }

    /// The connection of `lease` went back to the pool.
    func release(_ lease: UInt64) { _ = state.withLock { $0.held.removeValue(forKey: lease) } }

    /// What the store held when a caller gave up, as a sentence for its error.
    var summary: String {
        state.withLock { state in
            let now = ContinuousClock.now
            let ages = state.held.values.map { now - $0 }.sorted(by: >)
            let waiting = state.waiting == 1 ? "1 caller waiting" : "\(state.waiting) callers waiting"
            guard let oldest = ages.first else {
                return "Of its \(maximumConnections) connections this store held none then, with \(waiting): the pool could not open one."
            }
            let tenths = (oldest / .milliseconds(100)).rounded() / 10
            return "Of its \(maximumConnections) connections this store held \(ages.count) then (the oldest for \(tenths) s), with \(waiting)."
        }
    }
}
