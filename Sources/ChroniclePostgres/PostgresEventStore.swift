import ChronicleCore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The PostgreSQL event store: several Chronicle processes (nodes) can share one database,
/// each writing and reading.
///
/// It is a `Service`: its ``run()`` runs the PostgreSQL connection pool, the in-process
/// group commit and the `LISTEN` loop that wakes subscribers. Run it in the same
/// `ServiceGroup` as the code that uses it, or scope it with ``withStore(configuration:logger:_:)``:
///
/// ```swift
/// let configuration = try PostgresEventStore.Configuration(url: "postgres://chronicle@127.0.0.1/chronicle")
/// try await PostgresEventStore.withStore(configuration: configuration, logger: logger) { store in
///     try await store.append(to: StreamName("user-1"), [EventData(type: "UserCreated", data: ["email": "ada@example.com"])])
/// }
/// ```
///
/// ## A gap-free global log
///
/// Positions are allocated by the writers, not by a sequence: each write transaction first
/// takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`, one key per events
/// table), then reads the head position, last hash and last recording time under it, and
/// writes positions right after the head. The lock is released only after the commit is
/// visible, so the next writer, in this process or any other, reads a head that includes
/// it. Commits are therefore made in position order, one at a time, and every snapshot a
/// reader takes holds a prefix of the log: once a reader has seen position N, no event
/// below N can be committed later. (A sequence or an identity column would hand out
/// positions at insert time, and a transaction that got 11 could commit after one that
/// got 12: a reader that had seen 12 would skip 11 for ever.)
///
/// The cost is that writes are serialised across all nodes; within a node, concurrent
/// appends are grouped into one transaction (group commit), so the lock is taken once per
/// batch, not once per append.
///
/// `LISTEN`/`NOTIFY` only wakes subscribers: events are always read from the tables, and
/// in case a notification is lost the store still reads the head every
/// ``Configuration-swift.struct/pollInterval`` while anyone waits: one read for all the
/// waiting subscribers, not one each.
public final class PostgresEventStore: ProjectionStore, DocumentStore, Service, PersonalDataStore {
    enum WriteOperation: Sendable {
        case append(PreparedAppend)
        case delete(StreamName, DeleteMode, ExpectedRevision)
        case reactor(ReactorWrite)
        case erase(subject: String, actor: String?)
    }

    enum WriteOutcome: Sendable {
        case appended(AppendResult)
        case deleted(DeleteResult)
        case reacted
        case erased(SubjectErasure)
    }

    /// The configuration it was opened with.
    public let configuration: Configuration
    /// The projections the store keeps, the primary one first; see ``ProjectionStore``.
    public let projections: [ProjectionRegistration]
    let client: PostgresClient
    let queue: PostgresWriteQueue<WriteOperation, WriteOutcome>
    let notifier = CommitNotifier()
    /// The pooled connections out now, for the error of a caller that got none in time.
    let leases: PostgresLeases
    let logger: Logger
    /// The `NOTIFY` channel of this schema's log.
    let channel: String
    /// Opens sealed personal fields for readers.
    let personalData: PersonalDataReader
    /// Seals appends' personal fields ahead of the writer.
    let sealer: PersonalSealer
    /// The master key the subject keys are wrapped with; see ``Configuration/masterKey``.
    public var masterKey: MasterKey? { configuration.masterKey }

    /// Connects once to check the server and apply the migrations, then makes the store.
    /// The store serves only while its ``run()`` runs.
    ///
    /// - Throws: ``ChronicleError`` with ``ChronicleError/Code/storageFailure`` when the
    ///   server cannot be reached or refuses the login, or
    ///   ``ChronicleError/Code/incompatibleStorage`` when a newer Chronicle wrote the database,
    public init(configuration: Configuration, logger: Logger) async throws {
        self.configuration = configuration
        self.logger = logger
        try ProjectionRegistration.validate(configuration.projections)
        let projections = configuration.projections
        self.projections = projections
        let personalData = PersonalDataReader(masterKey: configuration.masterKey)
        self.personalData = personalData
        self.sealer = PersonalSealer(masterKey: configuration.masterKey)
        if configuration.masterKey == nil, projections.contains(where: { $0.projection.declaresPersonalData }) {
            throw ChronicleError(.masterKeyMissing, "The schema declares personal fields; open the store with a master key to seal them (--master-key-file or CHRONICLE_MASTER_KEY).")
        }
        self.channel = Self.channel(schema: configuration.schema)
        self.queue = PostgresWriteQueue(maximumBatchSize: configuration.maximumBatchSize, pipelineDepth: configuration.maximumConnections >= 4 ? 2 : 1)
        self.leases = PostgresLeases(maximumConnections: configuration.maximumConnections)
        let head: Int64
        do {
            let connection = try await PostgresConnection.connect(configuration: try configuration.connectionConfiguration(), id: 0, logger: logger)
            do {
                try await PostgresSchema.migrate(connection, schema: configuration.schema, logger: logger)
                try personalData.check(sample: try await Self.sampleSubjectKey(on: connection, logger: logger))
                for registration in projections where registration.lifecycle != .live {
                    try await Self.ensureCurrent(registration.projection, on: connection, reader: personalData, logger: logger)
                }
                head = try await Self.lastEvent(connection, logger: logger)?.position ?? 0
                try? await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            throw Self.storageError(error, doing: "open the event store at \(configuration.displayName)", configuration: configuration)
        }
        self.client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        notifier.advance(to: head)
        logger.info("Opened event store", metadata: ["chronicle.postgres": "\(configuration.displayName)", "chronicle.position": "\(head)"])
    }

    /// The `NOTIFY` channel of a schema: channel names are limited to 63 bytes, so a long
    /// schema name is replaced by its FNV-1a hash.
    static func channel(schema: String?) -> String {
        guard let schema else { return "chronicle_events" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in schema.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return "chronicle_events_" + String(hash, radix: 16)
    }

    /// Opens a store, runs it for the duration of `body`, then stops it.
    public static func withStore<T: Sendable>(configuration: Configuration, logger: Logger, _ body: (PostgresEventStore) async throws -> T) async throws -> T {
        let store = try await PostgresEventStore(configuration: configuration, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            return try await body(store)
        }
    }

    /// Runs the connection pool, group commit and the `LISTEN` loop until the task is
    /// cancelled or the service group shuts down. Appends submitted after it ends fail with
    /// ``ChronicleError/Code/storageFailure``.
    public func run() async throws {
        let closing = ChronicleError(.storageFailure, "The PostgreSQL event store is shut down; nothing more can be written through it.")
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.client.run() }
                group.addTask { await self.queue.run(closing: closing) { batch, handOff in await self.commit(batch, handOff: handOff) } }
                group.addTask { await self.listen() }
                await group.waitForAll()
            }
        }
    }

    /// Drops the configuration's schema and everything in it: Chronicle's tables and any
    /// other. For tests and benchmarks that work in a throw-away schema.
    ///
    /// - Throws: ``ChronicleError/Code/invalidInput`` if the configuration names no schema
    ///   (the default schema is never dropped).
    public static func dropSchema(configuration: Configuration, logger: Logger) async throws {
        guard let schema = configuration.schema else {
            throw ChronicleError(.invalidInput, "The configuration names no schema; dropSchema only drops a schema named in it.")
        }
        do {
            let connection = try await PostgresConnection.connect(configuration: try configuration.connectionConfiguration(), id: 0, logger: logger)
            do {
                try await connection.run(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(Configuration.quoted(schema)) CASCADE"), logger: logger)
                try await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            throw storageError(error, doing: "drop schema \(schema)", configuration: configuration)
        }
    }

    /// How many commits carried how many writes (their ratio is the mean batch size).
    public var groupCommitStatistics: (commits: Int, operations: Int) { queue.statistics }

    // MARK: Writing

    /// Appends events; see ``EventStore/append(_:)``.
    @discardableResult
    public func append(_ request: AppendRequest) async throws -> AppendResult {
        let prepared = try sealer.seal(request.prepared(limits: configuration.limits), projections: projections)
        try refuseRulesWithoutInlineProjection(prepared)
        guard case .appended(let result) = try await queue.submit(.append(prepared)) else { preconditionFailure() }
        if prepared.erasesStreams(projections) { await scrubAfterPurge(logger: logger) }
        return result
    }

    /// Deletes a stream; see ``EventStore/delete(_:mode:expected:)``.
    public func delete(_ stream: StreamName, mode: DeleteMode, expected: ExpectedRevision) async throws -> DeleteResult {
        guard case .deleted(let result) = try await queue.submit(.delete(stream, mode, expected)) else { preconditionFailure() }
        if mode == .hard { await scrubAfterPurge(logger: logger) }
        return result
    }

    /// Commits a batch in one transaction, each operation with its own outcome; calls
    /// `handOff` once it holds the write lock (the next batch may start then).
    private func commit(_ batch: [WriteOperation], handOff: @escaping @Sendable () -> Void) async -> [Result<WriteOutcome, any Error>] {
        let stage = CommitStage(locked: handOff)
        do {
            let channel = self.channel, logger = self.logger
            let projections = projections, snapshotInterval = configuration.snapshotInterval, sealer = sealer
            let (outcomes, head) = try await withPooledConnection { connection in
                try await withTaskExecutorPreference(EventLoopTaskExecutor(connection.eventLoop)) {
                    do {
                        return try await Self.commit(
                            batch, on: connection, channel: channel, projections: projections, snapshotInterval: snapshotInterval, sealer: sealer,
                            readingIDsAhead: false, stage: stage, logger: logger
                        )
                    } catch is StoredIDCollision {
                        // An event of the batch was stored before (a retried append, rolled back
                        // above): the batch again with its ids read ahead, so that the retry gets
                        // its original result.
                        return try await Self.commit(
                            batch, on: connection, channel: channel, projections: projections, snapshotInterval: snapshotInterval, sealer: sealer,
                            readingIDsAhead: true, stage: stage, logger: logger
                        )
                    }
                }
            }
            notifier.advance(to: head)
            return outcomes
        } catch {
            var failure = Self.storageError(error, doing: "commit \(batch.count == 1 ? "a write" : "\(batch.count) writes")", configuration: configuration)
            if failure.code == .storageFailure {
                failure.message += stage.committing
                    ? " The connection was lost while committing, so the write may or may not be stored: retry it with the same event ids (retries are idempotent), or read the stream to find out."
                    : " Nothing was stored."
            }
            logger.error("Write failed", metadata: ["chronicle.error": "\(failure)"])
            return Array(repeating: .failure(failure), count: batch.count)
        }
    }

    /// The `pg_notify` a commit sends for the other nodes' subscribers: the new head.
    struct CommitNotification {
        var channel: String
        var head: Int64
    }

    /// An event id of a batch committed without reading its ids ahead is stored already.
    struct StoredIDCollision: Error, CustomStringConvertible {
        var description: String { "An event id of the batch is stored already; the batch is committed again with its ids read first." }
    }

    /// How far a commit got: whether it holds the write lock (then the write queue may start
    /// the next batch, whose `BEGIN`, condition sampling and request for the lock overlap
    /// this one's work under it), and whether it sent `COMMIT`.
    private final class CommitStage: @unchecked Sendable {
        // Written and read by the one task that runs the commit.
        private(set) var committing = false
        /// The commit holds the write lock (called once it has it; again after a retry).
        let locked: @Sendable () -> Void

        init(locked: @escaping @Sendable () -> Void) { self.locked = locked }

        /// The commit is about to send `COMMIT`.
        func willCommit() {
            committing = true
        }
    }

    /// The events of a batch above which its writer work runs on the cooperative pool rather
    /// than on the connection's event loop (about a millisecond of work).
    static let largeBatchEvents = 256

    /// Commits `batch` in one transaction: `BEGIN`, the write lock with one read of the head
    /// and the streams in one statement (then what else the batch needs), the inserts with
    /// `pg_notify`, `COMMIT`. It runs on its connection's event loop
    /// (``EventLoopTaskExecutor``): the write lock is held from the lock statement's answer
    /// to `COMMIT`'s, and each round trip in between costs less without the hops to and
    /// from the cooperative pool.
    /// Without `readingIDsAhead`, the events' ids are taken as new (the engine asks for them
    /// when an append fails, to find a retry's original result); a retry that would pass
    /// stores nothing (`ON CONFLICT (id) DO NOTHING`) and throws ``StoredIDCollision`` for
    /// the caller to roll back and commit the batch again with its ids read.
    private static func commit(
        _ batch: [WriteOperation], on connection: PostgresConnection, channel: String, projections: [ProjectionRegistration], snapshotInterval: Int,
        sealer: PersonalSealer, readingIDsAhead: Bool, stage: CommitStage, logger: Logger
    ) async throws -> ([Result<WriteOutcome, any Error>], Int64) {
        try await connection.run("BEGIN", logger: logger)
        do {
            var snapshot = PostgresSnapshotTransaction(projections: projections, snapshotInterval: snapshotInterval)
            var need = NeedsData()
            var events = 0
            for operation in batch {
                switch operation {
                case .append(let request):
                    for part in request.streams {
                        events += part.events.count
                        need.streams.insert(part.stream)
                        if readingIDsAhead { for event in part.events { need.events.insert(event.id) } }
                    }
                    if let condition = request.condition {
                        need.conditions.insert(ConditionKey(query: condition.failIfEventsMatch, after: condition.after ?? 0))
                    }
                    need.prefetchSubjects(of: request, projections: projections)
                case .delete(let stream, _, _):
                    need.streams.insert(stream)
                    need.streams.insert(.deletions)
                case .reactor(let write):
                    need.streams.formUnion(write.streams)
                case .erase(let subject, _):
                    need.subjects.insert(subject)
                    need.streams.insert(SubjectErasure.stream)
                }
                need.prefetchDocuments(for: operation, projections: projections)
            }
            snapshot.reserve(events: events)
            // The conditions' tags sampled while the commit before may still hold the lock.
            let sampled = need.conditions.isEmpty ? [:] : try await reaches(need.conditions.map { ($0.query, $0.after) }, through: nil, on: connection, logger: logger)
            // The write lock (see the type's documentation), then the head and the streams,
            // read once it is granted.
            let (last, streams) = try await headAndStreams(need.streams.map(\.rawValue), locking: true, on: connection, logger: logger)
            stage.locked()
            var writer = LogWriter(head: last?.position ?? 0, lastHash: last?.hash ?? .zero, lastRecordedAt: last?.recordedAt ?? 0, masterKey: sealer.masterKey, sealer: sealer)
            try await read(need, into: &snapshot, streamsRead: streams, sampled: sampled, on: connection, logger: logger)
            var reactors = try await ReactorBatch.read(batch, on: connection, logger: logger)
            let now = Timestamp.now()
            // A large batch's writer work (hashing, folding) leaves the event loop, which also
            // serves other connections and the HTTP server: the hop costs less than the stall.
            func runBatch() async throws -> [Result<WriteOutcome, any Error>] {
                try await run(batch, writer: &writer, reactors: &reactors, snapshot: &snapshot, now: now, projections: projections, on: connection, logger: logger)
            }
            let outcomes = events > largeBatchEvents ? try await withTaskExecutorPreference(globalConcurrentExecutor) { try await runBatch() } : try await runBatch()
            let head = writer.head
            var notify = head > (last?.position ?? 0) ? CommitNotification(channel: channel, head: head) : nil
            if snapshot.hasWrites {
                try await flushSubjectKeys(snapshot, on: connection, logger: logger)
                try await flush(snapshot, notify: &notify, on: connection, logger: logger)
                try await flushDocuments(snapshot, on: connection, logger: logger)
            }
            try await reactors.flush(on: connection, logger: logger)
            if let notify {
                try await connection.run("SELECT pg_notify(\(notify.channel), \(String(notify.head)))", logger: logger)
            }
            stage.willCommit()
            try await connection.run("COMMIT", logger: logger)
            return (outcomes, head)
        } catch {
            if !stage.committing, Self.connectionSurvives(error) {
                _ = try? await connection.run("ROLLBACK", logger: logger)
            }
            throw error
        }
    }

    /// Reads the stream states and events `need` names into the snapshot.
    /// `streamsRead`: the states of `need.streams`, read already (by ``headAndStreams(_:locking:on:logger:)``);
    /// `sampled`: the reaches of the conditions' tags, sampled already (see ``firstMatches(_:sampled:on:logger:)``).
    static func read(
        _ need: NeedsData, into snapshot: inout PostgresSnapshotTransaction, streamsRead: [StreamInfo]? = nil, sampled: [TagRange: Int64?] = [:],
        on connection: PostgresConnection, logger: Logger
    ) async throws {
        var streams: [StreamName: StreamInfo?] = [:]
        if !need.streams.isEmpty {
            let names = need.streams.map(\.rawValue)
            for name in names { streams[StreamName(stored: name)] = .some(nil) }
            let infos: [StreamInfo]
            if let streamsRead { infos = streamsRead } else { infos = try await streamInfos(names, on: connection, logger: logger) }
            for info in infos { streams[info.stream] = info }
        }
        var events: [UUID: RecordedEvent?] = [:]
        if !need.events.isEmpty {
            let ids = Array(need.events)
            for id in ids { events[id] = .some(nil) }
            let rows = try await connection.run("SELECT \(unescaped: eventColumns) FROM events WHERE id = ANY(\(ids))", logger: logger)
            for try await row in rows {
                let event = try decodeEvent(row)
                events[event.id] = event
            }
        }
        let conditions: [ConditionKey: Int64?] = need.conditions.isEmpty ? [:] : try await firstMatches(need.conditions, sampled: sampled, on: connection, logger: logger)
        let documents = try await readDocuments(need.documents, on: connection, logger: logger)
        var holders: [HolderKey: [String]] = [:]
        var holderDocuments: [DocumentKey: Document?] = [:]
        for key in need.holders {
            let found = try await readHolders(key, on: connection, logger: logger)
            holders[key] = found.map(\.id)
            for document in found { holderDocuments[DocumentKey(projection: key.projection, entity: document.entity, id: document.id)] = document }
        }
        snapshot.learn(streams: streams, events: events, documents: documents.merging(holderDocuments) { old, _ in old }, holders: holders, conditions: conditions)
        try await readPersonal(need, into: &snapshot, on: connection, logger: logger)
    }

    /// Sends the batch's writes: consecutive inserts as one multi-row insert, purges in
    /// their place, then the stream deletion rows. The first insert also sends `notify`
    /// (which it then clears): a notification is delivered at `COMMIT` whichever statement
    /// of the transaction sent it.
    static func flush(_ snapshot: PostgresSnapshotTransaction, notify: inout CommitNotification?, on connection: PostgresConnection, logger: Logger) async throws {
        var run: [RecordedEvent] = []
        for write in snapshot.writes {
            switch write {
            case .insert(let event):
                run.append(event)
            case .purge(let stream):
                try await insert(run, notify: &notify, on: connection, logger: logger)
                run.removeAll()
                try await connection.run("""
                    DELETE FROM event_tags WHERE position IN (SELECT position FROM events WHERE stream = \(stream.rawValue) AND tags <> '')
                    """, logger: logger)
                try await connection.run("""
                    WITH gone AS (DELETE FROM events WHERE stream = \(stream.rawValue) RETURNING position, hash)
                    INSERT INTO purged_events (position, hash) SELECT position, hash FROM gone
                    """, logger: logger)
            }
        }
        try await insert(run, notify: &notify, on: connection, logger: logger)
        let (upserts, removals) = snapshot.deletionChanges
        if !removals.isEmpty {
            try await connection.run("DELETE FROM stream_deletions WHERE name = ANY(\(removals.map(\.rawValue)))", logger: logger)
        }
        if !upserts.isEmpty {
            let names = upserts.map(\.stream.rawValue)
            let revisions = upserts.map { $0.revision ?? -1 }
            let statuses = upserts.map { Int16($0.status == .tombstoned ? 2 : 1) }
            try await connection.run("""
                INSERT INTO stream_deletions (name, revision, status)
                SELECT * FROM unnest(\(names)::text[], \(revisions)::int8[], \(statuses)::int2[])
                ON CONFLICT (name) DO UPDATE SET revision = excluded.revision, status = excluded.status
                """, logger: logger)
        }
    }

    /// Inserts events and their tags with one statement, each column bound as one array,
    /// and sends `notify` if it is set (then clears it).
    ///
    /// - Throws: ``StoredIDCollision`` if an event's id is stored already (nothing is
    ///   inserted for it; the caller rolls back).
    private static func insert(_ events: [RecordedEvent], notify: inout CommitNotification?, on connection: PostgresConnection, logger: Logger) async throws {
        guard !events.isEmpty else { return }
        var positions: [Int64] = [], ids: [UUID] = [], streams: [String] = [], revisions: [Int64] = [], types: [String] = []
        var categories: [String] = [], recordedAts: [Int64] = [], datas: [String] = [], metadatas: [String] = [], hashes: [ByteBuffer] = []
        positions.reserveCapacity(events.count); ids.reserveCapacity(events.count); streams.reserveCapacity(events.count)
        revisions.reserveCapacity(events.count); types.reserveCapacity(events.count); categories.reserveCapacity(events.count)
        recordedAts.reserveCapacity(events.count); datas.reserveCapacity(events.count); metadatas.reserveCapacity(events.count)
        hashes.reserveCapacity(events.count)
        var tags: [String] = [], tagTexts: [String] = [], tagPositions: [Int64] = []
        tagTexts.reserveCapacity(events.count)
        for event in events {
            tagTexts.append(StoredTags.encode(event.tags))
            for tag in event.tags {
                tags.append(tag)
                tagPositions.append(event.position)
            }
            positions.append(event.position)
            ids.append(event.id)
            streams.append(event.stream.rawValue)
            revisions.append(event.revision)
            types.append(event.type)
            categories.append(event.stream.category)
            recordedAts.append(event.recordedAtMicroseconds)
            datas.append(event.dataJSON)
            metadatas.append(event.metadataJSON)
            hashes.append(event.hash.withUnsafeBytes { ByteBuffer(bytes: $0) })
        }
        var binds = PostgresBindings(capacity: 15)
        for column in [positions, revisions, recordedAts] as [[Int64]] { binds.append(column) }
        binds.append(ids)
        for column in [streams, types, categories, datas, metadatas, tagTexts] { binds.append(column) }
        binds.append(hashes)
        binds.append(tags)
        binds.append(tagPositions)
        binds.append(notify?.channel ?? "")
        binds.append(String(notify?.head ?? 0))
        var inserted: Int64 = 0
        for (count, _) in try await connection.run(InsertEvents(bindings: binds), logger: logger) { inserted = count }
        notify = nil
        guard inserted == events.count else { throw StoredIDCollision() }
    }

    /// The statement of ``insert(_:notify:on:logger:)``: the events (an id stored already
    /// inserts nothing), their tags (a data-modifying CTE runs whether or not it is read),
    /// and the notification if `$14` names a channel; answers how many events it inserted.
    struct InsertEvents: PostgresPreparedStatement {
        static let name = "chronicle_insert_events"
        static let sql = """
            WITH inserted AS (
                INSERT INTO events (position, id, stream, revision, type, category, recorded_at, data, metadata, hash, tags)
                SELECT * FROM unnest($1::int8[], $4::uuid[], $5::text[], $2::int8[], $6::text[], $7::text[], $3::int8[], $8::text[], $9::text[], $11::bytea[], $10::text[])
                ON CONFLICT (id) DO NOTHING
                RETURNING 1
            ), tagged AS (
                INSERT INTO event_tags (tag, position) SELECT * FROM unnest($12::text[], $13::int8[])
            )
            SELECT count(*), CASE WHEN $14 <> '' THEN pg_notify($14, $15)::text END FROM inserted
            """
        typealias Row = (Int64, String?)
        var bindings: PostgresBindings

        func makeBindings() throws -> PostgresBindings { bindings }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    // MARK: Notifications

    /// Listens for commits of other processes on a connection of its own (outside the
    /// pool), reconnecting with a bounded backoff, until cancelled.
    private func listen() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: try configuration.connectionConfiguration(), id: 0, logger: logger)
                let channel = self.channel, notifier = self.notifier
                // A notification sequence does not end when its task is cancelled; closing
                // the connection ends it.
                do {
                    try await withTaskCancellationHandler {
                        try await connection.listen(on: channel) { notifications in
                            // Commits made before LISTEN took effect sent no notification
                            // here. Read through the pool: this connection may be closing (a
                            // query on a closed PostgresNIO connection is never answered).
                            _ = try await self.headPosition()
                            failures = 0
                            for try await notification in notifications {
                                if let position = Int64(notification.payload) {
                                    notifier.advance(to: position)
                                }
                            }
                        }
                    } onCancel: {
                        let _: EventLoopFuture<Void> = connection.close()
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                failures += 1
                logger.warning("LISTEN connection failed; subscribers poll until it is back", metadata: ["chronicle.error": "\(Self.storageError(error, doing: "listen for commits", configuration: configuration))"])
            }
            try? await Task.sleep(for: .milliseconds(100 * (1 << min(failures, 6))))
        }
    }
}
