import ChronicleCore
import Foundation
import Logging
import PostgresNIO

extension NeedsData {
    /// Adds the subjects whose keys an append's personal fields will need (read in one go
    /// with the rest of the batch).
    mutating func prefetchSubjects(of request: PreparedAppend, projections: [ProjectionRegistration]) {
        let declaring = projections.filter { $0.projection.declaresPersonalData }
        guard !declaring.isEmpty else { return }
        for part in request.streams {
            for event in part.events where declaring.contains(where: { $0.projection.declaresPersonalFields(type: event.type) }) {
                if let ahead = request.subjectsSealedAhead(event.id) {
                    subjects.formUnion(ahead)
                    continue
                }
                for registration in declaring {
                    for field in (try? registration.projection.personalFields(type: event.type, stream: part.stream, data: try JSONValue(parsing: event.data))) ?? [] {
                        subjects.insert(field.subject)
                    }
                }
            }
        }
    }
}

extension PostgresEventStore {
    private static let keyColumns = "subject, key_id, wrapped, receipt"

    private static func decodeKey(_ row: PostgresRow) throws -> StoredSubjectKey {
        let (subject, id, wrapped, receipt) = try row.decode((String, UUID, ByteBuffer?, UUID?).self)
        return StoredSubjectKey(subject: subject, id: id, wrapped: wrapped.map { Data($0.readableBytesView) }, receipt: receipt)
    }

    private static func keys(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> [StoredSubjectKey] {
        var rows: [StoredSubjectKey] = []
        for try await row in try await connection.run(query, logger: logger) { rows.append(try decodeKey(row)) }
        return rows
    }

    static func sampleSubjectKey(on connection: PostgresConnection, logger: Logger) async throws -> StoredSubjectKey? {
        try await keys("SELECT \(unescaped: keyColumns) FROM subject_keys WHERE wrapped IS NOT NULL LIMIT 1", on: connection, logger: logger).first
    }

    /// Events as readers get them: sealed values opened, or erased (one query for the keys
    /// of a page that holds sealed values).
    static func revealed(_ events: [RecordedEvent], reader: PersonalDataReader, on connection: PostgresConnection, logger: Logger) async throws -> [RecordedEvent] {
        try await reader.reveal(events) { ids in
            try await keys("SELECT \(unescaped: keyColumns) FROM subject_keys WHERE key_id = ANY(\(Array(ids)))", on: connection, logger: logger)
        }
    }

    /// Reads the key rows and sealed events `need` names into the snapshot.
    static func readPersonal(_ need: NeedsData, into snapshot: inout PostgresSnapshotTransaction, on connection: PostgresConnection, logger: Logger) async throws {
        guard !need.subjects.isEmpty || !need.sealedWith.isEmpty else { return }
        var found: [String: StoredSubjectKey?] = [:]
        if !need.subjects.isEmpty {
            for subject in need.subjects { found[subject] = .some(nil) }
            for key in try await keys("SELECT \(unescaped: keyColumns) FROM subject_keys WHERE subject = ANY(\(Array(need.subjects)))", on: connection, logger: logger) {
                found[key.subject] = key
            }
        }
        var sealed: [UUID: [RecordedEvent]] = [:]
        for id in need.sealedWith {
            var events: [RecordedEvent] = []
            for try await row in try await connection.run("SELECT \(unescaped: eventColumns) FROM events WHERE strpos(data, \(PersonalData.searchText(keyID: id))) > 0 ORDER BY position", logger: logger) {
                let event = try decodeEvent(row)
                if PersonalData.isSealed(event.dataJSON, with: id) { events.append(event) }
            }
            sealed[id] = events
        }
        snapshot.learn(keys: found, sealed: sealed)
    }

    /// Sends the batch's key rows, each in place of the subject's old one.
    static func flushSubjectKeys(_ snapshot: PostgresSnapshotTransaction, on connection: PostgresConnection, logger: Logger) async throws {
        for key in snapshot.pendingKeys.values.sorted(by: { $0.subject < $1.subject }) {
            try await save(key, on: connection, logger: logger)
        }
    }

    private static func save(_ key: StoredSubjectKey, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run("""
            INSERT INTO subject_keys (subject, key_id, wrapped, receipt) VALUES (\(key.subject), \(key.id), \(key.wrapped.map { ByteBuffer(bytes: $0) }), \(key.receipt))
            ON CONFLICT (subject) DO UPDATE SET key_id = excluded.key_id, wrapped = excluded.wrapped, receipt = excluded.receipt
            """, logger: logger)
    }

    /// Destroys a subject's key and appends the receipt; see ``PersonalDataStore/commitErasure(of:actor:)``.
    public func commitErasure(of subject: String, actor: String?) async throws -> SubjectErasure {
        guard case .erased(let erasure) = try await queue.submit(.erase(subject: subject, actor: actor)) else { preconditionFailure() }
        return erasure
    }

    /// Vacuums the tables that held erased or purged data, so that their dead row versions
    /// are reclaimed (`VACUUM` runs outside a transaction, one table at a time). Plain
    /// `VACUUM` makes the space reusable without locking readers out; the bytes of dead rows
    /// may stay in the table's files until reused (`VACUUM FULL` rewrites them, at the cost of
    /// an exclusive lock: run it in a quiet hour if the disk itself must hold no remnant).
    public func scrubRemnants() async throws {
        let logger = self.logger
        try await reading("vacuum the tables that held erased data") { connection in
            for table in ["subject_keys", "documents", "document_snapshots", "document_versions", "document_versions_staging", "events", "event_tags"] {
                try await connection.run(PostgresQuery(unsafeSQL: "VACUUM \(table)"), logger: logger)
            }
        }
    }

    /// The key table; see ``PersonalDataStore/subjectKeyRows()``.
    public func subjectKeyRows() async throws -> [StoredSubjectKey] {
        let logger = self.logger
        return try await reading("read the subject keys") { connection in
            try await Self.keys("SELECT \(unescaped: Self.keyColumns) FROM subject_keys ORDER BY subject", on: connection, logger: logger)
        }
    }

    /// Stores key rows before an import; see ``PersonalDataStore/importSubjectKeys(_:)``.
    public func importSubjectKeys(_ rows: [StoredSubjectKey]) async throws {
        let logger = self.logger, name = configuration.displayName
        try await reading("import the subject keys") { connection in
            try await connection.run("BEGIN", logger: logger)
            do {
                try await connection.run(PostgresQuery(unsafeSQL: Self.writeLock), logger: logger)
                let count = try await connection.run("SELECT count(*) FROM subject_keys", logger: logger).collect().first?.decode(Int64.self) ?? 0
                guard count == 0 else {
                    throw ChronicleError(.invalidInput, "The store at \(name) has personal-data keys already; import keys into a new schema or an empty database.")
                }
                for row in rows { try await Self.save(row, on: connection, logger: logger) }
                try await connection.run("COMMIT", logger: logger)
            } catch {
                if Self.connectionSurvives(error) { _ = try? await connection.run("ROLLBACK", logger: logger) }
                throw error
            }
        }
    }
}
