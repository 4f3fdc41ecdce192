import ChronicleCore
import Logging
import PostgresNIO
import Synchronization

/// A rebuild's storage on PostgreSQL: log pages from pooled readers, the fresh documents in
/// memory, and a swap that replaces the projection's rows under the write lock.
final class PostgresRebuild: ProjectionRebuildStorage {
    let store: PostgresEventStore
    let projection: any Projection
    private let staged = Mutex<[Document]>([])

    init(store: PostgresEventStore, projection: any Projection) {
        self.store = store
        self.projection = projection
    }

    func head() async throws -> Int64 {
        try await store.headPosition()
    }

    func events(after position: Int64, through: Int64, limit: Int) async throws -> [RecordedEvent] {
        let logger = store.logger, reader = store.personalData
        return try await store.reading("read the log for a rebuild") { connection in
            var events: [RecordedEvent] = []
            var binds = PostgresBindings(capacity: 3)
            binds.append(position)
            binds.append(through)
            binds.append(Int64(limit))
            let rows = try await connection.run(PostgresQuery(unsafeSQL: PostgresEventStore.logRangeSQL(after: "$1", through: "$2", limit: "$3"), binds: binds), logger: logger)
            for try await row in rows { events.append(try PostgresEventStore.decodeEvent(row)) }
            return try await PostgresEventStore.revealed(events, reader: reader, on: connection, logger: logger)
        }
    }

    func stage(_ documents: [Document]) async throws {
        staged.withLock { $0 = documents }
    }

    func resetStagedHistory() async throws {
        let logger = store.logger, name = projection.name
        try await store.withPooledConnection { connection in
            _ = try await connection.run("DELETE FROM document_versions_staging WHERE projection = \(name)", logger: logger)
        }
    }

    func stageHistory(_ plan: DocumentHistoryPlan) async throws {
        let logger = store.logger, name = projection.name
        try await store.withPooledConnection { connection in
            try await PostgresDocumentVersions.apply([(name, plan)], table: "document_versions_staging", on: connection, logger: logger)
        }
    }

    func swap(after through: Int64, catchUp: @escaping @Sendable ([RecordedEvent]) throws -> RebuildCatchUp) async throws -> Int {
        let logger = store.logger, projection = projection, reader = store.personalData
        let staged = staged.withLock { $0 }
        return try await store.withPooledConnection { connection in
            try await connection.run("BEGIN", logger: logger)
            do {
                try await connection.run(PostgresQuery(unsafeSQL: PostgresEventStore.writeLock), logger: logger)
                // Waits for an asynchronous projection's page being applied, and keeps the next out.
                try await connection.run("SELECT 1 FROM projections WHERE name = \(projection.name) FOR UPDATE", logger: logger)
                var late: [RecordedEvent] = []
                for try await row in try await connection.run("SELECT \(unescaped: PostgresEventStore.eventColumns) FROM events WHERE position > \(through) ORDER BY position", logger: logger) {
                    late.append(try PostgresEventStore.decodeEvent(row))
                }
                late = try await PostgresEventStore.revealed(late, reader: reader, on: connection, logger: logger)
                var documents: [DocumentChangeKey: Document] = [:]
                for document in staged { documents[DocumentChangeKey(entity: document.entity, id: document.id)] = document }
                let caught = try catchUp(late)
                for (key, document) in caught.documents { documents[key] = document }
                try await PostgresDocumentVersions.apply([(projection.name, caught.history)], table: "document_versions_staging", on: connection, logger: logger)
                try await connection.run("DELETE FROM document_versions WHERE projection = \(projection.name)", logger: logger)
                try await connection.run("INSERT INTO document_versions SELECT * FROM document_versions_staging WHERE projection = \(projection.name)", logger: logger)
                try await connection.run("DELETE FROM document_versions_staging WHERE projection = \(projection.name)", logger: logger)
                let head = try await PostgresEventStore.lastEvent(connection, logger: logger)?.position ?? 0
                try await PostgresEventStore.replaceDocuments(of: projection, with: Array(documents.values), head: head, on: connection, logger: logger)
                try await connection.run("COMMIT", logger: logger)
                return late.count
            } catch {
                if PostgresEventStore.connectionSurvives(error) {
                    _ = try? await connection.run("ROLLBACK", logger: logger)
                }
                throw error
            }
        }
    }
}
