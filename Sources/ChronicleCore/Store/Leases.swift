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

    /// The lease is renewed every third of its duration; a node waiting for it asks as often.
    public var retryInterval: Duration { duration / 3 }

    /// Creates options; the default lease lasts 6 s, so work moves within 10 s of a node's death.
    public init(duration: Duration = .seconds(6), owner: String = LeaseOwner.current) {
        self.duration = duration
        self.owner = owner
    }
}

/// Runs work only while holding a lease (the loop the background runners share).
package enum LeasedWork {
    /// Until the task is cancelled: waits for the lease, runs `work` while it is held
    /// (renewing it), and stops `work` as soon as the lease cannot be confirmed — before it
    /// could expire and pass to another node. With no lease store, just runs `work`.
    package static func run(
        _ store: (any LeaseStore)?, name: String, options: LeaseOptions, logger: Logger,
        work: @escaping @Sendable () async -> Void
    ) async {
        guard let store else { return await work() }
        let metadata: Logger.Metadata = ["chronicle.lease": "\(name)", "chronicle.owner": "\(options.owner)"]
        var waiting = false
        while !Task.isCancelled {
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
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await work() }
                group.addTask { await renew(store, name: name, options: options, logger: logger, metadata: metadata) }
                await group.next()
                group.cancelAll()
            }
            if Task.isCancelled {
                await release(store, name: name, options: options, logger: logger, metadata: metadata)
                return
            }
            logger.warning("Lost the lease; work stopped", metadata: metadata)
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

    /// Renews the lease until it is lost, or cannot be confirmed for two thirds of its duration.
    ///
    /// Each renewal is given only the time left until then: a node cut off from the database
    /// can wait far longer than the lease for a connection (PostgreSQL's `connect_timeout`),
    /// and by the time that call fails the lease may have passed to another node while this
    /// one still works. A renewal that does not answer in time counts as lost. The lease is
    /// taken as confirmed from when the renewal was sent: the store's clock starts the new
    /// duration no earlier.
    private static func renew(_ store: any LeaseStore, name: String, options: LeaseOptions, logger: Logger, metadata: Logger.Metadata) async {
        let patience = options.duration * 2 / 3
        var confirmed = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: options.retryInterval)
            if Task.isCancelled { return }
            let sent = ContinuousClock.now
            switch await renewal(store, name: name, options: options, until: confirmed + patience) {
            case .held:
                confirmed = sent
            case .lost, .cancelled:
                return
            case .failed(let error):
                logger.warning("Could not renew a lease", metadata: metadata.merging(["chronicle.error": "\(error)"]) { $1 })
                if ContinuousClock.now - confirmed >= patience { return }
            case .unanswered:
                logger.warning("A lease renewal did not answer before the lease could pass to another node", metadata: metadata)
                return
            }
        }
    }

    /// What one renewal came to.
    private enum Renewal: Sendable {
        case held, lost, failed(any Error), unanswered, cancelled
    }

    /// The first of a renewal's answers, handed over once (kept if it comes before anyone waits).
    private final class FirstRenewal: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Renewal, Never>?
            var early: Renewal?
            var answered = false
        }

        private let state = Mutex(State())

        func wait(for continuation: CheckedContinuation<Renewal, Never>) {
            let early = state.withLock { state -> Renewal? in
                if let early = state.early { return early }
                state.continuation = continuation
                return nil
            }
            if let early { continuation.resume(returning: early) }
        }

        func answer(_ renewal: Renewal) {
            let waiting = state.withLock { state -> CheckedContinuation<Renewal, Never>? in
                guard !state.answered else { return nil }
                state.answered = true
                guard let continuation = state.continuation else {
                    state.early = renewal
                    return nil
                }
                state.continuation = nil
                return continuation
            }
            waiting?.resume(returning: renewal)
        }
    }

    /// One renewal, given until `deadline`. The call runs in a task of its own, not waited
    /// for past the deadline (a store call on a dead connection may not even end when
    /// cancelled); if it answers later, the lease it renews simply expires.
    private static func renewal(_ store: any LeaseStore, name: String, options: LeaseOptions, until deadline: ContinuousClock.Instant) async -> Renewal {
        let first = FirstRenewal()
        let call = Task {
            do {
                first.answer(try await store.acquireLease(name, owner: options.owner, duration: options.duration) ? .held : .lost)
            } catch {
                first.answer(.failed(error))
            }
        }
        let timer = Task {
            try? await Task.sleep(until: deadline)
            first.answer(.unanswered)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                first.wait(for: continuation)
            }
        } onCancel: {
            call.cancel()
            first.answer(.cancelled)
        }
    }
}
