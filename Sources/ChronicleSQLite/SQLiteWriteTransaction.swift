import ChronicleCore
import Foundation
import GRDB
import GRDBSQLite

/// The ``EventStoreTransaction`` of the SQLite store: reuses prepared statements.
///
/// A live stream's revision is read from the `events_by_stream` index; only deleted streams
/// have a row (in `stream_deletions`), so an append writes no per-stream row: that saves a
/// page write per stream per commit, which is most of the I/O of small appends.
struct SQLiteWriteTransaction: EventStoreTransaction {
    let db: Database
    /// Whether `stream_deletions` may have rows (when it has none, reviving is never needed).
    let deletionsExist: Bool
    private var pendingStreams: [StreamName: StreamInfo] = [:]
    private var lastCategory: (stream: StreamName, category: String)?
    /// Whether anything was written (so a failure needs a rollback).
    private(set) var didWrite = false

    /// The inline projections, applied to each event as it is inserted.
    let inline: [any Projection]
    /// Every how many versions of an entity its document is also kept as a snapshot.
    let snapshotInterval: Int
    /// The documents this operation read or wrote, shared by its rules and its projections.
    private let documentCache = SQLiteDocumentCache()

    /// A transaction that applies the inline ones of `projections` to each event it inserts.
    init(db: Database, deletionsExist: Bool, projections: [ProjectionRegistration], snapshotInterval: Int = 0) {
        self.db = db
        self.deletionsExist = deletionsExist
        self.inline = ProjectionRegistration.inline(projections)
        self.snapshotInterval = snapshotInterval
    }

    static func deletionsExist(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM stream_deletions)")) ?? true
    }

    /// A stream's state: its deletion row if it has one (looked for only if `deletionsExist`),
    /// else its last revision. Bound and stepped through SQLite's C API: the writer runs it
    /// for every stream an append writes (GRDB's rows and arguments cost 8 % of its time).
    static func streamInfo(_ db: Database, _ name: StreamName, deletionsExist: Bool = true) throws -> StreamInfo? {
        if deletionsExist {
            let deletion = try db.cachedStatement(sql: "SELECT revision, status FROM stream_deletions WHERE name = ?").sqliteStatement
            if let (revision, status) = try firstRow(db, deletion, name) {
                return StreamInfo(stream: name, revision: revision, status: status == 2 ? .tombstoned : .softDeleted)
            }
        }
        let last = try db.cachedStatement(sql: "SELECT revision, 0 FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1").sqliteStatement
        guard let (revision, _) = try firstRow(db, last, name) else { return nil }
        return StreamInfo(stream: name, revision: revision, status: .active)
    }

    /// The first two integer columns of `statement`'s first row with `name` bound to `?1`.
    private static func firstRow(_ db: Database, _ statement: SQLiteStatement, _ name: StreamName) throws -> (Int64, Int64)? {
        sqlite3_reset(statement)
        defer { sqlite3_reset(statement) }
        SQLiteEventRow.bindText(statement, 1, name.rawValue)
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return (sqlite3_column_int64(statement, 0), sqlite3_column_int64(statement, 1))
        case SQLITE_DONE: return nil
        case let code: throw SQLiteEventRow.error(db, code)
        }
    }

    /// Whether the transaction deleted a stream (a later one of the batch must then look
    /// for deletion rows, even if the store had none when the batch began).
    var wroteDeletion: Bool { pendingStreams.values.contains { $0.status != .active } }

    func stream(_ name: StreamName) throws -> StreamInfo? {
        if let pending = pendingStreams[name] { return pending }
        return try Self.streamInfo(db, name, deletionsExist: deletionsExist)
    }

    func documents(of projection: String) -> any DocumentLookup {
        SQLiteDocumentWriter(db: db, projection: projection, cache: documentCache)
    }

    func firstMatch(_ query: DCBQuery, after position: Int64) throws -> Int64? {
        let (sql, values) = try SQLiteEventRow.positions(db, query, after: position, through: nil, limit: 1)
        return try SQLiteEventRow.firstInteger(db, sql, values)
    }

    func event(id: UUID) throws -> RecordedEvent? {
        try SQLiteEventRow.fetchOne(db, sql: "SELECT \(SQLiteEventRow.columns) FROM events WHERE id = ?", arguments: [SQLiteEventRow.blob(id)])
    }

    mutating func insert(_ event: RecordedEvent, stream: StreamInfo, revealed: RecordedEvent?) throws {
        // Bound straight through SQLite's C API: this runs once per event on the writer.
        let statement = try db.cachedStatement(sql: """
            INSERT INTO events (position, id, stream, revision, type, category, recorded_at, data, metadata, hash, tags)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).sqliteStatement
        if lastCategory?.stream != event.stream {
            lastCategory = (event.stream, event.stream.category)
        }
        sqlite3_reset(statement)
        sqlite3_bind_int64(statement, 1, event.position)
        withUnsafeBytes(of: event.id.uuid) { _ = sqlite3_bind_blob(statement, 2, $0.baseAddress, 16, sqliteTransient) }
        SQLiteEventRow.bindText(statement, 3, event.stream.rawValue)
        sqlite3_bind_int64(statement, 4, event.revision)
        SQLiteEventRow.bindText(statement, 5, event.type)
        SQLiteEventRow.bindText(statement, 6, lastCategory!.category)
        sqlite3_bind_int64(statement, 7, event.recordedAtMicroseconds)
        SQLiteEventRow.bindText(statement, 8, event.dataJSON)
        SQLiteEventRow.bindText(statement, 9, event.metadataJSON)
        event.hash.withUnsafeBytes { _ = sqlite3_bind_blob(statement, 10, $0.baseAddress, Int32($0.count), sqliteTransient) }
        SQLiteEventRow.bindText(statement, 11, StoredTags.encode(event.tags))
        let code = sqlite3_step(statement)
        sqlite3_reset(statement)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            if sqlite3_extended_errcode(db.sqliteConnection) == 2067 /* SQLITE_CONSTRAINT_UNIQUE */ && message.contains("events.id") {
                throw ChronicleError(.idempotencyConflict, "Event id \(event.id) is already stored. Use a new id for a new event, or retry exactly the original append.", stream: event.stream)
            }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        didWrite = true
        pendingStreams[stream.stream] = stream
        if !event.tags.isEmpty {
            let tags = try db.cachedStatement(sql: "INSERT INTO event_tags (tag, position) VALUES (?, ?)").sqliteStatement
            for tag in event.tags {
                sqlite3_reset(tags)
                SQLiteEventRow.bindText(tags, 1, tag)
                sqlite3_bind_int64(tags, 2, event.position)
                let code = sqlite3_step(tags)
                sqlite3_reset(tags)
                guard code == SQLITE_DONE else { throw SQLiteEventRow.error(db, code) }
            }
        }
        for projection in inline {
            var documents = SQLiteDocumentWriter(db: db, projection: projection.name, cache: documentCache)
            try projection.apply(revealed ?? event, to: &documents, snapshotInterval: snapshotInterval)
        }
    }

    mutating func saveSubjectKey(_ key: StoredSubjectKey) throws {
        didWrite = true
        try SQLiteSubjectKeys.save(db, key)
    }

    mutating func save(_ stream: StreamInfo) throws {
        didWrite = true
        pendingStreams[stream.stream] = stream
    }

    mutating func purge(_ stream: StreamName) throws {
        didWrite = true
        try flush()
        try db.execute(sql: "INSERT INTO purged_events (position, hash) SELECT position, hash FROM events WHERE stream = ?", arguments: [stream.rawValue])
        try db.execute(sql: "DELETE FROM event_tags WHERE position IN (SELECT position FROM events WHERE stream = ? AND tags <> '')", arguments: [stream.rawValue])
        try db.execute(sql: "DELETE FROM events WHERE stream = ?", arguments: [stream.rawValue])
    }

    /// Writes the operation's documents and their versions, records deletions, and forgets
    /// them for streams written again.
    mutating func flush() throws {
        try documentCache.flush(db)
        guard !pendingStreams.isEmpty else { return }
        for info in pendingStreams.values {
            switch info.status {
            case .active:
                if deletionsExist {
                    try db.cachedStatement(sql: "DELETE FROM stream_deletions WHERE name = ?").execute(arguments: [info.stream.rawValue])
                }
            case .softDeleted, .tombstoned:
                try db.cachedStatement(sql: """
                    INSERT INTO stream_deletions (name, revision, status) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET revision = excluded.revision, status = excluded.status
                    """).execute(arguments: [info.stream.rawValue, info.revision, info.status == .tombstoned ? 2 : 1])
            }
        }
        pendingStreams.removeAll(keepingCapacity: true)
    }
}

/// SQLite's `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the call returns.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// Decoding of `events` rows, straight from SQLite's column accessors: reading is the hot
/// path of subscriptions and rebuilds, so it avoids intermediate `Data` and `Row` values.
enum SQLiteEventRow {
    static let columns = "position, id, stream, revision, type, recorded_at, data, metadata, hash, tags"
    /// ``columns`` of the `events` table named `e`.
    static let columnsOfE = columns.split(separator: ", ").map { "e.\($0)" }.joined(separator: ", ")

    /// The SQL (``DCBQuerySQL``, with `?n` placeholders, built once per query shape) and
    /// values of the positions of the events matching `query` in `(after, through]`, each
    /// item led by its rarest tag (``DCBLeadingTags``).
    static func positions(_ db: Database, _ query: DCBQuery, after: Int64, through: Int64?, limit: Int) throws -> (String, [DCBQuerySQL.Value]) {
        let sql = DCBQuerySQL.sql(DCBQuerySQL.Shape(query, bounded: through != nil), prefix: "?")
        let leading = try leadingTags(db, query, after: after, through: through)
        return (sql, DCBQuerySQL.values(query, after: after, through: through, limit: limit, leading: leading))
    }

    /// The tag that leads each item of `query` in `(after, through]` (``DCBLeadingTags``).
    static func leadingTags(_ db: Database, _ query: DCBQuery, after: Int64, through: Int64?) throws -> [String?] {
        try DCBLeadingTags.choose(query) { tag in
            try firstInteger(db, reachSQL, [.text(tag), .integer(after), .integer(through ?? Int64.max)])
        }
    }

    /// The position of a tag's ``DCBLeadingTags/sample``-th entry in `(?2, ?3]`.
    private static let reachSQL = "SELECT position FROM event_tags WHERE tag = ?1 AND position > ?2 AND position <= ?3 ORDER BY position LIMIT 1 OFFSET \(DCBLeadingTags.sample - 1)"

    /// Binds `text` to parameter `index` of `statement` through SQLite's C API.
    static func bindText(_ statement: SQLiteStatement, _ index: Int32, _ text: String) {
        var text = text
        text.withUTF8 { _ = sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
    }

    /// `values` as GRDB arguments.
    static func arguments(_ values: [DCBQuerySQL.Value]) -> StatementArguments {
        var arguments = StatementArguments()
        for value in values {
            switch value {
            case .text(let text): arguments += [text]
            case .integer(let number): arguments += [number]
            }
        }
        return arguments
    }

    /// The first column of the first row of `sql` (cached) with `values` bound to `?1`, `?2`…,
    /// or `nil` without a row. Bound straight through SQLite's C API, as it runs on the
    /// writer for each condition: GRDB's arguments cost more than the probe.
    static func firstInteger(_ db: Database, _ sql: String, _ values: [DCBQuerySQL.Value]) throws -> Int64? {
        let statement = try db.cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(statement)
        defer { sqlite3_reset(statement) }
        for (index, value) in values.enumerated() {
            switch value {
            case .integer(let number):
                sqlite3_bind_int64(statement, Int32(index + 1), number)
            case .text(let text):
                bindText(statement, Int32(index + 1), text)
            }
        }
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return sqlite3_column_int64(statement, 0)
        case SQLITE_DONE: return nil
        case let code: throw error(db, code)
        }
    }

    /// The error of a statement stepped through SQLite's C API that answered `code`.
    static func error(_ db: Database, _ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }

    /// Decodes the row the statement is on. `names` reuses the stream and type strings of
    /// the previous row when they repeat, which they mostly do in a page of events.
    static func decode(_ statement: SQLiteStatement, names: inout RepeatedNames) throws -> RecordedEvent {
        let position = sqlite3_column_int64(statement, 0)
        guard sqlite3_column_bytes(statement, 1) == 16, let idBytes = sqlite3_column_blob(statement, 1) else {
            throw ChronicleError(.storageFailure, "The event at position \(position) has a malformed id; the data file is damaged. Restore it from a backup.")
        }
        let id = UUID(uuid: UnsafeRawPointer(idBytes).loadUnaligned(as: uuid_t.self))
        let hashCount = Int(sqlite3_column_bytes(statement, 8))
        guard let hashBytes = sqlite3_column_blob(statement, 8), let hash = EventHash(bytes: UnsafeRawBufferPointer(start: hashBytes, count: hashCount)) else {
            throw ChronicleError(.storageFailure, "The event at position \(position) has a malformed hash; the data file is damaged. Restore it from a backup.")
        }
        return RecordedEvent(
            id: id, stream: StreamName(stored: names.stream(statement, 2)), type: names.type(statement, 4),
            revision: sqlite3_column_int64(statement, 3), position: position,
            recordedAtMicroseconds: sqlite3_column_int64(statement, 5),
            dataJSON: text(statement, 6), metadataJSON: text(statement, 7), hash: hash,
            tags: tags(statement, 9)
        )
    }

    static func decode(_ statement: SQLiteStatement) throws -> RecordedEvent {
        var names = RepeatedNames()
        return try decode(statement, names: &names)
    }

    /// The last stream name and type read, reused when the next row has the same bytes.
    struct RepeatedNames {
        private var lastStream = ""
        private var lastType = ""

        mutating func stream(_ statement: SQLiteStatement, _ column: Int32) -> String {
            reuse(&lastStream, statement, column)
        }

        mutating func type(_ statement: SQLiteStatement, _ column: Int32) -> String {
            reuse(&lastType, statement, column)
        }

        private func reuse(_ last: inout String, _ statement: SQLiteStatement, _ column: Int32) -> String {
            guard let pointer = sqlite3_column_text(statement, column) else { return "" }
            let count = Int(sqlite3_column_bytes(statement, column))
            // memcmp: the generic `elementsEqual` was 7 % of a query page's time in Swift.
            let same = last.utf8.count == count && last.withUTF8 { count == 0 || memcmp($0.baseAddress!, pointer, count) == 0 }
            if !same {
                last = String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
            }
            return last
        }
    }

    /// The tags of the stored, space-separated list, split on its bytes.
    private static func tags(_ statement: SQLiteStatement, _ column: Int32) -> [String] {
        guard let pointer = sqlite3_column_text(statement, column) else { return [] }
        return StoredTags.decode(UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, column))))
    }

    private static func text(_ statement: SQLiteStatement, _ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments) throws -> [RecordedEvent] {
        let statement = try db.cachedStatement(sql: sql)
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        var events: [RecordedEvent] = []
        var names = RepeatedNames()
        while try cursor.next() != nil {
            events.append(try decode(statement.sqliteStatement, names: &names))
        }
        return events
    }

    static func fetchOne(_ db: Database, sql: String, arguments: StatementArguments) throws -> RecordedEvent? {
        let statement = try db.cachedStatement(sql: sql)
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        return try cursor.next() == nil ? nil : decode(statement.sqliteStatement)
    }

    static func blob(_ id: UUID) -> Data {
        withUnsafeBytes(of: id.uuid) { Data($0) }
    }
}
