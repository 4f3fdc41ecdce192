import ChronicleCore
import ChroniclePostgres
import Foundation

extension Bench {
    /// `bench --postgres URL`: the append, read and scan figures on the PostgreSQL store,
    /// each run in a fresh schema that is dropped afterwards. There is no baseline ratio:
    /// the figures depend on the server as much as on Chronicle.
    func runPostgres(url: String) async throws {
        let base = try PostgresEventStore.Configuration(url: url)
        var figures = [
            Figure(name: "append-single", description: "single-event appends to distinct streams, \(writers) writers"),
            Figure(name: "append-batch", description: "appends of 100 events, \(writers) writers"),
            Figure(name: "read-stream", description: "reading one stream of 1,000 events"),
            Figure(name: "scan-log", description: "scanning the whole log in pages of 1,000"),
        ]
        for run in 1...runs {
            var configuration = base
            configuration.schema = "chronicle_bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let samples: ([Double], (commits: Int, operations: Int))
            do {
                samples = try await PostgresEventStore.withStore(configuration: configuration, logger: StoreOptions.logger) { store in
                    let single = try await appendSingle(store)
                    let statistics = store.groupCommitStatistics
                    return ([single, try await appendBatch(store), try await readStream(store), try await scanLog(store)], statistics)
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
        if json {
            let entries = figures.map { figure in
                "{\"name\":\(figure.name.jsonQuoted),\"description\":\(figure.description.jsonQuoted),\"eventsPerSecond\":\(Int(figure.median)),\"samples\":[\(figure.samples.map { String(Int($0)) }.joined(separator: ","))]}"
            }
            Output.line("{\"backend\":\"postgres\",\"runs\":\(runs),\"writers\":\(writers),\"results\":[\(entries.joined(separator: ","))]}")
        } else {
            Output.line("PostgreSQL at \(base.host):\(base.port), median of \(runs) runs:")
            for figure in figures {
                let padded = figure.name.padding(toLength: 24, withPad: " ", startingAt: 0)
                Output.line("  \(padded) \(String(Int(figure.median)).leftPad(10)) events/s  \(figure.description)")
            }
        }
    }
}
