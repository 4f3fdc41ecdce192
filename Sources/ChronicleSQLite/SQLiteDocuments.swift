import ChronicleCore
import GRDB

/// The `documents` table: one row per entity of the inline projection.
enum SQLiteDocuments {
    static func read(_ db: Database, entity: String, id: String) throws -> Document? {
        let statement = try db.cachedStatement(sql: "SELECT state, version, position, updated_at, deleted FROM documents WHERE entity = ? AND id = ?")
        guard let row = try Row.fetchOne(statement, arguments: [entity, id]) else { return nil }
        return Document(
            entity: entity, id: id, state: try JSONValue(parsing: row[0] as String), version: row[1],
            position: row[2], updatedAtMicroseconds: row[3], deleted: row[4]
        )
    }

    static func write(_ db: Database, _ document: Document) throws {
        try db.cachedStatement(sql: """
            INSERT INTO documents (entity, id, state, version, position, updated_at, deleted) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(entity, id) DO UPDATE SET state = excluded.state, version = excluded.version,
                position = excluded.position, updated_at = excluded.updated_at, deleted = excluded.deleted
            """).execute(arguments: [
            document.entity, document.id, document.state.canonicalText, document.version,
            document.position, document.updatedAtMicroseconds, document.deleted,
        ])
    }

    static func delete(_ db: Database, entity: String, id: String) throws {
        try db.cachedStatement(sql: "DELETE FROM documents WHERE entity = ? AND id = ?").execute(arguments: [entity, id])
    }
}
