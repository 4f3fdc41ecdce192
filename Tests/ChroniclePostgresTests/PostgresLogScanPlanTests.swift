import ChronicleCore
@testable import ChroniclePostgres
import ChronicleTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite("PostgreSQL store: log pages", TestPostgres.enabled)
struct PostgresLogScanPlanTests {
    /// The plan PostgreSQL picks for `sql`, one line per node.
    private func plan(_ sql: String, schema: String) async throws -> String {
        try await TestPostgres.withConnection(schema: schema) { connection in
            var lines: [String] = []
            for try await line in try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN " + sql), logger: testLogger).decode(String.self) {
                lines.append(line)
            }
            return lines.joined(separator: "\n")
        }
    }

    @Test("a page of the log on a store PostgreSQL has not analyzed walks the primary key and stops at the limit, instead of sorting the rest of the log for every page")
    func logPageWalksThePrimaryKey() async throws {
        let configuration = TestPostgres.freshConfiguration()
        let schema = configuration.schema!
        try await withPostgresStore(configuration) { store in
            // Autovacuum off for the table: its statistics stay those of a table that was
            // never analyzed (as a store's are until autovacuum gets to it, and at the log's
            // growing end after).
            try await TestPostgres.withConnection(schema: schema) { connection in
                try await connection.query("ALTER TABLE events SET (autovacuum_enabled = false)", logger: testLogger)
            }
            for batch in 0..<40 {
                try await store.append(to: StreamName("scan-\(batch)"), (0..<500).map { EventData(type: "Scanned", data: ["n": .integer(Int64($0))]) })
            }
            let head = try await store.headPosition()
            #expect(head == 20_000)
            // The control: the same page with both bounds inside the LIMIT (how pages were
            // read before) makes PostgreSQL sort a scan of everything after the page's start.
            // If this stops holding, the test no longer sets up what it means to check.
            let twoSided = try await plan("SELECT \(PostgresEventStore.eventColumns) FROM events WHERE position > 1000 AND position <= \(head) ORDER BY position LIMIT 1000", schema: schema)
            #expect(twoSided.contains("Sort") && !twoSided.contains("Index Scan using events_pkey"), "the control plan: \(twoSided)")

            let page = try await plan(PostgresEventStore.logRangeSQL(after: "1000", through: "\(head)", limit: "1000"), schema: schema)
            #expect(page.contains("Index Scan using events_pkey"), "\(page)")
            #expect(!page.contains("Bitmap") && !page.contains("Seq Scan"), "\(page)")

            // And the pages are the log: every event once, in order, the last page up to the head.
            var after: Int64 = 0, seen: [Int64] = []
            while true {
                let page = try await store.readLog(after: after, limit: 1000, filter: LogFilter())
                if page.events.isEmpty { break }
                seen += page.events.map(\.position)
                after = page.scannedThrough
            }
            #expect(seen == Array(1...head))
            #expect(after == head)
        }
    }
}
