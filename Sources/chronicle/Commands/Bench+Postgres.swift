import ChronicleCore
import ChroniclePostgres
import Foundation
import Logging
import NIOCore
import PostgresNIO

extension Bench {
    /// `bench --postgres URL`: the append, read and scan figures on the PostgreSQL store,
    /// each run in a fresh schema that is dropped afterwards, against raw baselines measured in
    /// the same run on the same server and schema, without Chronicle: one-row `INSERT`
    /// transactions from as many connections as writers, multi-row `INSERT`s and `COPY`s of
    /// 100 rows each, and a primary-key range scan; and what the events take on disk.
    func runPostgres(url: String) async throws {
        let base = try PostgresEventStore.Configuration(url: url)
        var figures = [
            Figure(name: "append-single", description: "single-event appends to distinct streams, \(writers) writers", baseline: "baseline-postgres-insert"),
            Figure(name: "append-batch", description: "appends of 100 events, \(writers) writers", baseline: "baseline-copy"),
            Figure(name: "read-stream", description: "reading one stream of 1,000 events", baseline: "baseline-scan"),
            Figure(name: "scan-log", description: "scanning the whole log in pages of 1,000", baseline: "baseline-scan"),
            Figure(name: "baseline-postgres-insert", description: "plain PostgreSQL one-row INSERT transactions, \(writers) connections"),
            Figure(name: "baseline-batch", description: "plain PostgreSQL INSERTs of 100 rows (\(batchEvents) rows), \(writers) connections"),
            Figure(name: "baseline-copy", description: "plain PostgreSQL COPY of 100 rows at a time (\(batchEvents) rows), \(writers) connections"),
            Figure(name: "baseline-scan", description: "plain PostgreSQL primary-key range scan of those rows, pages of 1,000"),
        ]
        if dcb { figures += Self.dcbFigures(writers: writers, prefill: dcbPrefill) }
        let bench = DCBBench(events: dcbEvents, writers: writers, prefill: dcbPrefill)
        var storage = Storage()
        for run in 1...runs {
            var configuration = base
            configuration.schema = "chronicle_bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let samples: ([Double], (commits: Int, operations: Int))
            do {
                samples = try await PostgresEventStore.withStore(configuration: configuration, logger: StoreOptions.logger) { store in
                    let single = try await appendSingle(store)
                    let statistics = store.groupCommitStatistics
                    var figures = [single, try await appendBatch(store), try await readStream(store)]
                    let scan = try await scanLog(store)
                    figures.append(scan.rate)
                    try await withBaselineClient(configuration) { client in
                        storage.record(storedBytes: try await Self.postgresStoredBytes(client), events: scan.events, payloadBytes: scan.payloadBytes)
                        figures.append(try await postgresOneRowBaseline(client))
                        figures.append(try await postgresBatchBaseline(client, table: "baseline_batch", copy: false))
                        figures.append(try await postgresBatchBaseline(client, table: "baseline_copy", copy: true))
                        figures.append(try await Self.postgresScanBaseline(client, table: "baseline_batch", rows: batchEvents))
                    }
                    if dcb {
                        // Autovacuum analyzes the prefilled tables at a time of its own,
                        // which moved the full-store figure from 0.5× to 1.5× the empty one
                        // between runs: the store is measured as it is once that is done.
                        let result = try await bench.run(store, settle: {
                            try await withBaselineClient(configuration) { client in
                                try await client.query("VACUUM ANALYZE events, event_tags", logger: StoreOptions.logger)
                            }
                        }) { Output.progress($0) }
                        figures += [result.conditional, result.conditionalFull, result.query, result.rareQuery]
                    }
                    return (figures, statistics)
                }
                try await PostgresEventStore.dropSchema(configuration: configuration, logger: StoreOptions.logger)
            } catch {
                try? await PostgresEventStore.dropSchema(configuration: configuration, logger: StoreOptions.logger)
                throw error
            }
            for (index, sample) in samples.0.enumerated() {
                figures[index].samples.append(sample)
            }
            Output.progress("run \(run)/\(runs): " + figures.map { "\($0.name) \(Int($0.samples.last!)) events/s" }.joined(separator: ", ") + "; single-event appends: \(String(format: "%.1f", Double(samples.1.operations) / Double(max(1, samples.1.commits)))) per group commit")
        }
        let baseline = figures[4].median
        if json {
            let entries = figures.map { $0.json(baseline: baseline, in: figures) }
            Output.line("{\"backend\":\"postgres\",\"runs\":\(runs),\"writers\":\(writers),\"results\":[\(entries.joined(separator: ","))]\(storage.json)}")
        } else {
            Output.line("PostgreSQL at \(base.host):\(base.port), median of \(runs) runs:")
            for figure in figures { Output.line(figure.line(baseline: baseline, in: figures)) }
            Output.line(storage.line)
        }
    }

    /// Runs `body` with a plain PostgresNIO client of `writers` connections to the same
    /// server and schema as the store.
    private func withBaselineClient(_ configuration: PostgresEventStore.Configuration, _ body: (PostgresClient) async throws -> Void) async throws {
        var clientConfiguration = configuration.clientConfiguration
        clientConfiguration.options.maximumConnections = writers
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: StoreOptions.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }

    /// The bytes of the store's tables, their indexes and TOAST in its schema (before the
    /// baselines' tables are made there).
    private static func postgresStoredBytes(_ client: PostgresClient) async throws -> Int64 {
        let rows = try await client.query("""
            SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm') AND c.relname NOT LIKE 'baseline%'
            """, logger: StoreOptions.logger)
        for try await bytes in rows.decode(Int64.self) { return bytes }
        return 0
    }

    /// One-row `INSERT` transactions (each its own commit) from `writers` connections, as
    /// many rows as the single-event figure; rows/s.
    private func postgresOneRowBaseline(_ client: PostgresClient) async throws -> Double {
        let rows = singleEvents, writers = writers, logger = StoreOptions.logger
        try await client.query("CREATE TABLE baseline (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)", logger: logger)
        let payload = Self.baselinePayload(1)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { inserts in
            for writer in 0..<writers {
                inserts.addTask {
                    for row in stride(from: writer, to: rows, by: writers) {
                        try await client.query("INSERT INTO baseline (id, payload) VALUES (\(Int64(row)), \(payload))", logger: logger)
                    }
                }
            }
            try await inserts.waitForAll()
        }
        return Double(rows) / (ContinuousClock.now - started).seconds
    }

    /// `--batch-events` rows in statements of 100 rows (each its own commit) from `writers`
    /// connections: one multi-row `INSERT` each, or one `COPY … FROM STDIN` each; rows/s.
    private func postgresBatchBaseline(_ client: PostgresClient, table: String, copy: Bool) async throws -> Double {
        let rows = batchEvents, writers = writers, logger = StoreOptions.logger, size = Self.baselineRowsPerTransaction
        try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)"), logger: logger)
        let payloads = (0..<rows).map(Self.baselinePayload)
        /// The multi-row `INSERT` of `rows` rows (ids and payloads bound in turn).
        @Sendable func insert(_ rows: Int) -> String {
            "INSERT INTO \(table) (id, payload) VALUES " + (0..<rows).map { "($\(2 * $0 + 1), $\(2 * $0 + 2))" }.joined(separator: ", ")
        }
        let fullInsert = insert(size)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for first in stride(from: writer * size, to: rows, by: writers * size) {
                        let range = first..<min(rows, first + size)
                        if copy {
                            var lines = ByteBuffer()
                            // Text format: the payloads hold no tab, newline or backslash.
                            for index in range { lines.writeString("\(index + 1)\t\(payloads[index])\n") }
                            let buffer = lines
                            try await client.withConnection { connection in
                                try await connection.copyFrom(table: table, columns: ["id", "payload"], logger: logger) { try await $0.write(buffer) }
                            }
                        } else {
                            var bindings = PostgresBindings(capacity: 2 * range.count)
                            for index in range {
                                bindings.append(Int64(index + 1))
                                bindings.append(payloads[index])
                            }
                            try await client.query(PostgresQuery(unsafeSQL: range.count == size ? fullInsert : insert(range.count), binds: bindings), logger: logger)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(rows) / (ContinuousClock.now - started).seconds
    }

    /// Reads every row of `table` by primary-key range in pages of 1,000, decoding the id and
    /// the text; rows/s.
    private static func postgresScanBaseline(_ client: PostgresClient, table: String, rows expected: Int) async throws -> Double {
        let started = ContinuousClock.now
        var after: Int64 = 0, total = 0, bytes = 0
        while true {
            let page = try await client.query(PostgresQuery(unsafeSQL: "SELECT id, payload FROM \(table) WHERE id > $1 ORDER BY id LIMIT \(baselineRowsPerPage)", binds: {
                var bindings = PostgresBindings(capacity: 1)
                bindings.append(after)
                return bindings
            }()), logger: StoreOptions.logger)
            var count = 0
            for try await (id, payload) in page.decode((Int64, String).self) {
                after = id
                bytes += payload.utf8.count
                count += 1
            }
            if count == 0 { break }
            total += count
        }
        guard total == expected, bytes > 0 else {
            throw CommandFailure(message: "bench: the baseline scan read \(total) rows, expected \(expected)")
        }
        return Double(total) / (ContinuousClock.now - started).seconds
    }
}
