import ChronicleCore
import GRDB

/// A rebuild's storage on SQLite: log pages from a reader, the fresh documents in a table of
/// their own (one per projection), and a swap that copies them over the projection's rows.
struct SQLiteRebuild: ProjectionRebuildStorage {
    let store: SQLiteEventStore
    let projection: any Projection

    private var name: String { projection.name }
    private var shadow: String { SQLiteDocuments.shadowTable(name) }

    func head() async throws -> Int64 {
        try await store.headPosition()
    }

    func events(after position: Int64, through: Int64, limit: Int) async throws -> [RecordedEvent] {
        let reader = store.personalData
        return try await store.pool.read { db in
            try SQLiteEventRow.fetchAll(db, sql: "SELECT \(SQLiteEventRow.columns) FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?", arguments: [position, through, limit], revealingWith: reader)
        }
    }

    func stage(_ documents: [Document]) async throws {
        let shadow = shadow, name = name
        try await store.pool.write { db in
            try db.execute(sql: "DROP TABLE IF EXISTS \(shadow)")
            // The same definition as the live table, whatever migrations made it.
            guard let definition = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'documents'"),
                  let range = definition.range(of: "documents") else {
                throw ChronicleError(.storageFailure, "The documents table is missing; the data file is damaged.")
            }
            try db.execute(sql: definition.replacingCharacters(in: range, with: shadow))
        }
        for start in stride(from: 0, to: documents.count, by: 5000) {
            let chunk = Array(documents[start..<min(documents.count, start + 5000)])
            try await store.pool.write { db in
                for document in chunk { try SQLiteDocuments.write(db, document, projection: name, table: shadow) }
            }
        }
    }

    func resetStagedHistory() async throws {
        let name = name
        try await store.pool.write { db in
            try db.execute(sql: "DELETE FROM document_versions_staging WHERE projection = ?", arguments: [name])
        }
    }

    func stageHistory(_ plan: DocumentHistoryPlan) async throws {
        let name = name
        try await store.pool.write { db in
            try SQLiteDocumentVersions.apply(db, plan, projection: name, table: "document_versions_staging")
        }
    }

    func swap(after through: Int64, catchUp: @escaping @Sendable ([RecordedEvent]) throws -> RebuildCatchUp) async throws -> Int {
        let shadow = shadow, name = name, projection = projection, reader = store.personalData
        return try await store.pool.write { db -> Int in
            let late = try SQLiteEventRow.fetchAll(db, sql: "SELECT \(SQLiteEventRow.columns) FROM events WHERE position > ? ORDER BY position", arguments: [through], revealingWith: reader)
            let caught = try catchUp(late)
            try SQLiteDocumentVersions.apply(db, caught.history, projection: name, table: "document_versions_staging")
            try SQLiteDocumentVersions.swapStaged(db, projection: name)
            for (key, document) in caught.documents {
                if let document {
                    try SQLiteDocuments.write(db, document, projection: name, table: shadow)
                } else {
                    try SQLiteDocuments.delete(db, projection: name, entity: key.entity, id: key.id, table: shadow)
                }
            }
            try db.execute(sql: "DELETE FROM snapshots WHERE projection = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM documents WHERE projection = ?", arguments: [name])
            try db.execute(sql: "INSERT INTO documents SELECT * FROM \(shadow)")
            try db.execute(sql: "DROP TABLE \(shadow)")
            try SQLiteEventStore.recordDefinition(projection, in: db)
            return late.count
        }
    }
}
