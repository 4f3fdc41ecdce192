import ChronicleCore

extension SQLiteEventStore {
    /// How an ``SQLiteEventStore`` opens its file.
    public struct Configuration: Sendable {
        /// What an acknowledged append survives.
        public enum Durability: String, Sendable, CaseIterable {
            /// Every commit is fsynced (`synchronous=FULL`): an acknowledged append survives
            /// a crash and a power loss. The default.
            case full
            /// Commits are not fsynced (`synchronous=NORMAL` in WAL mode): faster, survives a
            /// crash of the process, but a power loss or an OS crash can lose the most recent
            /// acknowledged appends. The file is never corrupted.
            case lossyOnPowerFailure = "lossy-on-power-failure"
        }

        /// What an acknowledged append survives. Default ``Durability/full``.
        public var durability: Durability
        /// Limits on appends.
        public var limits: EventStoreLimits
        /// The largest the database file may grow, in bytes; `nil` for no limit but the disk.
        /// Appends past it fail with ``ChronicleError/Code/storageFull`` and store nothing.
        public var maximumSize: Int64?
        /// How long to wait for another process that holds the write lock, in seconds.
        public var busyTimeout: Double
        /// The most appends committed together in one transaction.
        public var maximumBatchSize: Int
        /// How often the store looks for commits made by other processes while anyone waits
        /// for a commit: one read of the head per interval for the whole store, however many
        /// subscribers wait (commits of this process wake them at once).
        public var externalCommitPollInterval: Duration
        /// A projection whose documents are kept inline: written in the same transaction as
        /// the events, so a read right after an append sees it. Changing its definition
        /// rebuilds its documents when the store opens.
        public var projection: (any Projection)?
        /// When the projection is applied: in the append's transaction (default), or in the
        /// background by a `ProjectionRunner` from a checkpoint.
        public var lifecycle: ProjectionLifecycle
        /// More projections kept beside ``projection``, each with its own lifecycle,
        /// documents, checkpoint and rebuild (see ``projections``).
        public var additionalProjections: [ProjectionRegistration]
        /// Every how many versions of an entity its document is also kept as a snapshot, so
        /// that time travel folds at most this many events; 0 keeps none. Default 100.
        public var snapshotInterval: Int
        /// The key that wraps the subject keys of personal fields (``PersonalData``); needed
        /// when a projection declares personal fields or the file holds subject keys.
        public var masterKey: MasterKey?

        /// Creates a configuration; the defaults are durable and suit most uses.
        public init(
            durability: Durability = .full,
            limits: EventStoreLimits = EventStoreLimits(),
            maximumSize: Int64? = nil,
            busyTimeout: Double = 10,
            maximumBatchSize: Int = 512,
            externalCommitPollInterval: Duration = .milliseconds(250),
            projection: (any Projection)? = nil,
            lifecycle: ProjectionLifecycle = .inline,
            additionalProjections: [ProjectionRegistration] = [],
            snapshotInterval: Int = 100,
            masterKey: MasterKey? = nil
        ) {
            self.masterKey = masterKey
            self.durability = durability
            self.limits = limits
            self.maximumSize = maximumSize
            self.busyTimeout = busyTimeout
            self.maximumBatchSize = maximumBatchSize
            self.externalCommitPollInterval = externalCommitPollInterval
            self.projection = projection
            self.lifecycle = lifecycle
            self.additionalProjections = additionalProjections
            self.snapshotInterval = max(0, snapshotInterval)
        }

        /// Every projection the store keeps: ``projection`` (the primary one) first, then
        /// ``additionalProjections``.
        public var projections: [ProjectionRegistration] {
            ProjectionRegistration.list(primary: projection, lifecycle: lifecycle, additional: additionalProjections)
        }
    }

    /// The name of the database file inside the data directory.
    public static let fileName = "chronicle.sqlite"
}
