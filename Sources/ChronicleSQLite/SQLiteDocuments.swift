import ChronicleCore
import GRDB

/// The `documents` table: one row per projection and entity.
enum SQLiteDocuments {
    static func read(_ db: Database, projection: String, entity: String, id: String) throws -> Document? {
        let statement = try db.cachedStatement(sql: "SELECT state, version, position, updated_at, deleted FROM documents WHERE projection = ? AND entity = ? AND id = ?")
        guard let row = try Row.fetchOne(statement, arguments: [projection, entity, id]) else { return nil }
        return Document(
            entity: entity, id: id, state: try JSONValue(parsing: row[0] as String), version: row[1],
            position: row[2], updatedAtMicroseconds: row[3], deleted: row[4]
        )
    }

    /// The tables rebuilds fill before they are swapped in start with this.
    static let shadowPrefix = "documents_rebuild"

    /// The table a rebuild of `projection` fills (one per projection, so that two
    /// projections can rebuild at once).
    static func shadowTable(_ projection: String) -> String {
        shadowPrefix + "_" + projection.utf8.map { String($0, radix: 16) }.joined()
    }

    static func write(_ db: Database, _ document: Document, projection: String, table: String = "documents") throws {
        try db.cachedStatement(sql: """
            INSERT INTO \(table) (projection, entity, id, state, version, position, updated_at, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(projection, entity, id) DO UPDATE SET state = excluded.state, version = excluded.version,
                position = excluded.position, updated_at = excluded.updated_at, deleted = excluded.deleted
            """).execute(arguments: [
            projection, document.entity, document.id, document.state.canonicalText, document.version,
            document.position, document.updatedAtMicroseconds, document.deleted,
        ])
    }

    static func writeSnapshot(_ db: Database, _ document: Document, projection: String) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO snapshots (projection, entity, id, version, state, position, updated_at, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
            projection, document.entity, document.id, document.version, document.state.canonicalText,
            document.position, document.updatedAtMicroseconds, document.deleted,
        ])
    }

    /// The latest snapshot at or before a point.
    static func snapshot(_ db: Database, projection: String, entity: String, id: String, before point: EntityTimeline.Point) throws -> Document? {
        let row: Row?
        switch point {
        case .version(let version):
            row = try Row.fetchOne(db.cachedStatement(sql: "SELECT version, state, position, updated_at, deleted FROM snapshots WHERE projection = ? AND entity = ? AND id = ? AND version <= ? ORDER BY version DESC LIMIT 1"), arguments: [projection, entity, id, version])
        case .instant(let instant):
            row = try Row.fetchOne(db.cachedStatement(sql: "SELECT version, state, position, updated_at, deleted FROM snapshots WHERE projection = ? AND entity = ? AND id = ? AND updated_at <= ? ORDER BY version DESC LIMIT 1"), arguments: [projection, entity, id, instant])
        }
        guard let row else { return nil }
        return Document(entity: entity, id: id, state: try JSONValue(parsing: row[1] as String), version: row[0], position: row[2], updatedAtMicroseconds: row[3], deleted: row[4])
    }

    static func delete(_ db: Database, projection: String, entity: String, id: String, table: String = "documents") throws {
        try db.cachedStatement(sql: "DELETE FROM \(table) WHERE projection = ? AND entity = ? AND id = ?").execute(arguments: [projection, entity, id])
    }
}

extension SQLiteDocuments {
    /// Answers a document query with one indexed SQL query (the primary key orders by id;
    /// filters and sorts on fields use `json_extract`).
    /// With `asOf`, the temporal table's rows in force right after that position.
    static func page(_ db: Database, _ query: DocumentQuery, projection: String, asOf: Int64? = nil) throws -> DocumentPage {
        func path(_ field: String) -> String { "$.\"" + field + "\"" }
        var conditions = ["projection = ?", "entity = ?"]
        var arguments: StatementArguments = [projection, query.entity]
        var table = "documents"
        if let asOf {
            // Every entity that has a version has a document (a removal purges both), so the
            // documents' primary key gives the ids in order, and each one's version in force
            // is one probe of the temporal table's: a page costs what a current page does.
            table = """
                (SELECT d.projection AS projection, d.entity AS entity, d.id AS id, v.state AS state, v.version AS version,
                        v.position AS position, v.updated_at AS updated_at, v.deleted AS deleted
                 FROM documents d JOIN document_versions v ON v.projection = d.projection AND v.entity = d.entity AND v.id = d.id
                    AND v.valid_from = (SELECT max(m.valid_from) FROM document_versions m
                                        WHERE m.projection = d.projection AND m.entity = d.entity AND m.id = d.id AND m.valid_from <= ?)
                 WHERE v.state IS NOT NULL)
                """
            arguments = [asOf] + arguments
        }
        if !query.includeDeleted { conditions.append("deleted = 0") }
        for filter in query.filters {
            let operation = switch filter.comparison {
            case .eq: "="
            case .ne: "!="
            case .gt: ">"
            case .gte: ">="
            case .lt: "<"
            case .lte: "<="
            }
            conditions.append("json_extract(state, ?) IS NOT NULL AND json_extract(state, ?) \(operation) ?")
            arguments += [path(filter.field), path(filter.field), sqlValue(SortKey(filter.value))]
        }
        let key = query.sortField.map { _ in "IFNULL(json_extract(state, ?), -9e999)" }
        let direction = query.descending ? "DESC" : "ASC"
        if let cursor = query.cursor {
            if let key, let field = query.sortField {
                conditions.append("(\(key), id) \(query.descending ? "<" : ">") (?, ?)")
                arguments += [path(field), sqlValue(cursor.key), cursor.id]
            } else {
                conditions.append("id \(query.descending ? "<" : ">") ?")
                arguments += [cursor.id]
            }
        }
        var order = "id \(direction)"
        if let key, let field = query.sortField {
            order = "\(key) \(direction), id \(direction)"
            arguments += [path(field)]
        }
        arguments += [query.limit + 1]
        let sql = "SELECT id, state, version, position, updated_at, deleted FROM \(table) WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order) LIMIT ?"
        var documents = try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { row in
            Document(entity: query.entity, id: row[0], state: try JSONValue(parsing: row[1] as String), version: row[2], position: row[3], updatedAtMicroseconds: row[4], deleted: row[5])
        }
        var next: DocumentCursor?
        if documents.count > query.limit {
            documents.removeLast()
            next = documents.last.map { DocumentCursor(key: query.sortKey(of: $0), id: $0.id) }
        }
        return DocumentPage(documents: documents, next: next)
    }

    /// The id of a live document whose state has `value` in `field`.
    static func holder(_ db: Database, projection: String, entity: String, field: String, value: JSONValue) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM documents WHERE projection = ? AND entity = ? AND deleted = 0 AND json_extract(state, ?) = ? LIMIT 1"),
                            arguments: [projection, entity, "$.\"" + field + "\"", sqlValue(SortKey(value))])
    }

    private static func sqlValue(_ key: SortKey) -> (any DatabaseValueConvertible)? {
        switch key {
        case .missing: -Double.infinity
        case .number(let number): number
        case .text(let text): text
        }
    }
}

/// The documents one operation of a write transaction read or wrote (`nil`: known to have
/// none), and what it has yet to write: an append of many events to one entity reads and
/// parses its document once, not once per event and once more per rule, writes it once, and
/// writes its versions as one ``DocumentHistoryPlan`` (one row closed, the rest inserted
/// with their ends known) — as the PostgreSQL driver's batch does. ``flush(_:)`` writes what
/// is pending: at the end of the operation (``SQLiteWriteTransaction/flush()``), and before
/// anything reads the documents table by SQL (`unique` rules). It lives as long as one
/// operation's ``SQLiteWriteTransaction``: a refused operation's transaction, and so its
/// cache, is dropped with its savepoint.
final class SQLiteDocumentCache {
    var documents: [DocumentKey: Document?] = [:]
    /// Documents saved since the last flush, to write.
    var unsaved: [DocumentKey: Document] = [:]
    /// Changes for each projection's temporal table since the last flush, in order.
    var history: [(projection: String, changes: [DocumentHistoryChange])] = []

    func record(_ change: DocumentHistoryChange, projection: String) {
        if let last = history.indices.last, history[last].projection == projection {
            history[last].changes.append(change)
        } else {
            history.append((projection, [change]))
        }
    }

    func flush(_ db: Database) throws {
        for (key, document) in unsaved.sorted(by: { $0.key < $1.key }) {
            try SQLiteDocuments.write(db, document, projection: key.projection)
        }
        unsaved.removeAll(keepingCapacity: true)
        // A projection's changes in one plan (a later batch of the same one is a plan of its
        // own: each plan closes the rows stored before it).
        for (projection, changes) in history {
            try SQLiteDocumentVersions.apply(db, DocumentHistoryPlan(changes), projection: projection)
        }
        history.removeAll(keepingCapacity: true)
    }
}

/// One projection's documents as the projection engine writes them, inside a write transaction.
struct SQLiteDocumentWriter: DocumentWriting {
    let db: Database
    let projection: String
    /// The operation's documents, when it keeps them (a transaction's writers and lookups
    /// share one).
    var cache: SQLiteDocumentCache? = nil

    func document(entity: String, id: String) throws -> Document? {
        let key = DocumentKey(projection: projection, entity: entity, id: id)
        if let cached = cache?.documents[key] { return cached }
        let document = try SQLiteDocuments.read(db, projection: projection, entity: entity, id: id)
        cache?.documents[key] = .some(document)
        return document
    }

    func holder(entity: String, field: String, value: JSONValue) throws -> String? {
        // The query reads the documents table: it must hold what the operation saved.
        try cache?.flush(db)
        return try SQLiteDocuments.holder(db, projection: projection, entity: entity, field: field, value: value)
    }

    func saveDocument(_ document: Document, snapshot: Bool) throws {
        let key = DocumentKey(projection: projection, entity: document.entity, id: document.id)
        if let cache {
            cache.documents[key] = .some(document)
            cache.unsaved[key] = document
        } else {
            try SQLiteDocuments.write(db, document, projection: projection)
        }
        if snapshot { try SQLiteDocuments.writeSnapshot(db, document, projection: projection) }
    }

    func removeDocument(entity: String, id: String) throws {
        let key = DocumentKey(projection: projection, entity: entity, id: id)
        cache?.documents[key] = .some(nil)
        cache?.unsaved[key] = nil
        try SQLiteDocuments.delete(db, projection: projection, entity: entity, id: id)
        try db.cachedStatement(sql: "DELETE FROM snapshots WHERE projection = ? AND entity = ? AND id = ?").execute(arguments: [projection, entity, id])
    }

    func recordHistory(_ change: DocumentHistoryChange) throws {
        if let cache { return cache.record(change, projection: projection) }
        try SQLiteDocumentVersions.apply(db, DocumentHistoryPlan([change]), projection: projection)
    }
}
