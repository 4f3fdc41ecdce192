import Foundation
import Logging
import Synchronization

/// Leases on background work, for stores that several nodes share: each asynchronous
/// projection and each reactor runs on exactly one node at a time.
///
/// A lease has a name (`reactor:welcome-email`), an owner (a node, see ``LeaseOwner``) and an
/// expiry. The holder renews it well before it expires; a node that stops renewing (killed,
/// cut off from the database) loses it when it expires, and another node takes the work over
/// from the durable checkpoint. The store's own clock decides expiry, so nodes' clocks need
/// not agree.
public protocol LeaseStore: Sendable {
    /// Takes the lease for `owner` (or renews it, if `owner` holds it) until `duration` from
    /// now. Returns whether `owner` holds it afterwards: `false` if another owner's lease has
    /// not expired.
    func acquireLease(_ name: String, owner: String, duration: Duration) async throws -> Bool
    /// Gives the lease up, if `owner` holds it, so another node can take it at once.
    func releaseLease(_ name: String, owner: String) async throws
    /// The owner of an unexpired lease, if any (for status pages).
    func leaseHolder(_ name: String) async throws -> String?
}

/// This process's name as a lease owner: host, process id and a random suffix, so that a
/// restarted process is a new owner.
public enum LeaseOwner {
    /// The owner name of this process.
    public static let current: String = {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
    }()
}

/// How a runner holds its lease.
public struct LeaseOptions: Sendable, Hashable {
    /// How long a lease lasts without renewal; another node takes the work over at most this
    /// long (plus ``retryInterval``) after the holder dies.
    public var duration: Duration
    /// Who this runner is.
    public var owner: String

    /// A node waiting for the lease asks for it every third of its duration.
    public var retryInterval: Duration { duration / 3 }
    /// The holder renews the lease every sixth of its duration, so that a renewal slowed down
    /// by a busy store still has most of the lease to answer in.
    public var renewalInterval: Duration { duration / 6 }
    /// How long before the lease could expire the holder stops its work if no renewal has
    /// answered (a twelfth of the duration): time for the stopped work to wind down.
    public var stopMargin: Duration { duration / 12 }

    /// Creates options; the default lease lasts 6 s, so work moves within 10 s of a node's death.
    public init(duration: Duration = .seconds(6), owner: String = LeaseOwner.current) {
        self.duration = duration
        self.owner = owner
    }
}

/// Runs work only while holding a lease (the loop the background runners share).
package enum LeasedWork {
    /// Why a spell of leased work ended.
    private enum Ending: Sendable {
        case workEnded, lost, unconfirmed
    }

    /// Until the task is cancelled: waits for the lease, runs `work` while it is held
    /// (renewing it), and stops `work` as soon as the lease cannot be confirmed — before it
    /// could expire and pass to another node. With no lease store, just runs `work`.
    ///
    /// The store's clock starts each new duration no earlier than the call was sent, so the
    /// lease is held until at least the last confirmed call's sending plus the duration. The
    /// work is stopped ``LeaseOptions/stopMargin`` before that instant unless a renewal has
    /// pushed it back, however long a renewal takes to answer or fail: a node cut off from its
    /// database can wait for a connection, or an answer, far longer than the lease lasts.
    package static func run(
        _ store: (any LeaseStore)?, name: String, options: LeaseOptions, logger: Logger,
        work: @escaping @Sendable () async -> Void
    ) async {
        guard let store else { return await work() }
        let metadata: Logger.Metadata = ["chronicle.lease": "\(name)", "chronicle.owner": "\(options.owner)"]
        var waiting = false
        while !Task.isCancelled {
            let sent = ContinuousClock.now
            let held: Bool
            do {
                held = try await store.acquireLease(name, owner: options.owner, duration: options.duration)
            } catch {
                logger.warning("Could not take a lease; trying again", metadata: metadata.merging(["chronicle.error": "\(error)"]) { $1 })
                held = false
            }
            guard held else {
                if !waiting { logger.info("Another node holds the lease; standing by", metadata: metadata) }
                waiting = true
                try? await Task.sleep(for: options.retryInterval)
                continue
            }
            waiting = false
            logger.info("Took the lease", metadata: metadata)
            let deadline = LeaseDeadline(sent + options.duration - options.stopMargin)
            let ending = await withTaskGroup(of: Ending.self) { group in
                group.addTask {
                    await work()
                    return .workEnded
                }
                group.addTask { await renew(store, name: name, options: options, deadline: deadline, logger: logger, metadata: metadata) }
                group.addTask {
                    await deadline.passed()
                    return .unconfirmed
                }
                let first = await group.next() ?? .workEnded
                group.cancelAll()
                return first
            }
            if Task.isCancelled {
                await release(store, name: name, options: options, logger: logger, metadata: metadata)
                return
            }
            switch ending {
            case .unconfirmed:
                logger.warning("No renewal of the lease answered in time; work stopped before the lease could pass to another node", metadata: metadata)
            case .lost, .workEnded:
                logger.warning("Lost the lease; work stopped", metadata: metadata)
            }
        }
    }

    /// Gives the lease up when the work stops (graceful shutdown), so that a restarted node,
    /// or another one, takes it at once instead of waiting for it to expire.
    ///
    /// The calling task is cancelled by then, and the stores refuse work in a cancelled task
    /// (GRDB and PostgresNIO check for cancellation before they start), so the release runs
    /// in a task of its own, which does not inherit the cancellation. If it fails (the
    /// database is unreachable) the lease simply expires after its duration.
    private static func release(_ store: any LeaseStore, name: String, options: LeaseOptions, logger: Logger, metadata: Logger.Metadata) async {
        let release = Task { try await store.releaseLease(name, owner: options.owner) }
        do {
            try await release.value
            logger.info("Released the lease", metadata: metadata)
        } catch {
            logger.warning("Could not release the lease; it expires by itself", metadata: metadata.merging(["chronicle.error": "\(error)"]) { $1 })
        }
    }

    /// Renews the lease every ``LeaseOptions/renewalInterval`` until another node has it;
    /// each confirmed renewal pushes `deadline` back. A failed renewal is tried again at the
    /// next interval (the deadline, not this loop, decides when to give up).
    private static func renew(_ store: any LeaseStore, name: String, options: LeaseOptions, deadline: LeaseDeadline, logger: Logger, metadata: Logger.Metadata) async -> Ending {
        while !Task.isCancelled {
            try? await Task.sleep(for: options.renewalInterval)
            if Task.isCancelled { break }
            let sent = ContinuousClock.now
            do {
                guard try await store.acquireLease(name, owner: options.owner, duration: options.duration) else { return .lost }
                deadline.postpone(to: sent + options.duration - options.stopMargin)
            } catch {
                logger.warning("Could not renew a lease", metadata: metadata.merging(["chronicle.error": "\(error)"]) { $1 })
            }
        }
        return .workEnded
    }
}

/// The instant by which the holder of a lease stops its work, pushed back by each confirmed
/// renewal.
final class LeaseDeadline: Sendable {
    private let instant: Mutex<ContinuousClock.Instant>

    init(_ instant: ContinuousClock.Instant) {
        self.instant = Mutex(instant)
    }

    /// Moves the deadline to `later`, if it is later.
    func postpone(to later: ContinuousClock.Instant) {
        instant.withLock { $0 = max($0, later) }
    }

    /// Returns once the deadline has passed, or the task is cancelled.
    func passed() async {
        while !Task.isCancelled {
            let due = instant.withLock { $0 }
            if ContinuousClock.now >= due { return }
            try? await Task.sleep(until: due)
        }
    }
}
