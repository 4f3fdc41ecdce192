import ChronicleCore
import Logging
import ServiceLifecycle

/// Runs an asynchronous projection in the background: reads the log after the checkpoint a
/// page at a time, and hands each page to the store, which applies it and moves the
/// checkpoint in one transaction. When caught up it waits for commits. One runner per
/// asynchronous projection: give it the store (its primary projection) or a
/// ``ProjectionView`` of another.
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
    /// The projection's name (`nil` for a store that keeps one projection under no name).
    public let projection: String?

    /// The lease a runner of `projection` holds while it runs, on a store several nodes share.
    public static func leaseName(_ projection: String?) -> String {
        "projection:" + (projection ?? "async")
    }

    /// Creates a runner for `store`'s projection: a ``ProjectionView``'s, or a store's
    /// primary one. On a store shared by several nodes (a ``LeaseStore``), it runs on one node
    /// at a time: the one holding ``leaseName(_:)``.
    public init(store: any AsyncProjectionStore, logger: Logger, pageSize: Int = 500, lease: LeaseOptions = LeaseOptions()) {
        self.store = store
        var logger = logger
        let projection = (store as? ProjectionView)?.name ?? (store as? any ProjectionStore)?.projections.first?.name
        logger[metadataKey: "chronicle.projection"] = projection.map { "\($0)" }
        self.logger = logger
        self.projection = projection
        self.pageSize = max(1, pageSize)
        self.lease = lease
    }

    /// Runs until graceful shutdown or cancellation.
    public func run() async throws {
        let leases = ((store as? ProjectionView)?.store ?? store) as? any LeaseStore
        await cancelWhenGracefulShutdown {
            await LeasedWork.run(leases, name: Self.leaseName(projection), options: lease, logger: logger) {
                await self.follow()
            }
        }
    }

    private func follow() async {
        await LogFollower.run(start: { try await store.projectionCheckpoint() }, step: { checkpoint in
            var cursor = LogCursor(after: checkpoint, pageSize: pageSize)
            let page = try await cursor.next(from: store)
            guard !page.caughtUp else {
                try await store.waitForEvents(after: checkpoint)
                return checkpoint
            }
            return try await store.applyProjection(page.events, after: checkpoint, through: cursor.position)
        }, failed: { error, checkpoint in
            logger.error("Projection failed; retrying", metadata: ["chronicle.position": "\(checkpoint)", "chronicle.error": "\(error)"])
        })
    }
}
