import ChronicleCore
@testable import ChroniclePostgres
import ChronicleTestSupport
import Foundation
import PostgresNIO
import Testing

/// The plan PostgreSQL picks for `sql` in `schema`, one line per node.
private func plan(_ sql: String, schema: String) async throws -> String {
    try await TestPostgres.withConnection(schema: schema) { connection in
        var lines: [String] = []
        for try await line in try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN " + sql), logger: testLogger).decode(String.self) {
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

@Suite("PostgreSQL store: log pages", TestPostgres.enabled)
struct PostgresLogScanPlanTests {
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

@Suite("PostgreSQL store: DCB query pages", TestPostgres.enabled)
struct PostgresQueryPagePlanTests {
    @Test("a page of a query by type, or by two tags, deep in a 500,000-event log PostgreSQL has not analyzed walks an index and stops at the limit, instead of sorting every match of the range")
    func queryPagesWalkAnIndex() async throws {
        let configuration = TestPostgres.freshConfiguration()
        let schema = configuration.schema!
        try await withPostgresStore(configuration) { _ in
            // The rows straight into the tables (the plan depends on the tables' size and
            // statistics, not on the rows' contents), with autovacuum off: their statistics
            // stay those of tables never analyzed, as a store's are until autovacuum gets to
            // them. Every event is an Enrolled; user:N (50,000 users) and course:N (100).
            try await TestPostgres.withConnection(schema: schema) { connection in
                try await connection.query("ALTER TABLE events SET (autovacuum_enabled = false)", logger: testLogger)
                try await connection.query("ALTER TABLE event_tags SET (autovacuum_enabled = false)", logger: testLogger)
                try await connection.query("""
                    INSERT INTO events (position, id, stream, revision, type, category, recorded_at, data, metadata, hash)
                        SELECT i, gen_random_uuid(), 'plan-' || i, 0, 'Enrolled', 'plan', 0, '{}', '{}', '\\x00' FROM generate_series(1, 500000) i
                    """, logger: testLogger)
                try await connection.query("INSERT INTO event_tags (tag, position) SELECT 'user:' || (i % 50000), i FROM generate_series(1, 500000) i", logger: testLogger)
                try await connection.query("INSERT INTO event_tags (tag, position) SELECT 'course:' || (i % 100), i FROM generate_series(1, 500000) i", logger: testLogger)
            }
            let byType = DCBQuery([.init(types: ["Enrolled"])]), byTags = DCBQuery([.init(tags: ["user:7", "course:7"])])
            // The controls: both pages with both bounds inside the LIMIT (how pages were read
            // before) are bitmap scans of every match after the start, sorted. If this stops
            // holding, the test no longer sets up what it means to check.
            let twoSidedType = try await plan("SELECT position FROM events WHERE type IN ('Enrolled') AND position > 1000 AND position <= 450000 ORDER BY position LIMIT 100", schema: schema)
            #expect(twoSidedType.contains("Sort") && twoSidedType.contains("Bitmap"), "the control plan: \(twoSidedType)")
            let twoSidedTags = try await plan("""
                SELECT t0.position AS position FROM event_tags t0 JOIN event_tags t1 ON t1.tag = 'user:7' AND t1.position = t0.position AND t1.position > 1000 AND t1.position <= 450000
                WHERE t0.tag = 'course:7' AND t0.position > 1000 AND t0.position <= 450000 ORDER BY t0.position LIMIT 100
                """, schema: schema)
            #expect(twoSidedTags.contains("Sort") && twoSidedTags.contains("Bitmap"), "the control plan: \(twoSidedTags)")

            for query in [byType, byTags] {
                let page = try await plan(DCBQuerySQL.sql(DCBQuerySQL.Shape(query, bounded: true), placeholder: inlined(query, after: 1000, through: 450_000, limit: 100)), schema: schema)
                #expect(page.contains("Index") && !page.contains("Bitmap") && !page.contains("Sort"), "\(page)")
            }
        }
    }

    /// The SQL of value `n` of `DCBQuerySQL.values` for these arguments, inlined.
    private func inlined(_ query: DCBQuery, after: Int64, through: Int64, limit: Int) -> (Int) -> String {
        let values = DCBQuerySQL.values(query, after: after, through: through, limit: limit)
        return { index in
            switch values[index] {
            case .integer(let value): "\(value)"
            case .text(let value): "'\(value)'"
            }
        }
    }
}
