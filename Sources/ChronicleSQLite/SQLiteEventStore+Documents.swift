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

    /// Replays the whole log into fresh documents of one projection, in one transaction:
    /// readers keep seeing the old documents until it commits. Returns the number of events
    /// replayed.
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
        try db.execute(sql: "DELETE FROM documents WHERE projection = ?", arguments: [projection.name])
        try db.execute(sql: "DELETE FROM snapshots WHERE projection = ?", arguments: [projection.name])
        for document in documents.all {
            try SQLiteDocuments.write(db, document, projection: projection.name)
        }
        try recordDefinition(projection, in: db)
        return replayed
    }

    /// Rebuilds one projection's documents from the events alone, without stopping appends
    /// or reads for long; see ``ProjectionStore/rebuildDocuments(projection:progress:)``.
    ///
    /// The log up to the current head is folded from a reader, and the documents are written
    /// to a fresh table in short transactions while appends go on (updating the old
    /// documents inline). One last transaction applies the events appended meanwhile and
    /// replaces the projection's rows with the fresh ones (a copy inside SQLite, the part
    /// that grows with the number of documents). Readers see the old documents until then.
    /// The other projections are not touched. If the process dies midway, the old documents
    /// keep serving, and the half-built table is dropped on open.
    @discardableResult
    public func rebuildDocuments(projection name: String, progress: @Sendable (_ done: Int64, _ total: Int64) -> Void) async throws -> Int {
        try refuseLive(name, "rebuild documents")
        let projection = try registration(named: name).projection
        let shadow = SQLiteDocuments.shadowTable(name)
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
                    for document in chunk { try SQLiteDocuments.write(db, document, projection: name, table: shadow) }
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
                        try SQLiteDocuments.write(db, document, projection: name, table: shadow)
                    } else {
                        try SQLiteDocuments.delete(db, projection: name, entity: entity, id: id, table: shadow)
                    }
                }
                try db.execute(sql: "DELETE FROM snapshots WHERE projection = ?", arguments: [name])
                try db.execute(sql: "DELETE FROM documents WHERE projection = ?", arguments: [name])
                try db.execute(sql: "INSERT INTO documents SELECT * FROM \(shadow)")
                try db.execute(sql: "DROP TABLE \(shadow)")
                try Self.recordDefinition(projection, in: db)
                return late.count
            }
            progress(target, target)
            return replayed
        } catch {
            throw Self.storageError(error, doing: "rebuild the documents of projection \(name)")
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

    /// An entity's document in a projection; see ``ProjectionStore/document(entity:id:projection:)``.
    public func document(entity: String, id: String, projection name: String) async throws -> Document? {
        let registration = try registration(named: name)
        if registration.lifecycle == .live {
            let projection = registration.projection
            guard let stream = projection.stream(entity: entity, id: id) else { return nil }
            return try await reading("fold \(entity)/\(id)") { db in
                let events = try SQLiteEventRow.fetchAll(db, sql: "SELECT \(SQLiteEventRow.columns) FROM events WHERE stream = ? ORDER BY revision", arguments: [stream.rawValue])
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

    /// A page of a projection's documents; see ``ProjectionStore/documents(_:projection:)``.
    public func documents(_ query: DocumentQuery, projection name: String) async throws -> DocumentPage {
        try refuseLive(name, "list documents")
        return try await reading("list \(query.entity) documents") { db in try SQLiteDocuments.page(db, query, projection: name) }
    }
}
