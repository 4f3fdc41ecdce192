import ChronicleCore
import Synchronization

/// What this store's last commit appended, so that the next commit can check its append
/// conditions before it waits for the write lock.
///
/// A commit checks its conditions in one statement that also reads the head it saw (`h0`),
/// while the commit before it may still hold the lock (``PostgresWriteQueue`` overlaps two).
/// Once it holds the lock it reads the head again (`h1`, with the head event's hash). Every
/// event stored in `(h0, h1]` was committed after that check, so each condition that passed
/// needs only those events checked: none when `h1 == h0`; in memory when they are exactly
/// the events this record holds — the record's range ends at `h1` and its last event's hash
/// is the stored head's, which the hash chain ties to every event before it; else (another
/// node committed, or this store's last commit failed or was not recorded) the condition is
/// checked again under the lock, as before. A condition that failed is checked again under
/// the lock too. So the one-winner promise rests on the same lock; what moves out of it is
/// the check's round trip.
final class PostgresRecentCommit: Sendable {
    /// The events a commit appended in `(after, head]`; `headHash` is the last one's hash.
    struct Record: Sendable {
        var after: Int64
        var head: Int64
        var headHash: EventHash
        var events: [RecordedEvent]

        /// The record of a batch's `writes` in `(after, head]`, or `nil` when it is not kept:
        /// the batch purged a stream (its record would have to say which events are gone) or
        /// appended more than ``PostgresRecentCommit/maximumEvents``.
        init?(_ writes: [PostgresSnapshotTransaction.Write], after: Int64, head: Int64, headHash: EventHash) {
            var events: [RecordedEvent] = []
            for write in writes {
                switch write {
                case .insert(let event):
                    guard events.count < PostgresRecentCommit.maximumEvents else { return nil }
                    events.append(event)
                case .purge:
                    return nil
                }
            }
            self.init(after: after, head: head, headHash: headHash, events: events)
        }

        init(after: Int64, head: Int64, headHash: EventHash, events: [RecordedEvent]) {
            self.after = after
            self.head = head
            self.headHash = headHash
            self.events = events
        }
    }

    /// The most events a record keeps; a larger commit is not recorded.
    static let maximumEvents = 1024

    private let last = Mutex<Record?>(nil)

    /// Records a commit about to send `COMMIT` (or forgets the last one, with `nil`). A
    /// commit that then fails leaves a record whose head or hash the next commit does not see.
    func remember(_ record: Record?) {
        last.withLock { $0 = record }
    }

    var record: Record? { last.withLock { $0 } }
}

/// The outcome of the checks a commit made before it took the write lock
/// (see ``PostgresRecentCommit``): what is known of each condition, and what must be checked
/// again under the lock.
struct PreLockConditions: Equatable {
    /// A condition's first stored match up to `head`, read in one statement before the lock.
    struct Early: Equatable {
        var match: Int64?
        var head: Int64
    }

    /// First matches known without a statement under the lock (`nil`: none).
    var known: [ConditionKey: Int64?] = [:]
    /// Conditions to check under the lock.
    var recheck: Set<ConditionKey> = []

    /// Sorts `early` out once the lock is held and the head is `head` (its event's hash
    /// `hash`), with `recent` the store's last recorded commit.
    static func resolve(_ early: [ConditionKey: Early], head: Int64, hash: EventHash, recent: PostgresRecentCommit.Record?) -> PreLockConditions {
        var outcome = PreLockConditions()
        for (key, check) in early {
            guard check.match == nil, check.head <= head else {
                outcome.recheck.insert(key)
                continue
            }
            if check.head == head {
                outcome.known[key] = .some(nil)
            } else if let recent, recent.head == head, recent.headHash == hash, recent.after <= check.head {
                let from = max(check.head, key.after)
                outcome.known[key] = .some(recent.events.first { $0.position > from && $0.position <= head && key.query.matches($0) }?.position)
            } else {
                outcome.recheck.insert(key)
            }
        }
        return outcome
    }
}
