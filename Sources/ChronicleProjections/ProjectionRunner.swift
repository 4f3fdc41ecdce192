import ChronicleCore
import Logging
import ServiceLifecycle

/// Runs a store's asynchronous projection in the background: reads the log after the
/// checkpoint a page at a time, and hands each page to the store, which applies it and moves
/// the checkpoint in one transaction. When caught up it waits for commits.
///
/// ```swift
/// let store = try SQLiteEventStore(directory: path, configuration: .init(projection: projection, lifecycle: .async), logger: logger)
/// let group = ServiceGroup(configuration: .init(services: [server, ProjectionRunner(store: store, logger: logger)], …))
/// ```
///
/// A storage error is logged and retried with backoff (up to 30 s), so a locked or full disk
/// does not stop the process; the checkpoint never moves past an event that was not applied.
public struct ProjectionRunner: Service {
    let store: any AsyncProjectionStore
    let logger: Logger
    let pageSize: Int
    let lease: LeaseOptions

    /// The lease the runner holds while it runs, on a store several nodes share.
    public static let leaseName = "projection:async"

    /// Creates a runner for `store`'s projection. On a store shared by several nodes (a
    /// ``LeaseStore``), it runs on one node at a time: the one holding ``leaseName``.
    public init(store: any AsyncProjectionStore, logger: Logger, pageSize: Int = 500, lease: LeaseOptions = LeaseOptions()) {
        self.store = store
        self.logger = logger
        self.pageSize = max(1, pageSize)
        self.lease = lease
    }

    /// Runs until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await LeasedWork.run(store as? any LeaseStore, name: Self.leaseName, options: lease, logger: logger) {
                await self.follow()
            }
        }
    }

    private func follow() async {
        await LogFollower.run(start: { try await store.projectionCheckpoint() }, step: { checkpoint in
            let page = try await store.readLog(after: checkpoint, limit: pageSize, filter: LogFilter())
            guard page.scannedThrough > checkpoint else {
                try await store.waitForEvents(after: checkpoint)
                return checkpoint
            }
            return try await store.applyProjection(page.events, after: checkpoint, through: page.scannedThrough)
        }, failed: { error, checkpoint in
            logger.error("Projection failed; retrying", metadata: ["chronicle.position": "\(checkpoint)", "chronicle.error": "\(error)"])
        })
    }
}
