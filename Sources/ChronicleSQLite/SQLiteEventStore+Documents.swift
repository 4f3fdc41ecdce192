import ChronicleCore
import Foundation
import GRDB
import Logging

extension SQLiteEventStore {
    /// Rebuilds the documents if the projection is new or its definition changed.
    static func ensureCurrent(_ projection: any Projection, in pool: DatabasePool, reader: PersonalDataReader, logger: Logger) throws {
        let stored = try pool.read { db in
            try String.fetchOne(db, sql: "SELECT definition_hash FROM projections WHERE name = ?", arguments: [projection.name])
        }
        guard stored != projection.definitionHash else { return }
        logger.notice("Rebuilding documents", metadata: ["chronicle.projection": "\(projection.name)", "chronicle.reason": "\(stored == nil ? "new projection" : "definition changed")"])
        do {
            let count = try pool.write { db in try rebuild(projection, in: db, reader: reader) }
            logger.notice("Rebuilt documents", metadata: ["chronicle.projection": "\(projection.name)", "chronicle.events": "\(count)"])
        } catch {
            throw storageError(error, doing: "rebuild the documents of projection \(projection.name)")
        }
    }

    /// Replays the whole log into fresh documents of one projection, in one transaction:
    /// readers keep seeing the old documents until it commits. Returns the number of events
    /// replayed.
    static func rebuild(_ projection: any Projection, in db: Database, reader: PersonalDataReader) throws -> Int {
        var documents = DocumentSet(recordingHistory: true)
        var replayed = 0
        try db.execute(sql: "DELETE FROM document_versions WHERE projection = ?", arguments: [projection.name])
        let statement = try db.makeStatement(sql: "SELECT \(SQLiteEventRow.columns) FROM events ORDER BY position")
        let cursor = try Row.fetchCursor(statement)
        var names = SQLiteEventRow.RepeatedNames()
        // Key rows read once per rebuild (its transaction holds them still), not once per event.
        var keys: [UUID: StoredSubjectKey] = [:]
        while try cursor.next() != nil {
            let event = try reader.reveal(SQLiteEventRow.decode(statement.sqliteStatement, names: &names)) { ids in
                let missing = ids.filter { keys[$0] == nil }
                for row in try SQLiteSubjectKeys.rows(db, ids: missing) { keys[row.id] = row }
                return ids.compactMap { keys[$0] }
            }
            replayed += 1
            try documents.apply(event, projection)
            if replayed % 50_000 == 0 {
                try SQLiteDocumentVersions.apply(db, DocumentHistoryPlan(documents.takeHistory()), projection: projection.name)
            }
        }
        try SQLiteDocumentVersions.apply(db, DocumentHistoryPlan(documents.takeHistory()), projection: projection.name)
        try db.execute(sql: "DELETE FROM documents WHERE projection = ?", arguments: [projection.name])
        try db.execute(sql: "DELETE FROM snapshots WHERE projection = ?", arguments: [projection.name])
        for document in documents.all {
            try SQLiteDocuments.write(db, document, projection: projection.name)
        }
        try recordDefinition(projection, in: db)
        return replayed
    }

    /// Rebuilds one projection's documents from the events alone, without stopping appends
    /// or reads for long (``ProjectionRebuild``); see ``ProjectionStore/rebuildDocuments(projection:progress:)``.
    ///
    /// The fresh documents go to a table of their own in short transactions while appends
    /// go on; the swap copies them over the projection's rows inside SQLite (the part of the
    /// last transaction that grows with the number of documents). The other projections are
    /// not touched. If the process dies midway, the old documents keep serving, and the
    /// half-built table is dropped on open.
    @discardableResult
    public func rebuildDocuments(projection name: String, progress: @Sendable (_ done: Int64, _ total: Int64) -> Void) async throws -> Int {
        try refuseLive(name, "rebuild documents")
        let projection = try registration(named: name).projection
        do {
            return try await ProjectionRebuild.run(projection, on: SQLiteRebuild(store: self, projection: projection), progress: progress)
        } catch {
            throw Self.storageError(error, doing: "rebuild the documents of projection \(name)")
        }
    }

    static func recordDefinition(_ projection: any Projection, in db: Database) throws {
        let head = try lastEvent(db)?.position ?? 0
        try db.execute(sql: """
            INSERT INTO projections (name, definition_hash, position, history_from) VALUES (?, ?, ?, 0)
            ON CONFLICT(name) DO UPDATE SET definition_hash = excluded.definition_hash, position = excluded.position, history_from = 0
            """, arguments: [projection.name, projection.definitionHash, head])
    }

    // MARK: Reading documents

    /// An entity's document in a projection; see ``ProjectionStore/document(entity:id:projection:)``.
    public func document(entity: String, id: String, projection name: String) async throws -> Document? {
        let registration = try registration(named: name)
        if registration.lifecycle == .live {
            let projection = registration.projection
            guard let stream = projection.stream(entity: entity, id: id) else { return nil }
            return try await reading("fold \(entity)/\(id)") { db in
                let events = try SQLiteEventRow.fetchAll(db, sql: "SELECT \(SQLiteEventRow.columns) FROM events WHERE stream = ? ORDER BY revision", arguments: [stream.rawValue], revealingWith: self.personalData)
                return try projection.liveDocument(events: events, status: try SQLiteWriteTransaction.streamInfo(db, stream)?.status)
            }
        }
        return try await reading("read document \(entity)/\(id)") { db in try SQLiteDocuments.read(db, projection: name, entity: entity, id: id) }
    }

    /// An asynchronous projection's checkpoint; see ``ProjectionStore/projectionCheckpoint(projection:)``.
    public func projectionCheckpoint(projection name: String) async throws -> Int64 {
        _ = try registration(named: name)
        return try await reading("read the checkpoint of projection \(name)") { db in
            try Int64.fetchOne(db, sql: "SELECT position FROM projections WHERE name = ?", arguments: [name]) ?? 0
        }
    }

    /// Applies a page of events to an asynchronous projection and moves its checkpoint, in one
    /// transaction; see ``ProjectionStore/applyProjection(_:after:through:projection:)``.
    public func applyProjection(_ events: [RecordedEvent], after checkpoint: Int64, through: Int64, projection name: String) async throws -> Int64 {
        let projection = try asyncRegistration(name).projection
        let snapshotInterval = configuration.snapshotInterval
        do {
            return try await pool.write { db -> Int64 in
                let stored = try Int64.fetchOne(db, sql: "SELECT position FROM projections WHERE name = ?", arguments: [name]) ?? 0
                guard stored == checkpoint, through > checkpoint else { return stored }
                var documents = SQLiteDocumentWriter(db: db, projection: name)
                for event in events where event.position > checkpoint && event.position <= through {
                    try projection.apply(event, to: &documents, snapshotInterval: snapshotInterval)
                }
                try db.execute(sql: "UPDATE projections SET position = ? WHERE name = ?", arguments: [through, name])
                return through
            }
        } catch {
            throw Self.storageError(error, doing: "apply projection \(name)")
        }
    }

    /// The latest snapshot at or before a point; see ``ProjectionStore/snapshot(entity:id:before:projection:)``.
    public func snapshot(entity: String, id: String, before point: EntityTimeline.Point, projection name: String) async throws -> Document? {
        try await reading("read a snapshot of \(entity)/\(id)") { db in try SQLiteDocuments.snapshot(db, projection: name, entity: entity, id: id, before: point) }
    }

    /// An entity's document as of a position; see ``ProjectionStore/document(entity:id:projection:asOf:)``.
    public func document(entity: String, id: String, projection name: String, asOf position: Int64) async throws -> Document? {
        let registration = try registration(named: name)
        if registration.lifecycle == .live {
            let projection = registration.projection
            guard let stream = projection.stream(entity: entity, id: id) else { return nil }
            let events = try await reading("fold \(entity)/\(id)") { db in
                // The stream's events and the deletions recorded of it, in log order.
                try SQLiteEventRow.fetchAll(db, sql: """
                    SELECT \(SQLiteEventRow.columns) FROM events WHERE position <= ?
                    AND (stream = ? OR (stream = ? AND json_extract(data, '$.stream') = ?)) ORDER BY position
                    """, arguments: [position, stream.rawValue, StreamName.deletions.rawValue, stream.rawValue], revealingWith: self.personalData)
            }
            return try liveDocument(projection, events: events, asOf: position)
        }
        return try await reading("read document \(entity)/\(id) as of \(position)") { db in
            try SQLiteDocumentVersions.version(db, projection: name, entity: entity, id: id, asOf: position)?.document
        }
    }

    /// A page of a projection's documents as of a position; see ``ProjectionStore/documents(_:projection:asOf:)``.
    public func documents(_ query: DocumentQuery, projection name: String, asOf position: Int64) async throws -> DocumentPage {
        try refuseLive(name, "list documents")
        return try await reading("list \(query.entity) documents as of \(position)") { db in try SQLiteDocuments.page(db, query, projection: name, asOf: position) }
    }

    /// Where the projection's recorded past starts; see ``ProjectionStore/historyStart(projection:)``.
    public func historyStart(projection name: String) async throws -> Int64 {
        _ = try registration(named: name)
        return try await reading("read where the past of projection \(name) starts") { db in
            try Int64.fetchOne(db, sql: "SELECT history_from FROM projections WHERE name = ?", arguments: [name]) ?? 0
        }
    }

    /// The positions an entity's document changed at; see ``ProjectionStore/changePositions(entity:id:projection:after:)``.
    public func changePositions(entity: String, id: String, projection name: String, after position: Int64) async throws -> [Int64] {
        guard try registration(named: name).lifecycle != .live else { return [] }
        return try await reading("list the changes of \(entity)/\(id)") { db in
            try Int64.fetchAll(db, sql: "SELECT valid_from FROM document_versions WHERE projection = ? AND entity = ? AND id = ? AND valid_from > ? ORDER BY valid_from", arguments: [name, entity, id, position])
        }
    }

    /// The entities changed between two positions; see ``ProjectionStore/changedDocuments(projection:from:to:entity:after:limit:)``.
    public func changedDocuments(projection name: String, from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int) async throws -> [ChangedDocument] {
        try refuseLive(name, "list changes")
        return try await reading("list the changes from \(from) to \(to)") { db in
            try SQLiteDocumentVersions.changed(db, projection: name, from: from, to: to, entity: entity, after: cursor, limit: limit)
        }
    }

    /// A page of a projection's documents; see ``ProjectionStore/documents(_:projection:)``.
    public func documents(_ query: DocumentQuery, projection name: String) async throws -> DocumentPage {
        try refuseLive(name, "list documents")
        return try await reading("list \(query.entity) documents") { db in try SQLiteDocuments.page(db, query, projection: name) }
    }
}
