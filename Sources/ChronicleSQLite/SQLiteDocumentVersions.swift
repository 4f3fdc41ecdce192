import ChronicleCore
import GRDB

/// The `document_versions` table, a projection's temporal table: every version of every
/// document with the positions it was valid between (`valid_to` is
/// ``DocumentVersion/openEnd`` while current; a row without `state` marks a removal).
/// The primary key (projection, entity, id, valid_from) makes an as-of read one index
/// probe; `(projection, valid_from)` serves the changes between two positions.
/// `document_versions_staging` has the same shape and holds what a rebuild folds.
enum SQLiteDocumentVersions {
    static let columns = "valid_from, valid_to, state, version, position, updated_at, deleted"

    /// Applies a plan to `table`'s rows of `projection`.
    static func apply(_ db: Database, _ plan: DocumentHistoryPlan, projection: String, table: String = "document_versions") throws {
        if plan.isEmpty { return }
        for key in plan.purges {
            try db.cachedStatement(sql: "DELETE FROM \(table) WHERE projection = ? AND entity = ? AND id = ?").execute(arguments: [projection, key.entity, key.id])
        }
        for close in plan.closes {
            try db.cachedStatement(sql: "UPDATE \(table) SET valid_to = ? WHERE projection = ? AND entity = ? AND id = ? AND valid_from = ?")
                .execute(arguments: [close.validTo, projection, close.entity, close.id, close.validFrom])
        }
        let insert = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO \(table) (projection, entity, id, \(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for row in plan.inserts {
            let document = row.document
            try insert.execute(arguments: [
                projection, row.entity, row.id, row.validFrom, row.storedValidTo, document?.state.canonicalText,
                document?.version ?? -1, document?.position ?? row.validFrom, document?.updatedAtMicroseconds ?? 0, document?.deleted ?? false,
            ])
        }
    }

    static func decode(_ row: Row, entity: String, id: String, offset: Int = 0) throws -> DocumentVersion {
        let validTo: Int64 = row[offset + 1]
        var document: Document?
        if let state = row[offset + 2] as String? {
            document = Document(
                entity: entity, id: id, state: try JSONValue(parsing: state), version: row[offset + 3],
                position: row[offset + 4], updatedAtMicroseconds: row[offset + 5], deleted: row[offset + 6]
            )
        }
        return DocumentVersion(entity: entity, id: id, validFrom: row[offset], validTo: validTo == DocumentVersion.openEnd ? nil : validTo, document: document)
    }

    /// The row in force right after `position`.
    static func version(_ db: Database, projection: String, entity: String, id: String, asOf position: Int64) throws -> DocumentVersion? {
        let statement = try db.cachedStatement(sql: """
            SELECT \(columns) FROM document_versions WHERE projection = ? AND entity = ? AND id = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1
            """)
        guard let row = try Row.fetchOne(statement, arguments: [projection, entity, id, position]) else { return nil }
        return try decode(row, entity: entity, id: id)
    }

    /// The entities changed in `(from, to]`; see ``ProjectionStore/changedDocuments(projection:from:to:entity:after:limit:)``.
    static func changed(_ db: Database, projection: String, from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int) throws -> [ChangedDocument] {
        var conditions = ["projection = ?", "valid_from > ?", "valid_from <= ?"]
        var arguments: StatementArguments = [projection, from, to]
        if let entity {
            conditions.append("entity = ?")
            arguments += [entity]
        }
        var having = ""
        if let cursor {
            having = "HAVING (last, entity, id) > (?, ?, ?)"
            arguments += [cursor.position, cursor.entity, cursor.id]
        }
        arguments += [limit]
        // One row per entity: its last change in the range (found through the
        // (projection, valid_from) index), then the rows at both ends by primary key.
        let keys = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT entity, id, max(valid_from) AS last FROM document_versions WHERE \(conditions.joined(separator: " AND "))
            GROUP BY entity, id \(having) ORDER BY last, entity, id LIMIT ?
            """), arguments: arguments)
        return try keys.map { key in
            let entity: String = key[0], id: String = key[1], last: Int64 = key[2]
            guard let after = try version(db, projection: projection, entity: entity, id: id, asOf: last) else {
                throw ChronicleError(.storageFailure, "The temporal table lost the version of \(entity)/\(id) at \(last) while reading it.")
            }
            return ChangedDocument(entity: entity, id: id, position: last, before: try version(db, projection: projection, entity: entity, id: id, asOf: from), after: after)
        }
    }

    /// Replaces a projection's rows with its staged ones, and empties the staging.
    static func swapStaged(_ db: Database, projection: String) throws {
        try db.execute(sql: "DELETE FROM document_versions WHERE projection = ?", arguments: [projection])
        try db.execute(sql: "INSERT INTO document_versions SELECT * FROM document_versions_staging WHERE projection = ?", arguments: [projection])
        try db.execute(sql: "DELETE FROM document_versions_staging WHERE projection = ?", arguments: [projection])
    }
}
