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
            // Tables never analyzed; every event is an Enrolled with user:N (50,000 users) and
            // course:N (100).
            try await fillUnanalyzed(schema: schema, events: 500_000, type: "Enrolled", tags: ["'user:' || (i % 50000)", "'course:' || (i % 100)"])
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
                let page = try await plan(DCBQuerySQL.sql(DCBQuerySQL.Shape(query, bounded: true), probe: .subquery, placeholder: inlined(query, after: 1000, through: 450_000, limit: 100)), schema: schema)
                #expect(page.contains("Index") && !page.contains("Bitmap") && !page.contains("Sort"), "\(page)")
            }
        }
    }

    @Test("on tables PostgreSQL has not analyzed, a common tag and a rare one: pages and condition checks walk the rare tag's entries (its reach sampled), not the common one's (the control: the order written)")
    func rareTagLeads() async throws {
        let configuration = TestPostgres.freshConfiguration()
        let schema = configuration.schema!
        try await withPostgresStore(configuration) { store in
            // 300,000 events, each with bench:dcb; user:pN on 1 in 1,000 (N = position % 1,000).
            try await fillUnanalyzed(schema: schema, events: 300_000, type: "Tagged", tags: ["'bench:dcb'", "'user:p' || (i % 1000)"])
            let query = DCBQuery([.init(tags: ["bench:dcb", "user:p7"])])
            try await TestPostgres.withConnection(schema: schema) { connection in
                let reach = try await PostgresEventStore.reaches([(query, 0)], through: 300_000, on: connection, logger: testLogger)
                #expect(reach[.init(tag: "bench:dcb", after: 0)] == .some(32))
                #expect(reach[.init(tag: "user:p7", after: 0)] == .some(31_007))
                #expect(DCBLeadingTags.choose(query) { reach[.init(tag: $0, after: 0)] ?? nil } == ["user:p7"])

                // A page: the SQL the store runs walks about a page of entries; written in
                // alphabetical order (as before), every bench:dcb entry up to the page's end.
                let (page, binds) = try await PostgresEventStore.positions(query, after: 0, through: 300_000, limit: 100, on: connection, logger: testLogger)
                let led = try await walked(page, binds, on: connection)
                let (control, controlBinds) = inlinedControl(query, after: 0, through: 300_000, limit: 100)
                let unled = try await walked(control, controlBinds, on: connection)
                #expect(led < 1_000 && unled > 50_000, "entries walked: \(led) led by the rare tag, \(unled) in written order")

                // Condition checks of a batch: one that passes (a tag no event has, beside the
                // common one, after 250,000) and one that fails at position 3.
                let passing = ConditionKey(query: DCBQuery([.init(tags: ["bench:dcb", "user:none"])]), after: 250_000)
                let failing = ConditionKey(query: DCBQuery([.init(tags: ["bench:dcb", "user:p3"])]), after: 0)
                let matches = try await PostgresEventStore.firstMatches([passing, failing], on: connection, logger: testLogger)
                #expect(matches[passing] == .some(nil) && matches[failing] == .some(3), "\(matches)")
                let checkReach = try await PostgresEventStore.reaches([(passing.query, passing.after)], through: nil, on: connection, logger: testLogger)
                let leading = PostgresEventStore.leading([passing], checkReach)
                #expect(leading == [["user:none"]])
                let shape = DCBQuerySQL.Shape(passing.query, bounded: false)
                #expect(DCBLeadingTags.isSkewed(passing.query, after: passing.after) { checkReach[.init(tag: $0, after: passing.after)] ?? nil })
                let (check, checkBinds) = PostgresEventStore.firstMatches(shape, [passing], probe: .subquery, leading: leading)
                let (unledCheck, unledBinds) = PostgresEventStore.firstMatches(shape, [passing], probe: .subquery)
                let ledWalk = try await walked(check, checkBinds, on: connection), unledWalk = try await walked(unledCheck, unledBinds, on: connection)
                #expect(ledWalk < 1_000 && unledWalk > 40_000, "entries walked by the check: \(ledWalk) led by the rare tag, \(unledWalk) in written order")
            }
            // Through the store: the page is right (conformance checks matching in general).
            let page = try await store.read(query: query, after: 0, limit: 5)
            #expect(page.events.map(\.position) == [7, 1007, 2007, 3007, 4007])
        }
    }

    /// The most index entries any node of `sql`'s executed plan went through (`EXPLAIN
    /// ANALYZE`): the rows it produced over all its loops, the rows its filter removed, or how
    /// many times it ran (a probe per entry of the node above).
    private func walked(_ sql: String, _ binds: PostgresBindings, on connection: PostgresConnection) async throws -> Int {
        var most = 0
        for try await line in try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, binds: binds), logger: testLogger).decode(String.self) {
            if let range = line.range(of: #"actual rows=[0-9]+ loops=[0-9]+"#, options: .regularExpression) {
                let numbers = line[range].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
                most = max(most, numbers[0] * numbers[1], numbers[1])
            }
            if let range = line.range(of: #"Rows Removed by Filter: [0-9]+"#, options: .regularExpression), let removed = Int(line[range].split(separator: " ").last ?? "") {
                most = max(most, removed)
            }
        }
        return most
    }

    /// Rows straight into the tables (plans depend on the tables' size and statistics, not on
    /// the rows' contents), with autovacuum off: their statistics stay those of tables never
    /// analyzed, as a store's are until autovacuum gets to them. Events 1…`events` of `type`,
    /// and for each SQL expression of `tags` (of the position `i`) a tag on every event.
    private func fillUnanalyzed(schema: String, events: Int, type: String, tags: [String]) async throws {
        try await TestPostgres.withConnection(schema: schema) { connection in
            try await connection.query("ALTER TABLE events SET (autovacuum_enabled = false)", logger: testLogger)
            try await connection.query("ALTER TABLE event_tags SET (autovacuum_enabled = false)", logger: testLogger)
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO events (position, id, stream, revision, type, category, recorded_at, data, metadata, hash, tags)
                    SELECT i, gen_random_uuid(), 'plan-' || i, 0, '\(type)', 'plan', 0, '{}', '{}', decode(repeat('00', 32), 'hex'), '' FROM generate_series(1, \(events)) i
                """), logger: testLogger)
            for tag in tags {
                try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO event_tags (tag, position) SELECT \(tag), i FROM generate_series(1, \(events)) i"), logger: testLogger)
            }
        }
    }

    /// A page's SQL and bindings with the tags in written (alphabetical) order.
    private func inlinedControl(_ query: DCBQuery, after: Int64, through: Int64, limit: Int) -> (String, PostgresBindings) {
        var binds = PostgresBindings()
        for value in DCBQuerySQL.values(query, after: after, through: through, limit: limit) {
            switch value {
            case .text(let text): binds.append(text)
            case .integer(let number): binds.append(number)
            }
        }
        return (DCBQuerySQL.sql(DCBQuerySQL.Shape(query, bounded: true), prefix: "$"), binds)
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
