import ChronicleCore
import Foundation
import GRDB

/// The key table of personal data (`subject_keys`), in SQL.
enum SQLiteSubjectKeys {
    private static let columns = "subject, key_id, wrapped, receipt"

    private static func decode(_ row: Row) -> StoredSubjectKey {
        let receipt = (row[3] as Data?).flatMap(uuid)
        return StoredSubjectKey(subject: row[0], id: uuid(row[1] as Data) ?? UUID(), wrapped: row[2], receipt: receipt)
    }

    private static func uuid(_ data: Data) -> UUID? {
        data.count == 16 ? data.withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) } : nil
    }

    static func row(_ db: Database, subject: String) throws -> StoredSubjectKey? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM subject_keys WHERE subject = ?"), arguments: [subject]).map(decode)
    }

    static func rows(_ db: Database, ids: Set<UUID>) throws -> [StoredSubjectKey] {
        guard !ids.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        return try Row.fetchAll(db, sql: "SELECT \(columns) FROM subject_keys WHERE key_id IN (\(placeholders))", arguments: StatementArguments(ids.map(SQLiteEventRow.blob))).map(decode)
    }

    static func all(_ db: Database) throws -> [StoredSubjectKey] {
        try Row.fetchAll(db, sql: "SELECT \(columns) FROM subject_keys ORDER BY subject").map(decode)
    }

    /// A row with a key, to check the master key against.
    static func sample(_ db: Database) throws -> StoredSubjectKey? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM subject_keys WHERE wrapped IS NOT NULL LIMIT 1").map(decode)
    }

    /// Saves the subject's row in place of its old one (whose bytes `secure_delete` zeroes in
    /// the file, and the scrub after an erasure removes from the write-ahead log).
    static func save(_ db: Database, _ key: StoredSubjectKey) throws {
        try db.cachedStatement(sql: """
            INSERT INTO subject_keys (subject, key_id, wrapped, receipt) VALUES (?, ?, ?, ?)
            ON CONFLICT (subject) DO UPDATE SET key_id = excluded.key_id, wrapped = excluded.wrapped, receipt = excluded.receipt
            """).execute(arguments: [key.subject, SQLiteEventRow.blob(key.id), key.wrapped, key.receipt.map(SQLiteEventRow.blob)])
    }

    /// The stored events with a value sealed by the key (a scan of the log's data for the
    /// key's id: erasures are rare, appends are not, so no index is kept for them).
    static func sealedEvents(_ db: Database, keyID: UUID) throws -> [RecordedEvent] {
        try SQLiteEventRow.fetchAll(db, sql: "SELECT \(SQLiteEventRow.columns) FROM events WHERE instr(data, ?) > 0 ORDER BY position", arguments: [PersonalData.searchText(keyID: keyID)])
            .filter { PersonalData.isSealed($0.dataJSON, with: keyID) }
    }
}

extension SQLiteEventRow {
    /// Decodes rows and opens their sealed values (see ``PersonalDataReader``).
    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments, revealingWith reader: PersonalDataReader) throws -> [RecordedEvent] {
        try reader.reveal(fetchAll(db, sql: sql, arguments: arguments)) { ids in try SQLiteSubjectKeys.rows(db, ids: ids) }
    }
}

extension SQLiteWriteTransaction {
    func subjectKey(for subject: String) throws -> StoredSubjectKey? {
        try SQLiteSubjectKeys.row(db, subject: subject)
    }

    func events(sealedWith keyID: UUID) throws -> [RecordedEvent] {
        try SQLiteSubjectKeys.sealedEvents(db, keyID: keyID)
    }
}

extension SQLiteEventStore {
    /// Destroys a subject's key and appends the receipt; see ``PersonalDataStore/commitErasure(of:actor:)``.
    public func commitErasure(of subject: String, actor: String?) async throws -> SubjectErasure {
        guard case .erased(let erasure) = try await write(.erase(subject: subject, actor: actor)) else { preconditionFailure() }
        return erasure
    }

    /// Checkpoints the write-ahead log into the file and truncates it, so that no page image
    /// from before an erasure or a purge stays in `chronicle.sqlite-wal`; deleted content in
    /// the file itself was zeroed by `secure_delete`. Readers that hold an old snapshot make
    /// SQLite report the checkpoint busy: it is retried until they let go (up to a minute).
    public func scrubRemnants() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let busy = try await pool.writeWithoutTransaction { db -> Bool in
                guard let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") else { return false }
                return (row[0] as Int) != 0
            }
            if !busy { return }
            guard ContinuousClock.now < deadline else {
                throw ChronicleError(.storageFailure, "The write-ahead log of \(path) could not be checkpointed for a minute: a reader holds an old snapshot. Stop long-running readers and erase again (it returns the same receipt and checkpoints again).")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The key table; see ``PersonalDataStore/subjectKeyRows()``.
    public func subjectKeyRows() async throws -> [StoredSubjectKey] {
        try await reading("read the subject keys") { db in try SQLiteSubjectKeys.all(db) }
    }

    /// Stores key rows before an import; see ``PersonalDataStore/importSubjectKeys(_:)``.
    public func importSubjectKeys(_ rows: [StoredSubjectKey]) async throws {
        do {
            try await pool.write { db in
                if try !SQLiteSubjectKeys.all(db).isEmpty {
                    throw ChronicleError(.invalidInput, "The store at \(self.path) has personal-data keys already; import keys into a new data directory.")
                }
                for row in rows { try SQLiteSubjectKeys.save(db, row) }
            }
        } catch {
            throw Self.storageError(error, doing: "import the subject keys")
        }
    }
}
