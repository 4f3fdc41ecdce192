import ChronicleCore
import Synchronization

/// What a reactor's runner has done in this process: deliveries, failed attempts (with the
/// last error and when the next retry is due), parked events, what is in flight, and when
/// the last delivery finished.
///
/// Counts start at zero with the process (the durable state — checkpoint and parked events —
/// is in the store); `/v1/reactors` and `/metrics` show them.
public final class ReactorStatistics: Sendable {
    /// A copy of the counts.
    public struct Snapshot: Sendable, Hashable {
        /// Events handled successfully.
        public var delivered = 0
        /// Attempts that failed (each retry that failed counts once).
        public var failures = 0
        /// Events parked after their last attempt.
        public var parked = 0
        /// Events being delivered now (including those waiting to retry).
        public var inFlight = 0
        /// When the last successful delivery finished (microseconds since the epoch), if any.
        public var lastDeliveredAtMicroseconds: Int64?
        /// The error of the last failed attempt, if any.
        public var lastError: String?
        /// When the last attempt failed (microseconds since the epoch), if any did.
        public var lastErrorAtMicroseconds: Int64?
        /// When the earliest delivery waiting to be retried is tried again (microseconds since
        /// the epoch); `nil` when none waits.
        public var nextAttemptAtMicroseconds: Int64?
    }

    private struct State {
        var snapshot = Snapshot()
        /// Deliveries waiting to be retried: when, by the position of their event.
        var retries: [Int64: Int64] = [:]
    }

    private let counts = Mutex(State())

    /// Creates empty statistics.
    public init() {}

    /// The counts now.
    public var snapshot: Snapshot {
        counts.withLock { state in
            var snapshot = state.snapshot
            snapshot.nextAttemptAtMicroseconds = state.retries.values.min()
            return snapshot
        }
    }

    /// Records a failed attempt at the event at `position`: its error, and when it is tried
    /// again (`nil`: it is not, it is parked).
    package func record(failure error: String, position: Int64, retryAt: Int64?) {
        let now = Timestamp.now()
        counts.withLock { state in
            state.snapshot.failures += 1
            state.snapshot.lastError = error
            state.snapshot.lastErrorAtMicroseconds = now
            state.retries[position] = retryAt
        }
    }

    /// Records that the event at `position` no longer waits for a retry (its next attempt
    /// started, or its delivery ended).
    package func recordRetryDone(position: Int64) {
        counts.withLock { _ = $0.retries.removeValue(forKey: position) }
    }

    /// Records that a delivery started (`true`) or ended (`false`).
    package func record(inFlight started: Bool) {
        counts.withLock { $0.snapshot.inFlight += started ? 1 : -1 }
    }

    /// Records an attempt's outcome.
    package func record(delivered: Bool) {
        let now = Timestamp.now()
        counts.withLock { state in
            if delivered {
                state.snapshot.delivered += 1
                state.snapshot.lastDeliveredAtMicroseconds = now
            } else {
                state.snapshot.failures += 1
            }
        }
    }

    /// Records that an event was parked.
    package func recordParked() {
        counts.withLock { $0.snapshot.parked += 1 }
    }
}
