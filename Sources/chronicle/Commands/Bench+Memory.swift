import Foundation

extension Bench {
    /// The median and range of a figure's runs.
    static func summary(_ values: [Double]) -> (median: Double, low: Double, high: Double) {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return (0, 0, 0) }
        let median = sorted.count.isMultiple(of: 2) ? (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2 : sorted[sorted.count / 2]
        return (median, sorted[0], sorted[sorted.count - 1])
    }

    /// What `bench --memory-store --json` prints.
    struct MemoryReport: Encodable {
        struct Figure: Encodable {
            var name: String
            var description: String
            var unit: String
            var median: Double
            var min: Double
            var max: Double
            /// The figure of the same runs this one is a ratio to, and the ratio of the medians.
            var baseline: String?
            var ratio: Double?
        }

        var backend = "sqlite"
        var store: String
        /// Events stored when the runs began; `filledEvents` of them written by the fill, the
        /// rest by earlier runs' loads.
        var storeEvents: Int
        var filledEvents: Int
        var storeBytes: Int64
        var baselineEvents: Int
        var runs: Int
        var windowSeconds: Int
        var connections: Int
        var results: [Figure]
    }

    /// `bench --memory-store PATH`: the figures of ``MemoryBench``, per run and as medians with
    /// their range.
    func runMemory(_ directory: String) async throws {
        let bench = MemoryBench(directory: directory, events: memoryEvents, window: .seconds(memorySeconds), connections: connections)
        let store = try await bench.prepare(logger: StoreOptions.logger)
        let stored = store.head
        var results: [MemoryBench.Result] = []
        let mebibytes = { (bytes: Int64) in Double(bytes) / 1_048_576 }
        for run in 1...runs {
            let result = try await bench.run(store, logger: StoreOptions.logger)
            results.append(result)
            Output.progress("memory run \(run)/\(runs): peak RSS \(String(format: "%.1f", mebibytes(result.large.peakBytes))) MiB serving \(stored) events (\(Int(result.large.requestsPerSecond)) requests/s) vs \(String(format: "%.1f", mebibytes(result.baseline.peakBytes))) MiB serving \(MemoryBench.baselineEvents) (\(Int(result.baseline.requestsPerSecond)) requests/s)")
        }
        func figure(_ name: String, _ description: String, unit: String, baseline: String? = nil, _ value: (MemoryBench.Result) -> Double) -> MemoryReport.Figure {
            let s = Self.summary(results.map(value))
            return .init(name: name, description: description, unit: unit, median: s.median, min: s.low, max: s.high, baseline: baseline)
        }
        var figures = [
            figure("rss-serving", "peak resident set of chronicle serve on the \(stored)-event store under load (VmHWM)", unit: "MiB", baseline: "baseline-rss-serving") { mebibytes($0.large.peakBytes) },
            figure("rss-ready", "resident set of the same server when it first answers /health/ready", unit: "MiB") { mebibytes($0.large.readyBytes) },
            figure("rss-anonymous", "of the resident set after the load, what is not file pages (RssAnon)", unit: "MiB") { mebibytes($0.large.anonymousBytes) },
            figure("requests-serving", "requests answered under load, \(connections) connections (entity, stream page, log page, list, append)", unit: "requests/s", baseline: "baseline-requests-serving") { $0.large.requestsPerSecond },
            figure("baseline-rss-serving", "the same server, load and schema on a \(MemoryBench.baselineEvents)-event store (VmHWM)", unit: "MiB") { mebibytes($0.baseline.peakBytes) },
            figure("baseline-requests-serving", "requests answered by that server", unit: "requests/s") { $0.baseline.requestsPerSecond },
        ]
        for index in figures.indices {
            if let baseline = figures[index].baseline, let other = figures.first(where: { $0.name == baseline }), other.median > 0 {
                figures[index].ratio = figures[index].median / other.median
            }
        }
        if json {
            try Output.json(MemoryReport(store: bench.storeDirectory, storeEvents: stored, filledEvents: store.filled, storeBytes: store.bytes, baselineEvents: MemoryBench.baselineEvents, runs: runs, windowSeconds: memorySeconds, connections: connections, results: figures))
        } else {
            Output.line("SQLite, chronicle serve on \(stored) events (\(String(format: "%.0f", mebibytes(store.bytes))) MiB on disk) with the read models of a user schema, \(memorySeconds) s of load per run; median of \(runs) runs (min-max):")
            for figure in figures {
                let ratio = figure.ratio.map { "  " + String(format: "%.2f", $0) + "x " + (figure.baseline ?? "") } ?? ""
                Output.line("  \(figure.name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%10.1f", figure.median)) \(figure.unit.padding(toLength: 10, withPad: " ", startingAt: 0)) (\(String(format: "%.1f", figure.min))-\(String(format: "%.1f", figure.max)))\(ratio)")
            }
        }
    }
}
