import ChronicleCore
import Foundation
import GRDB
import Logging

extension SQLiteEventStore {
    /// Rebuilds the documents if the projection is new or its definition changed.
    static func ensureCurrent(_ projection: any Projection, in pool: DatabasePool, logger: Logger) throws {
        let stored = try pool.read { db in
            try String.fetchOne(db, sql: "SELECT definition_hash FROM projections WHERE name = ?", arguments: [projection.name])
        }
        guard stored != projection.definitionHash else { return }
        logger.notice("Rebuilding documents", metadata: ["chronicle.projection": "\(projection.name)", "chronicle.reason": "\(stored == nil ? "new projection" : "definition changed")"])
        do {
            let count = try pool.write { db in try rebuild(projection, in: db) }
            logger.notice("Rebuilt documents", metadata: ["chronicle.projection": "\(projection.name)", "chronicle.events": "\(count)"])
        } catch {
            throw storageError(error, doing: "rebuild the documents of projection \(projection.name)")
        }
    }

    /// Replays the whole log into fresh documents, in one transaction: readers keep seeing the
    /// old documents until it commits. Returns the number of events replayed.
    static func rebuild(_ projection: any Projection, in db: Database) throws -> Int {
        var documents = DocumentSet()
        var replayed = 0
        let statement = try db.makeStatement(sql: "SELECT \(SQLiteEventRow.columns) FROM events ORDER BY position")
        let cursor = try Row.fetchCursor(statement)
        var names = SQLiteEventRow.RepeatedNames()
        while try cursor.next() != nil {
            let event = try SQLiteEventRow.decode(statement.sqliteStatement, names: &names)
            replayed += 1
            try documents.apply(event, projection)
        }
        try db.execute(sql: "DELETE FROM documents")
        try db.execute(sql: "DELETE FROM snapshots")
        for document in documents.all {
            try SQLiteDocuments.write(db, document)
        }
        try recordDefinition(projection, in: db)
        return replayed
    }

    /// Rebuilds the inline projection's documents from the events alone, without stopping
    /// appends or reads for long; see ``DocumentStore/rebuildDocuments(progress:)``.
    ///
    /// The log up to the current head is folded from a reader, and the documents are written
    /// to a fresh table in short transactions while appends go on (updating the old
    /// documents inline). One last short transaction applies the events appended meanwhile and
    /// swaps the tables. Readers see the old documents until that swap. If the process dies
    /// midway, the old documents keep serving, and the half-built table is dropped on open.
    @discardableResult
    public func rebuildDocuments(progress: @Sendable (_ done: Int64, _ total: Int64) -> Void) async throws -> Int {
        try Self.refuseLive(configuration.lifecycle, "rebuild documents")
        guard let projection = configuration.projection else {
            throw ChronicleError(.invalidInput, "This store has no projection to rebuild; open it with one (Configuration.projection).")
        }
        let shadow = SQLiteDocuments.shadowTable
        do {
            try await pool.write { db in
                try db.execute(sql: "DROP TABLE IF EXISTS \(shadow)")
                // The same definition as the live table, whatever migrations made it.
                guard let definition = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'documents'"),
                      let name = definition.range(of: "documents") else {
                    throw ChronicleError(.storageFailure, "The documents table is missing; the data file is damaged.")
                }
                try db.execute(sql: definition.replacingCharacters(in: name, with: shadow))
            }
            let target = try await headPosition()
            var documents = DocumentSet()
            var position: Int64 = 0
            var replayed = 0
            while position < target {
                let after = position
                let page = try await pool.read { db in
                    try SQLiteEventRow.fetchAll(db, sql: "SELECT \(SQLiteEventRow.columns) FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT 10000", arguments: [after, target])
                }
                guard let last = page.last else { break }
                for event in page { try documents.apply(event, projection) }
                replayed += page.count
                position = last.position
                progress(position, target)
            }
            let all = documents.all
            for start in stride(from: 0, to: all.count, by: 5000) {
                let chunk = Array(all[start..<min(all.count, start + 5000)])
                try await pool.write { db in
                    for document in chunk { try SQLiteDocuments.write(db, document, table: shadow) }
                }
            }
            let settled = documents
            replayed += try await pool.write { db -> Int in
                // Catch up with the events appended since, then swap, in one short transaction.
                var documents = settled
                var touched: [(entity: String, id: String)] = []
                let late = try SQLiteEventRow.fetchAll(db, sql: "SELECT \(SQLiteEventRow.columns) FROM events WHERE position > ? ORDER BY position", arguments: [target])
                for event in late {
                    if let key = projection.entity(of: event) { touched.append(key) }
                    try documents.apply(event, projection)
                }
                for (entity, id) in touched {
                    if let document = documents.documents[entity]?[id] {
                        try SQLiteDocuments.write(db, document, table: shadow)
                    } else {
                        try SQLiteDocuments.delete(db, entity: entity, id: id, table: shadow)
                    }
                }
                try db.execute(sql: "DELETE FROM snapshots")
                try db.execute(sql: "DROP TABLE documents")
                try db.execute(sql: "ALTER TABLE \(shadow) RENAME TO documents")
                try Self.recordDefinition(projection, in: db)
                return late.count
            }
            progress(target, target)
            return replayed
        } catch {
            throw Self.storageError(error, doing: "rebuild the documents")
        }
    }

    static func recordDefinition(_ projection: any Projection, in db: Database) throws {
        let head = try lastEvent(db)?.position ?? 0
        try db.execute(sql: """
            INSERT INTO projections (name, definition_hash, position) VALUES (?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET definition_hash = excluded.definition_hash, position = excluded.position
            """, arguments: [projection.name, projection.definitionHash, head])
    }

    // MARK: Reading documents

    /// The document of an entity kept by the inline projection; see ``DocumentStore/document(entity:id:)``.
    public func document(entity: String, id: String) async throws -> Document? {
        if configuration.lifecycle == .live, let projection = configuration.projection {
            guard let stream = projection.stream(entity: entity, id: id) else { return nil }
            return try await reading("fold \(entity)/\(id)") { db in
                let events = try SQLiteEventRow.fetchAll(db, sql: "SELECT \(SQLiteEventRow.columns) FROM events WHERE stream = ? ORDER BY revision", arguments: [stream.rawValue])
                return try projection.liveDocument(events: events, status: try SQLiteWriteTransaction.streamInfo(db, stream)?.status)
            }
        }
        return try await reading("read document \(entity)/\(id)") { db in try SQLiteDocuments.read(db, entity: entity, id: id) }
    }

    /// The position the documents are current to; see ``DocumentStore/documentsPosition()``.
    public func documentsPosition() async throws -> Int64 {
        configuration.lifecycle == .async ? try await projectionCheckpoint() : try await headPosition()
    }

    static func refuseLive(_ lifecycle: ProjectionLifecycle, _ what: String) throws {
        if lifecycle == .live {
            throw ChronicleError(.invalidInput, "A live projection keeps no documents, so it cannot \(what); use the inline or async lifecycle for that.")
        }
    }

    /// The asynchronous projection's checkpoint; see ``AsyncProjectionStore/projectionCheckpoint()``.
    public func projectionCheckpoint() async throws -> Int64 {
        guard let projection = configuration.projection else { return 0 }
        return try await reading("read the projection checkpoint") { db in
            try Int64.fetchOne(db, sql: "SELECT position FROM projections WHERE name = ?", arguments: [projection.name]) ?? 0
        }
    }

    /// Applies a page of events and moves the checkpoint, in one transaction; see
    /// ``AsyncProjectionStore/applyProjection(_:after:through:)``.
    public func applyProjection(_ events: [RecordedEvent], after checkpoint: Int64, through: Int64) async throws -> Int64 {
        guard let projection = configuration.projection, configuration.lifecycle == .async else {
            throw ChronicleError(.invalidInput, "This store has no asynchronous projection; open it with one (Configuration.projection, lifecycle .async).")
        }
        let snapshotInterval = configuration.snapshotInterval
        do {
            return try await pool.write { db -> Int64 in
                let stored = try Int64.fetchOne(db, sql: "SELECT position FROM projections WHERE name = ?", arguments: [projection.name]) ?? 0
                guard stored == checkpoint, through > checkpoint else { return stored }
                var documents = SQLiteDocumentWriter(db: db)
                for event in events where event.position > checkpoint && event.position <= through {
                    try projection.apply(event, to: &documents, snapshotInterval: snapshotInterval)
                }
                try db.execute(sql: "UPDATE projections SET position = ? WHERE name = ?", arguments: [through, projection.name])
                return through
            }
        } catch {
            throw Self.storageError(error, doing: "apply the projection")
        }
    }

    /// The latest snapshot at or before a point; see ``DocumentStore/snapshot(entity:id:before:)``.
    public func snapshot(entity: String, id: String, before point: EntityTimeline.Point) async throws -> Document? {
        try await reading("read a snapshot of \(entity)/\(id)") { db in try SQLiteDocuments.snapshot(db, entity: entity, id: id, before: point) }
    }

    /// A page of documents; see ``DocumentStore/documents(_:)``.
    public func documents(_ query: DocumentQuery) async throws -> DocumentPage {
        try Self.refuseLive(configuration.lifecycle, "list documents")
        return try await reading("list \(query.entity) documents") { db in try SQLiteDocuments.page(db, query) }
    }
}
