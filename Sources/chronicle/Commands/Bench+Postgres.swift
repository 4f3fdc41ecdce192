import ChronicleCore
import ChroniclePostgres
import Foundation
import PostgresNIO

extension Bench {
    /// `bench --postgres URL`: the append, read and scan figures on the PostgreSQL store,
    /// each run in a fresh schema that is dropped afterwards, against a baseline measured in
    /// the same run on the same server: plain one-row `INSERT` transactions from as many
    /// connections as writers, without Chronicle.
    func runPostgres(url: String) async throws {
        let base = try PostgresEventStore.Configuration(url: url)
        var figures = [
            Figure(name: "append-single", description: "single-event appends to distinct streams, \(writers) writers"),
            Figure(name: "append-batch", description: "appends of 100 events, \(writers) writers"),
            Figure(name: "read-stream", description: "reading one stream of 1,000 events"),
            Figure(name: "scan-log", description: "scanning the whole log in pages of 1,000"),
            Figure(name: "baseline-postgres-insert", description: "plain PostgreSQL one-row INSERT transactions, \(writers) connections"),
        ]
        if dcb { figures += Self.dcbFigures(writers: writers, prefill: dcbPrefill) }
        let bench = DCBBench(events: dcbEvents, writers: writers, prefill: dcbPrefill)
        for run in 1...runs {
            var configuration = base
            configuration.schema = "chronicle_bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let samples: ([Double], (commits: Int, operations: Int))
            do {
                samples = try await PostgresEventStore.withStore(configuration: configuration, logger: StoreOptions.logger) { store in
                    let single = try await appendSingle(store)
                    let statistics = store.groupCommitStatistics
                    var figures = [single, try await appendBatch(store), try await readStream(store), try await scanLog(store)]
                    figures.append(try await postgresBaseline(configuration))
                    if dcb {
                        let result = try await bench.run(store) { Output.progress($0) }
                        figures += [result.conditional, result.conditionalFull, result.query]
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
            let entries = figures.map { $0.json(baseline: baseline) }
            Output.line("{\"backend\":\"postgres\",\"runs\":\(runs),\"writers\":\(writers),\"results\":[\(entries.joined(separator: ","))]}")
        } else {
            Output.line("PostgreSQL at \(base.host):\(base.port), median of \(runs) runs:")
            for figure in figures { Output.line(figure.line(baseline: baseline)) }
        }
    }

    /// Plain PostgreSQL on the same server and schema: one-row `INSERT` transactions (each
    /// its own commit) from `writers` connections, as many rows as the single-event figure.
    private func postgresBaseline(_ configuration: PostgresEventStore.Configuration) async throws -> Double {
        var clientConfiguration = configuration.clientConfiguration
        clientConfiguration.options.maximumConnections = writers
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: StoreOptions.logger)
        let rows = singleEvents, writers = writers, logger = StoreOptions.logger
        return try await withThrowingTaskGroup(of: Double?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            try await client.query("CREATE TABLE baseline (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)", logger: logger)
            let payload = #"{"index":1,"text":"a short payload of about forty bytes...."}"#
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
    }
}
