import ChronicleCore
@testable import ChroniclePostgres
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite("PostgreSQL store: migrations", TestPostgres.enabled)
struct PostgresMigrationTests {
    @Test("a database from before named projections keeps its documents as its one projection's; with several recorded, they are rebuilt", arguments: [1, 2])
    func namedProjections(recorded: Int) async throws {
        var configuration = TestPostgres.freshConfiguration()
        configuration.projection = CounterProjection()
        try await TestPostgres.withFreshSchema(configuration) { configuration in
            try await migrate(schema: configuration.schema!, recorded: recorded, configuration: configuration)
        }
    }

    private func migrate(schema: String, recorded: Int, configuration: PostgresEventStore.Configuration) async throws {
        try await TestPostgres.withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \"\(schema)\""), logger: testLogger)
            try await connection.query(PostgresQuery(unsafeSQL: "SET search_path TO \"\(schema)\""), logger: testLogger)
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(PostgresSchema.migrationsTable) (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"), logger: testLogger)
            // The tables as the version before named projections made them.
            for migration in PostgresSchema.migrations.prefix(while: { $0.name != "v4-named-projections" }) {
                for statement in migration.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: testLogger) }
                try await connection.query("INSERT INTO chronicle_migrations (name) VALUES (\(migration.name))", logger: testLogger)
            }
            // A document the projection would not derive from the (empty) log: kept only if
            // the migration keeps the rows.
            try await connection.query(#"INSERT INTO documents (entity, id, state, version, position, updated_at, deleted) VALUES ('counter', '1', '{"count":7}', 0, 1, 0, false)"#, logger: testLogger)
            try await connection.query(#"INSERT INTO document_snapshots (entity, id, version, state, position, updated_at, deleted) VALUES ('counter', '1', 0, '{"count":7}', 1, 0, false)"#, logger: testLogger)
            try await connection.query("INSERT INTO projections (name, definition_hash, position) VALUES ('counters', 'counter-v1', 0)", logger: testLogger)
            if recorded == 2 {
                try await connection.query("INSERT INTO projections (name, definition_hash, position) VALUES ('older', 'x', 0)", logger: testLogger)
            }
        }
        try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger) { store in
            let document = try await store.document(entity: "counter", id: "1")
            let snapshot = try await store.snapshot(entity: "counter", id: "1", before: .version(0))
            if recorded == 1 {
                #expect(document?.state == ["count": 7], "the one recorded projection's rows are its documents")
                #expect(snapshot?.state == ["count": 7])
            } else {
                #expect(document == nil, "rows of an unknown projection are dropped; the rebuild derives nothing from an empty log")
                #expect(snapshot == nil)
            }
            // Documents of a second projection live beside the first's under the new key.
            try await store.append(to: StreamName("counter-2"), [EventData(type: "Incremented", data: ["by": 1])])
            #expect(try await store.document(entity: "counter", id: "2")?.state == ["count": 1])
        }
    }

    @Test("a database written before temporal tables keeps its documents, reads as of the upgrade on, and refuses earlier moments until a rebuild")
    func temporalUpgrade() async throws {
        var configuration = TestPostgres.freshConfiguration()
        configuration.projection = CounterProjection()
        let schema = configuration.schema!
        try await TestPostgres.withFreshSchema(configuration) { configuration in
            var head: Int64 = 0
            try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger) { store in
                head = try await TemporalUpgrade.script(store)
            }
            // The database as the version before v6 left it: no temporal tables, no history_from.
            try await TestPostgres.withConnection(schema: schema) { connection in
                for statement in [
                    "DROP TABLE document_versions", "DROP TABLE document_versions_staging", "ALTER TABLE projections DROP COLUMN history_from",
                    "DELETE FROM chronicle_migrations WHERE name = 'v6-document-versions'",
                ] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: testLogger)
                }
            }
            try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger) { store in
                try await TemporalUpgrade.check(store, head: head)
            }
        }
    }
}
