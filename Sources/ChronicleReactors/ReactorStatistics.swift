import ChronicleCore
import Synchronization

/// What a reactor's runner has done in this process: deliveries, failed attempts, parked
/// events, what is in flight, and when the last delivery finished.
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
    }

    private let counts = Mutex(Snapshot())

    /// Creates empty statistics.
    public init() {}

    /// The counts now.
    public var snapshot: Snapshot { counts.withLock { $0 } }

    /// Records that a delivery started (`true`) or ended (`false`).
    package func record(inFlight started: Bool) {
        counts.withLock { $0.inFlight += started ? 1 : -1 }
    }

    /// Records an attempt's outcome.
    package func record(delivered: Bool) {
        let now = Timestamp.now()
        counts.withLock { counts in
            if delivered {
                counts.delivered += 1
                counts.lastDeliveredAtMicroseconds = now
            } else {
                counts.failures += 1
            }
        }
    }

    /// Records that an event was parked.
    package func recordParked() {
        counts.withLock { $0.parked += 1 }
    }
}
