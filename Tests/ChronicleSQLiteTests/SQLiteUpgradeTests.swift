import ChronicleCore
import ChronicleSQLite
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import GRDB
import Testing

@Suite("SQLite store: upgrading to temporal tables")
struct SQLiteUpgradeTests {
    @Test("a file written before temporal tables keeps its documents, reads as of the upgrade on, and refuses earlier moments until a rebuild")
    func upgrade() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/data"
            var head: Int64 = 0
            do {
                let store = try SQLiteEventStore(directory: path, configuration: .init(projection: CounterProjection()), logger: testLogger)
                head = try await TemporalUpgrade.script(store)
            }
            // The file as the version before v8 left it: no temporal tables, no history_from.
            let queue = try DatabaseQueue(path: path + "/" + SQLiteEventStore.fileName)
            try await queue.write { db in
                try db.execute(sql: """
                    DROP TABLE document_versions;
                    DROP TABLE document_versions_staging;
                    ALTER TABLE projections DROP COLUMN history_from;
                    DELETE FROM grdb_migrations WHERE identifier = 'v8-document-versions';
                    """)
            }
            try queue.close()
            let upgraded = try SQLiteEventStore(directory: path, configuration: .init(projection: CounterProjection()), logger: testLogger)
            try await TemporalUpgrade.check(upgraded, head: head)
        }
    }
}
