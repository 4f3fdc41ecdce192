import ChronicleCore
import Foundation
import GRDB
import Logging

/// The embedded event store: one SQLite file (`chronicle.sqlite`) in a data directory, in
/// WAL mode, with one writer that group-commits and readers that run in parallel.
///
/// Durable by default: an append is acknowledged only once it is fsynced. Concurrent
/// appends that arrive while a commit is in flight are committed together in one
/// transaction and one fsync, each in its own savepoint, so one append failing its
/// expectation does not fail its neighbours.
///
/// ```swift
/// let store = try SQLiteEventStore(directory: "./chronicle-data", logger: logger)
/// try await store.append(to: StreamName("user-1"), [EventData(type: "UserCreated", data: ["email": "ada@example.com"])])
/// ```
///
/// Several processes may open the same directory (for example `chronicle tail` beside a
/// server): writes take SQLite's write lock, and subscribers also poll for commits made by
/// other processes.
public final class SQLiteEventStore: ProjectionStore, DocumentStore, AsyncProjectionStore, LogArchive, ReactorStore, PersonalDataStore {
    enum WriteOperation: Sendable {
        case append(PreparedAppend)
        case delete(StreamName, DeleteMode, ExpectedRevision)
        case erase(subject: String, actor: String?)
    }

    enum WriteOutcome: Sendable {
        case appended(AppendResult)
        case deleted(DeleteResult)
        case erased(SubjectErasure)
    }

    /// The database file.
    public let path: String
    /// The configuration it was opened with.
    public let configuration: Configuration
    /// The projections the store keeps, the primary one first; see ``ProjectionStore``.
    public let projections: [ProjectionRegistration]
    let pool: DatabasePool
    let notifier = CommitNotifier()
    private let committer: GroupCommitter<WriteOperation, WriteOutcome, Database>
    let logger: Logger
    /// Opens sealed personal fields for readers.
    let personalData: PersonalDataReader
    /// Seals appends' personal fields ahead of the writer.
    let sealer: PersonalSealer
    /// The master key the subject keys are wrapped with; see ``Configuration/masterKey``.
    public var masterKey: MasterKey? { configuration.masterKey }

    /// Opens (creating if needed) the store in `directory`.
    ///
    /// - Throws: ``ChronicleError`` with ``ChronicleError/Code/storageFailure`` when the
    ///   directory cannot be created or the file opened, or
    ///   ``ChronicleError/Code/incompatibleStorage`` when the file is not a Chronicle file or
    ///   was written by a newer version.
    public init(directory: String, configuration: Configuration = Configuration(), logger: Logger) throws {
        let directoryURL = URL(fileURLWithPath: directory)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directoryURL.path, isDirectory: &isDirectory) {
            if !isDirectory.boolValue {
                throw ChronicleError(.storageFailure, "\(directory) is a file; the data path must be a directory. Pass another --data path.")
            }
        } else {
            do {
                try FileManager.default.createDirectory(at: directoryURL, withIntermediateDirectories: true)
            } catch {
                throw ChronicleError(.storageFailure, "Cannot create the data directory \(directory): \(error.localizedDescription). Check the path and its permissions.", cause: error)
            }
        }
        let path = directoryURL.appendingPathComponent(Self.fileName).path
        self.path = path
        self.configuration = configuration
        self.logger = logger
        try ProjectionRegistration.validate(configuration.projections)
        let projections = configuration.projections
        self.projections = projections
        let personalData = PersonalDataReader(masterKey: configuration.masterKey)
        self.personalData = personalData
        let sealer = PersonalSealer(masterKey: configuration.masterKey)
        self.sealer = sealer
        if configuration.masterKey == nil, projections.contains(where: { $0.projection.declaresPersonalData }) {
            throw ChronicleError(.masterKeyMissing, "The schema declares personal fields; open the store with a master key to seal them (--master-key-file or CHRONICLE_MASTER_KEY).")
        }

        var grdb = GRDB.Configuration()
        grdb.busyMode = .timeout(configuration.busyTimeout)
        grdb.label = "chronicle"
        let durability = configuration.durability
        let maximumSize = configuration.maximumSize
        grdb.prepareDatabase { db in
            // Deleted content is overwritten with zeros, so that a purged stream or an erased
            // subject's key leaves nothing readable in the file's free space.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            if let maximumSize {
                let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                try db.execute(sql: "PRAGMA max_page_count = \(max(1, maximumSize / pageSize))")
            }
        }
        do {
            pool = try DatabasePool(path: path, configuration: grdb)
            try pool.writeWithoutTransaction { db in
                // After the pool's own set-up, which picks synchronous=NORMAL for WAL mode.
                try db.execute(sql: durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
                // The writer's page cache: 64 MiB (SQLite's default is 2 MiB). A rebuild writes a
                // temporal-table row per event, keyed by entity, so each page of it touches a
                // leaf page per entity; with the default cache those spill to disk mid-transaction.
                try db.execute(sql: "PRAGMA cache_size = -65536")
                try db.inTransaction {
                    try SQLiteSchema.checkCompatible(db, path: path)
                    return .commit
                }
            }
            try SQLiteSchema.migrator.migrate(pool)
            try personalData.check(sample: try pool.read { db in try SQLiteSubjectKeys.sample(db) })
            try pool.write { db in
                // Rebuilds that did not finish (the process died): the old documents serve.
                for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?", arguments: [SQLiteDocuments.shadowPrefix + "%"]) {
                    try db.execute(sql: "DROP TABLE \(table)")
                }
                try db.execute(sql: "DELETE FROM document_versions_staging")
            }
        } catch {
            throw Self.storageError(error, doing: "open \(path)")
        }
        let writerPool = pool
        committer = GroupCommitter(
            maximumBatchSize: configuration.maximumBatchSize,
            executor: { job in writerPool.asyncWriteWithoutTransaction(job) },
            commit: { db, batch in
                Self.commit(batch, in: db, projections: projections, snapshotInterval: configuration.snapshotInterval, sealer: sealer)
            }
        )
        for registration in projections where registration.lifecycle != .live {
            try Self.ensureCurrent(registration.projection, in: pool, reader: personalData, logger: logger)
        }
        let head = try pool.read { db in try Self.lastEvent(db)?.position ?? 0 }
        notifier.advance(to: head)
        logger.info("Opened event store", metadata: ["chronicle.path": "\(path)", "chronicle.position": "\(head)", "chronicle.durability": "\(durability.rawValue)"])
    }

    // MARK: Writing

    /// Appends events; see ``EventStore/append(_:)``.
    @discardableResult
    public func append(_ request: AppendRequest) async throws -> AppendResult {
        let prepared = try sealer.seal(request.prepared(limits: configuration.limits), projections: projections)
        try refuseRulesWithoutInlineProjection(prepared)
        guard case .appended(let result) = try await write(.append(prepared)) else { preconditionFailure() }
        if prepared.erasesStreams(projections) { await scrubAfterPurge(logger: logger) }
        return result
    }

    /// Deletes a stream; see ``EventStore/delete(_:mode:expected:)``.
    public func delete(_ stream: StreamName, mode: DeleteMode, expected: ExpectedRevision) async throws -> DeleteResult {
        guard case .deleted(let result) = try await write(.delete(stream, mode, expected)) else { preconditionFailure() }
        if mode == .hard { await scrubAfterPurge(logger: logger) }
        return result
    }

    func write(_ operation: WriteOperation) async throws -> WriteOutcome {
        do {
            let outcome = try await committer.submit(operation)
            let position: Int64 = switch outcome {
            case .appended(let result): result.position
            case .deleted(let result): result.position
            case .erased(let erasure): erasure.receipt.position
            }
            notifier.advance(to: position)
            return outcome
        } catch let error as ChronicleError {
            if error.code == .storageFull || error.code == .storageFailure {
                logger.error("Write failed", metadata: ["chronicle.error": "\(error)"])
            }
            throw error
        }
    }

    // MARK: Backup and restore

    /// Entries after a position; see ``LogArchive/exportLog(after:limit:)``.
    public func exportLog(after position: Int64, limit: Int) async throws -> [LogEntry] {
        let size = max(1, limit)
        return try await reading("export the log") { db -> [LogEntry] in
            var entries = try SQLiteEventRow.fetchAll(db, sql: "SELECT \(SQLiteEventRow.columns) FROM events WHERE position > ? ORDER BY position LIMIT ?", arguments: [position, size]).map(LogEntry.event)
            let upper = entries.count == size ? entries[entries.count - 1].position : Int64.max
            let purged = try Row.fetchAll(db, sql: "SELECT position, hash FROM purged_events WHERE position > ? AND position <= ? ORDER BY position", arguments: [position, upper])
            entries += purged.map { LogEntry.purged(position: $0[0], hash: EventHash(bytes: [UInt8]($0[1] as Data)) ?? .zero) }
            return entries.sorted { $0.position < $1.position }
        }
    }

    /// Loads a log into this empty store; see ``LogArchive/importLog(_:reactors:progress:)``.
    public func importLog(_ entries: [LogEntry], reactors: ReactorArchive, progress: @Sendable (Int) -> Void) async throws {
        let projections = projections
        try reactors.check(against: entries)
        do {
            try await pool.write { db in
                if try Self.lastEvent(db) != nil || (try Int.fetchOne(db, sql: "SELECT count(*) FROM purged_events") ?? 0) > 0 {
                    throw ChronicleError(.invalidInput, "The store at \(self.path) is not empty; import into a new data directory.")
                }
                var check = LogImportCheck()
                var transaction = SQLiteWriteTransaction(db: db, deletionsExist: true, projections: [])
                for (index, entry) in entries.enumerated() {
                    let deletion = try check.check(entry, index: index)
                    switch entry {
                    case .event(let event):
                        try transaction.insert(event, stream: StreamInfo(stream: event.stream, revision: event.revision, status: .active))
                        if let deletion { try transaction.save(deletion) }
                    case .purged(let position, let hash):
                        try db.execute(sql: "INSERT INTO purged_events (position, hash) VALUES (?, ?)", arguments: [position, Data(hash.bytes)])
                    }
                    try transaction.flush()
                    if (index + 1) % 10_000 == 0 { progress(index + 1) }
                }
                try Self.insert(reactors, in: db)
                for registration in projections where registration.lifecycle != .live {
                    _ = try Self.rebuild(registration.projection, in: db, reader: self.personalData)
                }
                progress(entries.count)
            }
        } catch {
            throw Self.storageError(error, doing: "import the log")
        }
        notifier.advance(to: entries.last?.position ?? 0)
    }

    /// The names of the projections whose documents the file keeps (recorded by the stores
    /// that opened it with one), in name order.
    public func projectionNames() async throws -> [String] {
        try await reading("list the projections") { db in try String.fetchAll(db, sql: "SELECT name FROM projections ORDER BY name") }
    }

    /// SQLite settings of the writer connection that decide durability and layout
    /// (`journal_mode`, `synchronous` — 2 is FULL, 1 is NORMAL —, `page_size`, `max_page_count`).
    /// The bytes each table and index takes in the data file (SQLite's `dbstat`), for the
    /// bench's storage figures.
    public func storageBytes() async throws -> [String: Int64] {
        do {
            return try await pool.read { db in
                var bytes: [String: Int64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name") {
                    bytes[row[0]] = row[1]
                }
                return bytes
            }
        } catch {
            throw Self.storageError(error, doing: "measure the tables")
        }
    }

    public func storageSettings() async throws -> [String: String] {
        do {
            return try await pool.writeWithoutTransaction { db in
                var settings: [String: String] = [:]
                for name in ["journal_mode", "synchronous", "page_size", "max_page_count"] {
                    settings[name] = try String.fetchOne(db, sql: "PRAGMA \(name)")
                }
                return settings
            }
        } catch {
            throw Self.storageError(error, doing: "read the storage settings")
        }
    }

    /// How many group commits ran, how many appends and deletes they carried, and the time
    /// the writer spent committing.
    public var commitStatistics: (commits: Int, operations: Int, busy: Duration) { committer.statistics }

    /// Thrown inside an optimistic commit when an operation failed after writing.
    private struct NeedsSavepoints: Error {}

    /// Commits a batch in one transaction. An operation that breaks a rule fails alone; a
    /// storage failure (full disk, I/O error) fails the whole batch, since SQLite may have
    /// rolled the transaction back already.
    ///
    /// Operations run without savepoints first: the append and delete rules check everything
    /// before writing, so a refused operation has written nothing. Only if an operation fails
    /// after writing (an event id taken later in the request) is the batch rolled back and
    /// redone with one savepoint per operation.
    private static func commit(_ batch: [WriteOperation], in db: Database, projections: [ProjectionRegistration], snapshotInterval: Int, sealer: PersonalSealer) -> [Result<WriteOutcome, any Error>] {
        do {
            do {
                return try commit(batch, in: db, savepoints: false, projections: projections, snapshotInterval: snapshotInterval, sealer: sealer)
            } catch is NeedsSavepoints {
                return try commit(batch, in: db, savepoints: true, projections: projections, snapshotInterval: snapshotInterval, sealer: sealer)
            }
        } catch {
            let failure = storageError(error, doing: "commit")
            return Array(repeating: .failure(failure), count: batch.count)
        }
    }

    private static func commit(_ batch: [WriteOperation], in db: Database, savepoints: Bool, projections: [ProjectionRegistration], snapshotInterval: Int, sealer: PersonalSealer) throws -> [Result<WriteOutcome, any Error>] {
        var outcomes: [Result<WriteOutcome, any Error>] = []
        outcomes.reserveCapacity(batch.count)
        try db.inTransaction(.immediate) {
            let last = try lastEvent(db)
            var writer = LogWriter(head: last?.position ?? 0, lastHash: last?.hash ?? .zero, lastRecordedAt: last?.recordedAt ?? 0, masterKey: sealer.masterKey, sealer: sealer)
            let now = Timestamp.now()
            var deletionsExist = try SQLiteWriteTransaction.deletionsExist(db)
            for operation in batch {
                let saved = writer
                if case .append = operation {} else { deletionsExist = true }
                var transaction = SQLiteWriteTransaction(db: db, deletionsExist: deletionsExist, projections: projections, snapshotInterval: snapshotInterval)
                func apply() throws -> WriteOutcome {
                    let outcome: WriteOutcome = switch operation {
                    case .append(let request):
                        .appended(try writer.append(request, in: &transaction, now: now, projections: projections))
                    case .delete(let stream, let mode, let expected):
                        .deleted(try writer.delete(stream, mode: mode, expected: expected, in: &transaction, now: now))
                    case .erase(let subject, let actor):
                        .erased(try writer.eraseSubject(subject, actor: actor, in: &transaction, now: now, projections: projections))
                    }
                    try transaction.flush()
                    return outcome
                }
                do {
                    if savepoints {
                        var outcome: WriteOutcome?
                        try db.inSavepoint {
                            outcome = try apply()
                            return .commit
                        }
                        outcomes.append(.success(outcome!))
                    } else {
                        outcomes.append(.success(try apply()))
                    }
                } catch let error as ChronicleError {
                    if !savepoints && transaction.didWrite { throw NeedsSavepoints() }
                    writer = saved
                    outcomes.append(.failure(error))
                }
                // A rule's erase is an append that deletes streams.
                if transaction.wroteDeletion { deletionsExist = true }
            }
            return .commit
        }
        return outcomes
    }

    static func lastEvent(_ db: Database) throws -> (position: Int64, hash: EventHash, recordedAt: Int64)? {
        let statement = try db.cachedStatement(sql: "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1")
        guard let row = try Row.fetchOne(statement) else { return nil }
        return (row[0], EventHash(bytes: [UInt8](row[1] as Data)) ?? .zero, row[2])
    }

    // MARK: Reading

    /// Reads a stream; see ``EventStore/read(_:from:direction:limit:)``.
    public func read(_ stream: StreamName, from start: ReadStart, direction: ReadDirection, limit: Int) async throws -> [RecordedEvent] {
        try await reading("read \(stream)") { db in
            let info = try StreamReadCheck.readable(try SQLiteWriteTransaction.streamInfo(db, stream), stream: stream)
            guard limit > 0, let last = info.revision else { return [] }
            let from: Int64 = switch (start, direction) {
            case (.start, .forwards): 0
            case (.start, .backwards), (.end, _): last
            case (.revision(let revision), _): revision
            }
            let sql = direction == .forwards
                ? "SELECT \(SQLiteEventRow.columns) FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC LIMIT ?"
                : "SELECT \(SQLiteEventRow.columns) FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?"
            return try SQLiteEventRow.fetchAll(db, sql: sql, arguments: [stream.rawValue, from, limit], revealingWith: self.personalData)
        }
    }

    /// Reads the global log; see ``EventStore/readLog(after:limit:filter:)``.
    /// The events matching a DCB query, from the tag index; see ``EventStore/read(query:after:limit:)``.
    public func read(query: DCBQuery, after position: Int64, limit: Int) async throws -> DCBQueryPage {
        try await reading("read by query") { db in
            let head = try Self.lastEvent(db)?.position ?? 0
            guard limit > 0, head > position else { return DCBQueryPage(events: [], head: max(head, position)) }
            if SQLiteTagWalk.serves(query) {
                let leading = try SQLiteEventRow.leadingTags(db, query, after: position, through: head)
                let positions = try SQLiteTagWalk.positions(db, query, after: position, through: head, limit: limit, leading: leading)
                let events = try self.personalData.reveal(SQLiteTagWalk.events(db, at: positions)) { ids in try SQLiteSubjectKeys.rows(db, ids: ids) }
                return DCBQueryPage(events: events, head: positions.count < limit ? head : positions[positions.count - 1])
            }
            let (positions, values) = try SQLiteEventRow.positions(db, query, after: position, through: head, limit: limit)
            // The events joined to the positions (in order) rather than `position IN (…) ORDER
            // BY position`, whose list SQLite builds and sorts again: about 1.2× the rows per
            // second of a two-tag query's pages. SQL promises no order without an ORDER BY
            // (which here sorts whole rows in a temporary B-tree), so the order is checked.
            var events = try SQLiteEventRow.fetchAll(db, sql: "SELECT \(SQLiteEventRow.columnsOfE) FROM (\(positions)) AS q CROSS JOIN events e ON e.position = q.position", arguments: SQLiteEventRow.arguments(values), revealingWith: self.personalData)
            if events.indices.dropFirst().contains(where: { events[$0 - 1].position > events[$0].position }) { events.sort { $0.position < $1.position } }
            return DCBQueryPage(events: events, head: events.count < limit ? head : events[events.count - 1].position)
        }
    }

    public func readLog(after position: Int64, limit: Int, filter: LogFilter) async throws -> LogPage {
        try await reading("read the log") { db in
            let head = try Self.lastEvent(db)?.position ?? 0
            guard limit > 0, head > position else { return LogPage(events: [], scannedThrough: position) }
            var conditions = ["position > ?", "position <= ?"]
            var arguments: StatementArguments = [position, head]
            if !filter.types.isEmpty {
                conditions.append("type IN (\(Array(repeating: "?", count: filter.types.count).joined(separator: ",")))")
                arguments += StatementArguments(filter.types.sorted())
            }
            if !filter.categories.isEmpty {
                conditions.append("category IN (\(Array(repeating: "?", count: filter.categories.count).joined(separator: ",")))")
                arguments += StatementArguments(filter.categories.sorted())
            }
            if let correlation = filter.correlation {
                conditions.append("json_extract(metadata, '$.correlationId') = ?")
                arguments += [correlation]
            }
            arguments += [limit]
            let sql = "SELECT \(SQLiteEventRow.columns) FROM events WHERE \(conditions.joined(separator: " AND ")) ORDER BY position ASC LIMIT ?"
            let events = try SQLiteEventRow.fetchAll(db, sql: sql, arguments: arguments, revealingWith: self.personalData)
            let scanned = events.count < limit ? head : events[events.count - 1].position
            return LogPage(events: events, scannedThrough: scanned)
        }
    }

    /// The state of a stream; see ``EventStore/info(_:)``.
    public func info(_ stream: StreamName) async throws -> StreamInfo? {
        try await reading("read \(stream)") { db in try SQLiteWriteTransaction.streamInfo(db, stream) }
    }

    /// The last position; see ``EventStore/headPosition()``.
    public func headPosition() async throws -> Int64 {
        let head = try await reading("read the head position") { db in try Self.lastEvent(db)?.position ?? 0 }
        notifier.advance(to: head)
        return head
    }

    /// Waits for a commit, from this process or another; see ``EventStore/waitForEvents(after:)``.
    ///
    /// Waiters share one poll of the head (every `externalCommitPollInterval`), so an idle
    /// subscriber costs no query of its own.
    public func waitForEvents(after position: Int64) async throws {
        try await notifier.wait(after: position, polling: configuration.externalCommitPollInterval) { try await self.headPosition() }
    }

    /// Checks the hash chain; see ``EventStore/verify()``.
    public func verify() async throws -> VerificationReport {
        try await reading("verify") { db in
            let head = try Self.lastEvent(db)?.position ?? 0
            var verifier = HashChainVerifier()
            let purged = try Row.fetchCursor(db, sql: "SELECT position, hash FROM purged_events ORDER BY position")
            var nextPurged = try purged.next().map { (position: $0[0] as Int64, hash: EventHash(bytes: [UInt8]($0[1] as Data)) ?? .zero) }
            let statement = try db.makeStatement(sql: "SELECT \(SQLiteEventRow.columns) FROM events ORDER BY position")
            let events = try Row.fetchCursor(statement)
            while try events.next() != nil, !verifier.isBroken {
                let event = try SQLiteEventRow.decode(statement.sqliteStatement)
                while let skipped = nextPurged, skipped.position < event.position {
                    verifier.skipPurged(position: skipped.position, hash: skipped.hash)
                    nextPurged = try purged.next().map { ($0[0], EventHash(bytes: [UInt8]($0[1] as Data)) ?? .zero) }
                }
                verifier.check(event)
            }
            while let skipped = nextPurged, !verifier.isBroken {
                verifier.skipPurged(position: skipped.position, hash: skipped.hash)
                nextPurged = try purged.next().map { ($0[0], EventHash(bytes: [UInt8]($0[1] as Data)) ?? .zero) }
            }
            return verifier.report(headPosition: head)
        }
    }

    func reading<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storageError(error, doing: what)
        }
    }

    /// Maps SQLite errors to ``ChronicleError``s that say what to do.
    static func storageError(_ error: any Error, doing what: String) -> ChronicleError {
        if let error = error as? ChronicleError { return error }
        guard let database = error as? DatabaseError else {
            return ChronicleError(.storageFailure, "Could not \(what): \(error)", cause: error)
        }
        switch database.resultCode {
        case .SQLITE_FULL:
            return ChronicleError(.storageFull, "The disk is full, or the store reached its configured maximum size, so nothing was written (\(what)). Free space or raise the limit; everything stored before is intact.", cause: database)
        case .SQLITE_NOTADB:
            return ChronicleError(.incompatibleStorage, "Could not \(what): the file is not a SQLite database, so not a Chronicle data file. Point --data at a Chronicle data directory or an empty one.", cause: database)
        case .SQLITE_CORRUPT:
            return ChronicleError(.storageFailure, "Could not \(what): the database file is corrupted (\(database.message ?? "")). Restore it from a backup.", cause: database)
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN, .SQLITE_AUTH:
            return ChronicleError(.storageFailure, "Could not \(what): the data file or its directory is not writable or cannot be opened (\(database.message ?? "\(database.resultCode)")). Check the path and its permissions.", cause: database)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return ChronicleError(.storageFailure, "Could not \(what): the database is locked by another process for longer than the busy timeout. Retry, or stop the other writer.", cause: database)
        default:
            return ChronicleError(.storageFailure, "Could not \(what): SQLite error \(database.resultCode) \(database.message ?? ""). ", cause: database)
        }
    }
}
