import ArgumentParser
import ChronicleCore
import ChroniclePostgres
import ChronicleReactors
import ChronicleSQLite
import Foundation
import GRDB

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure appends, stream reads and log scans on a fresh temporary store.",
        discussion: """
            Each figure is the median of --runs runs, each on a new store in a temporary directory. \
            The baselines are plain SQLite on the same disk, measured in the same run with the same \
            durability: one-row transactions from one writer (baseline-sqlite-commit), transactions \
            of 100 rows (baseline-batch) and a primary-key range scan of them in pages of 1,000 \
            (baseline-scan); each figure is also a ratio to its own raw counterpart, so figures \
            can be compared across machines and days. bytes-per-event is what the events take on \
            disk (every table and index) against payload-bytes-per-event, their data.
            """
    )

    @Option(help: "Concurrent writers for the append benchmarks.")
    var writers: Int = 64

    @Option(help: "Events per run of the single-event append benchmark.")
    var singleEvents: Int = 20_000

    @Option(help: "Events per run of the 100-events-per-append benchmark.")
    var batchEvents: Int = 200_000

    @Option(help: "Runs per benchmark; the median is reported.")
    var runs: Int = 5

    @Option(help: "full (fsync every commit) or lossy-on-power-failure.")
    var durability: String = "full"

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: ArgumentHelp("Measure the PostgreSQL store at this URL instead (postgres://USER:PASSWORD@HOST:PORT/DATABASE); each run uses a fresh schema, dropped after.", valueName: "url"))
    var postgres: String?

    @Flag(help: "Also measure the HTTP server: single-event POSTs from --connections clients, and append-to-WebSocket push latency at --push-rate events/s.")
    var http = false

    @Flag(help: "Also measure read models: rebuilding a merge-style projection over --projection-events events, and entity GET latency.")
    var projections = false

    @Flag(help: "Also measure reactors: webhook deliveries to a receiver on loopback (in log order, and --reactor-concurrency streams at once) against plain POSTs, and append-to-webhook latency at --reactor-rate events/s.")
    var reactors = false

    @Flag(help: "Also measure DCB: conditional single-event appends (a condition on two tags, --writers writers), the same after --dcb-prefill tagged events are stored, and reading by a two-tag query.")
    var dcb = false

    @Flag(help: "Also measure personal fields: the same single-event (--single-events, --writers) and 100-event (--batch-events) appends to a schema with personal fields and to the same schema without, in the same run; the ratio is the cost of sealing.")
    var personal = false

    @Option(help: "Conditional appends per measurement of --dcb.")
    var dcbEvents: Int = 20_000

    @Option(help: "Tagged events stored before the second measurement of --dcb.")
    var dcbPrefill: Int = 1_000_000

    @Option(help: "Events delivered per run of --reactors.")
    var reactorEvents: Int = 10_000

    @Option(help: "Streams delivered at once by --reactors.")
    var reactorConcurrency: Int = Reactor.defaultConcurrency

    @Option(help: "Appends per second while measuring append-to-webhook latency (--reactors).")
    var reactorRate: Int = 500

    @Option(help: "Events sent while measuring append-to-webhook latency (--reactors).")
    var reactorLatencyEvents: Int = 2_000

    @Option(help: "Events in the log rebuilt by --projections.")
    var projectionEvents: Int = 1_000_000

    @Option(help: "Concurrent HTTP connections for --http and --memory-store.")
    var connections: Int = 64

    @Option(help: "Events per run of the HTTP append benchmark.")
    var httpEvents: Int = 20_000

    @Option(help: "Appends per second while measuring push latency (--http).")
    var pushRate: Int = 5000

    @Option(help: "Events sent while measuring push latency (--http).")
    var pushEvents: Int = 10_000

    @Option(help: ArgumentHelp("Measure only what idle subscribers cost: server CPU and plain-read latency with no subscribers, then with this many idle SSE subscribers.", valueName: "n"))
    var idleSubscribers: Int?

    @Option(help: ArgumentHelp("Measure only the server's memory: build (once; later runs reuse it) a store of --memory-events events with the read models of a user schema in this directory, then, per run, start chronicle serve on a 1,000-event store and on it, load each for --memory-seconds from --connections clients (entity gets, stream and log pages, lists, appends), and report their peak resident sets.", valueName: "path"))
    var memoryStore: String?

    @Option(help: "Events in the store of --memory-store.")
    var memoryEvents: Int = 10_000_000

    @Option(help: "Seconds of load per server of --memory-store.")
    var memorySeconds: Int = 10

    @Option(help: "Seconds of CPU measured per phase of --idle-subscribers.")
    var idleWindow: Int = 5

    @Option(help: "Plain reads timed per phase of --idle-subscribers.")
    var idleReads: Int = 300

    func validate() throws {
        if writers < 1 { throw ValidationError("--writers must be 1 or more.") }
        if runs < 1 { throw ValidationError("--runs must be 1 or more.") }
        if singleEvents < writers { throw ValidationError("--single-events must be at least --writers.") }
        if batchEvents < 100 { throw ValidationError("--batch-events must be at least 100.") }
        if connections < 1 || httpEvents < connections { throw ValidationError("--connections must be 1 or more, and --http-events at least --connections.") }
        if projectionEvents < 1000 { throw ValidationError("--projection-events must be at least 1000.") }
        if reactorEvents < 100 || reactorConcurrency < 1 || reactorRate < 1 || reactorLatencyEvents < 1 {
            throw ValidationError("--reactor-events must be at least 100; --reactor-concurrency, --reactor-rate and --reactor-latency-events 1 or more.")
        }
        if let idleSubscribers, idleSubscribers < 1 || idleWindow < 1 || idleReads < 1 {
            throw ValidationError("--idle-subscribers, --idle-window and --idle-reads must be 1 or more.")
        }
        if memoryStore != nil {
            if memoryEvents < MemoryBench.baselineEvents || memorySeconds < 1 { throw ValidationError("--memory-events must be at least \(MemoryBench.baselineEvents), and --memory-seconds 1 or more.") }
            if postgres != nil { throw ValidationError("--memory-store measures the SQLite store; it is not available with --postgres.") }
        }
        if pushRate < 1 || pushEvents < 1 { throw ValidationError("--push-rate and --push-events must be 1 or more.") }
        if dcbEvents < writers || dcbPrefill < 0 { throw ValidationError("--dcb-events must be at least --writers, and --dcb-prefill 0 or more.") }
        if let postgres {
            do {
                _ = try PostgresEventStore.Configuration(url: postgres)
            } catch let error as ChronicleError {
                throw ValidationError(error.message)
            }
            if http || projections { throw ValidationError("--http and --projections are not available with --postgres yet.") }
        }
        if SQLiteEventStore.Configuration.Durability(rawValue: durability) == nil {
            throw ValidationError("--durability must be full or lossy-on-power-failure.")
        }
    }

    struct Figure {
        let name: String
        let description: String
        var samples: [Double] = []
        /// The name of the raw figure of the same run this one is a ratio to, if any.
        var baseline: String? = nil
        var median: Double { Bench.summary(samples).median }

        /// The figure as an object of the `--json` output.
        /// `baseline` is the one-row baseline's median; `figures` the run's figures, among
        /// them this one's own ``baseline``.
        func json(baseline: Double, in figures: [Figure]) -> String {
            let own = ownBaseline(in: figures).map { ",\"baseline\":\($0.name.jsonQuoted),\"ratio\":\(String(format: "%.2f", median / $0.median))" } ?? ""
            return "{\"name\":\(name.jsonQuoted),\"description\":\(description.jsonQuoted),\"eventsPerSecond\":\(Int(median)),\"ratioToBaseline\":\(String(format: "%.2f", median / baseline))\(own),\"samples\":[\(samples.map { String(Int($0)) }.joined(separator: ","))]}"
        }

        /// The figure as a row of the table.
        func line(baseline: Double, in figures: [Figure]) -> String {
            let own = ownBaseline(in: figures).map { String(format: "; %.2fx ", median / $0.median) + $0.name } ?? ""
            return "  \(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(Int(median)).leftPad(10)) events/s  (\(String(format: "%6.2f", median / baseline))x baseline\(own))  \(description)"
        }

        private func ownBaseline(in figures: [Figure]) -> Figure? {
            guard let baseline, let figure = figures.first(where: { $0.name == baseline }), figure.median > 0 else { return nil }
            return figure
        }
    }

    /// A latency summary as a member of the `--json` output.
    static func latencyJSON(_ name: String, rate: Int, _ latencies: [Duration]) -> String {
        ",\"\(name)\":{\"rate\":\(rate),\"events\":\(latencies.count),\"p50Milliseconds\":\(milliseconds(latencies.percentile(0.5))),\"p99Milliseconds\":\(milliseconds(latencies.percentile(0.99)))}"
    }

    func run() async throws {
        if let idleSubscribers {
            return try await runIdleSubscribers(idleSubscribers)
        }
        if let memoryStore {
            return try await runMemory(memoryStore)
        }
        if let postgres {
            return try await runPostgres(url: postgres)
        }
        let configuration = SQLiteEventStore.Configuration(durability: .init(rawValue: durability)!)
        var figures = [
            Figure(name: "append-single", description: "single-event appends to distinct streams, \(writers) writers", baseline: "baseline-sqlite-commit"),
            Figure(name: "append-batch", description: "appends of 100 events, \(writers) writers", baseline: "baseline-batch"),
            Figure(name: "read-stream", description: "reading one stream of 1,000 events", baseline: "baseline-scan"),
            Figure(name: "scan-log", description: "scanning the whole log in pages of 1,000", baseline: "baseline-scan"),
            Figure(name: "baseline-sqlite-commit", description: "plain SQLite one-row transactions, 1 writer"),
            Figure(name: "baseline-batch", description: "plain SQLite transactions of 100 rows (\(batchEvents) rows), 1 writer"),
            Figure(name: "baseline-scan", description: "plain SQLite primary-key range scan of those rows, pages of 1,000"),
        ]
        var storage = Storage()
        for run in 1...runs {
            try await withTemporaryDirectory { directory in
                let store = try SQLiteEventStore(directory: directory + "/store", configuration: configuration, logger: StoreOptions.logger)
                var started = ContinuousClock.now
                figures[0].samples.append(try await appendSingle(store))
                let afterSingle = store.commitStatistics
                let singleBusy = afterSingle.busy.seconds / (ContinuousClock.now - started).seconds
                started = ContinuousClock.now
                figures[1].samples.append(try await appendBatch(store))
                let batchBusy = (store.commitStatistics.busy - afterSingle.busy).seconds / (ContinuousClock.now - started).seconds
                figures[2].samples.append(try await readStream(store))
                let scan = try await scanLog(store)
                figures[3].samples.append(scan.rate)
                storage.record(storedBytes: try await store.storageBytes().values.reduce(0, +), events: scan.events, payloadBytes: scan.payloadBytes)
                figures[4].samples.append(try measureBaseline(directory + "/baseline.sqlite", durability: configuration.durability))
                figures[5].samples.append(try Self.sqliteBatchBaseline(directory + "/baseline-batch.sqlite", durability: configuration.durability, rows: batchEvents))
                figures[6].samples.append(try Self.sqliteScanBaseline(directory + "/baseline-batch.sqlite"))
                Output.progress("run \(run)/\(runs): " + figures.map { "\($0.name) \(Int($0.samples.last!)) events/s" }.joined(separator: ", ") + "; single-event appends: \(String(format: "%.1f", Double(afterSingle.operations) / Double(max(1, afterSingle.commits)))) per group commit, writer busy \(Int(singleBusy * 100))%; batch appends: writer busy \(Int(batchBusy * 100))%")
            }
        }
        var latencies: [Duration] = []
        if http {
            let httpIndex = figures.count
            figures.append(Figure(name: "http-append-single", description: "single-event POSTs to distinct streams, \(connections) connections"))
            let bench = HTTPBench(connections: connections, events: httpEvents, pushRate: pushRate, pushEvents: pushEvents)
            for run in 1...runs {
                let result = try await withTemporaryDirectory { directory in
                    try await bench.run(directory: directory + "/http", logger: StoreOptions.logger)
                }
                figures[httpIndex].samples.append(result.eventsPerSecond)
                latencies += result.pushLatencies
                Output.progress("http run \(run)/\(runs): \(Int(result.eventsPerSecond)) events/s; push latency p50 \(Self.milliseconds(result.pushLatencies.percentile(0.5))) ms, p99 \(Self.milliseconds(result.pushLatencies.percentile(0.99))) ms over \(result.pushLatencies.count) events")
            }
        }
        var storeReads: [Duration] = [], httpReads: [Duration] = []
        var temporal = ProjectionBench.TemporalReads()
        var fanOutRatios: [Double] = []
        if projections {
            figures.append(Figure(name: "projection-rebuild", description: "rebuilding a merge-style projection over \(projectionEvents) events"))
            figures.append(Figure(name: "projection-fanout", description: "the same log, each event changing three entities (user, list by each:, team by id:)"))
            figures.append(Figure(name: "inline-append-batch", description: "appends of 100 events to one user, \(writers) writers, folded into the read model as they are appended", baseline: "schemaless-append-batch"))
            figures.append(Figure(name: "schemaless-append-batch", description: "the same appends to a store without a schema"))
            let bench = ProjectionBench(events: projectionEvents, entities: 1000, reads: 2000)
            for run in 1...runs {
                let appends = try await withTemporaryDirectory { directory in
                    try await ProjectionBench.appendBatches(directory: directory, events: batchEvents, writers: writers, durability: configuration.durability, logger: StoreOptions.logger)
                }
                figures[figures.count - 2].samples.append(appends.inline)
                figures[figures.count - 1].samples.append(appends.schemaless)
                let result = try await withTemporaryDirectory { directory in
                    try await bench.run(directory: directory + "/projections", logger: StoreOptions.logger) { Output.progress($0) }
                }
                figures[figures.count - 4].samples.append(result.rebuildEventsPerSecond)
                figures[figures.count - 3].samples.append(result.fanOutRebuildEventsPerSecond)
                fanOutRatios.append(result.fanOutRebuildEventsPerSecond / result.rebuildEventsPerSecond)
                storeReads += result.storeLatencies
                httpReads += result.httpLatencies
                temporal.merge(result.temporal)
                Output.progress("projections run \(run)/\(runs): inline appends of 100 \(Int(appends.inline)) events/s (\(Int(appends.schemaless)) without the schema), rebuild \(Int(result.rebuildEventsPerSecond)) events/s, fan-out \(Int(result.fanOutRebuildEventsPerSecond)) events/s; GET entity p50 \(Self.milliseconds(result.httpLatencies.percentile(0.5))) ms, p99 \(Self.milliseconds(result.httpLatencies.percentile(0.99))) ms")
            }
        }
        if dcb {
            let first = figures.count
            figures += Self.dcbFigures(writers: writers, prefill: dcbPrefill)
            let bench = DCBBench(events: dcbEvents, writers: writers, prefill: dcbPrefill)
            for run in 1...runs {
                let (result, statistics) = try await withTemporaryDirectory { directory in
                    let store = try SQLiteEventStore(directory: directory + "/dcb", configuration: configuration, logger: StoreOptions.logger)
                    return (try await bench.run(store) { Output.progress($0) }, store.commitStatistics)
                }
                figures[first].samples.append(result.conditional)
                figures[first + 1].samples.append(result.conditionalFull)
                figures[first + 2].samples.append(result.query)
                figures[first + 3].samples.append(result.rareQuery)
                Output.progress("dcb run \(run)/\(runs): conditional appends \(Int(result.conditional)) / \(Int(result.conditionalFull)) events/s (empty / full), query reads \(Int(result.query)) events/s, \(Int(result.rareQuery)) with a rare tag; \(String(format: "%.1f", Double(statistics.operations) / Double(max(1, statistics.commits)))) appends per group commit (prefill included)")
            }
        }
        var personalRatios: (single: [Double], batch: [Double], known: [Double]) = ([], [], [])
        if personal {
            let first = figures.count
            figures.append(Figure(name: "personal-append-single", description: "single-event appends, 2 of 4 fields personal (sealed), \(writers) writers"))
            figures.append(Figure(name: "plain-append-single", description: "the same appends, the same schema without personal fields"))
            figures.append(Figure(name: "personal-append-batch", description: "appends of 100 events, 2 of 4 fields personal, \(writers) writers"))
            figures.append(Figure(name: "plain-append-batch", description: "the same appends, the same schema without personal fields"))
            figures.append(Figure(name: "personal-append-known", description: "single-event appends to \(writers) people who have a key, 2 of 4 fields personal"))
            figures.append(Figure(name: "plain-append-known", description: "the same appends, the same schema without personal fields"))
            let bench = PersonalBench(singleEvents: singleEvents, batchEvents: batchEvents, writers: writers)
            for run in 1...runs {
                let result = try await withTemporaryDirectory { directory in
                    try await bench.run(directory: directory + "/personal", durability: configuration.durability, personalFirst: run % 2 == 1, logger: StoreOptions.logger)
                }
                figures[first].samples.append(result.personalSingle)
                figures[first + 1].samples.append(result.plainSingle)
                figures[first + 2].samples.append(result.personalBatch)
                figures[first + 3].samples.append(result.plainBatch)
                figures[first + 4].samples.append(result.personalKnown)
                figures[first + 5].samples.append(result.plainKnown)
                personalRatios.single.append(result.personalSingle / result.plainSingle)
                personalRatios.batch.append(result.personalBatch / result.plainBatch)
                personalRatios.known.append(result.personalKnown / result.plainKnown)
                Output.progress("personal run \(run)/\(runs): single to new people \(Int(result.personalSingle)) / \(Int(result.plainSingle)) events/s, to known people \(Int(result.personalKnown)) / \(Int(result.plainKnown)), batch \(Int(result.personalBatch)) / \(Int(result.plainBatch)) events/s (personal / plain)")
            }
        }
        var webhookLatencies: [Duration] = []
        if reactors {
            let serialIndex = figures.count
            figures.append(Figure(name: "reactor-serial", description: "webhook deliveries in log order (concurrency 1)"))
            figures.append(Figure(name: "reactor-concurrent", description: "webhook deliveries, \(reactorConcurrency) streams at once"))
            figures.append(Figure(name: "baseline-http-post", description: "plain POSTs to the same receiver, \(reactorConcurrency) clients, no store"))
            let bench = ReactorBench(events: reactorEvents, concurrency: reactorConcurrency, rate: reactorRate, latencyEvents: reactorLatencyEvents)
            for run in 1...runs {
                let result = try await withTemporaryDirectory { directory in
                    try await bench.run(directory: directory + "/reactors", durability: configuration.durability, logger: StoreOptions.logger) { Output.progress($0) }
                }
                figures[serialIndex].samples.append(result.serialPerSecond)
                figures[serialIndex + 1].samples.append(result.concurrentPerSecond)
                figures[serialIndex + 2].samples.append(result.baselinePerSecond)
                webhookLatencies += result.latencies
                Output.progress("reactors run \(run)/\(runs): \(Int(result.serialPerSecond)) / \(Int(result.concurrentPerSecond)) deliveries/s (baseline \(Int(result.baselinePerSecond)) POSTs/s); append-to-webhook p50 \(Self.milliseconds(result.latencies.percentile(0.5))) ms, p99 \(Self.milliseconds(result.latencies.percentile(0.99))) ms")
            }
        }
        let baseline = figures[4].median
        let webhook = reactors ? Self.latencyJSON("webhookLatency", rate: reactorRate, webhookLatencies) : ""
        let entityReads = projections ? ",\"entityRead\":{\"storeP50Milliseconds\":\(Self.milliseconds(storeReads.percentile(0.5))),\"storeP99Milliseconds\":\(Self.milliseconds(storeReads.percentile(0.99))),\"httpP50Milliseconds\":\(Self.milliseconds(httpReads.percentile(0.5))),\"httpP99Milliseconds\":\(Self.milliseconds(httpReads.percentile(0.99)))}" : ""
        let push = http ? Self.latencyJSON("pushLatency", rate: pushRate, latencies) : ""
        let fanOut = Figure(name: "fanout-ratio", description: "", samples: fanOutRatios)
        let fanOutRange = String(format: "%.2f–%.2f", fanOutRatios.min() ?? 0, fanOutRatios.max() ?? 0)
        let asOf = projections ? "," + temporal.json + ",\"fanOutRebuild\":{\"ratioToSingleEntityRebuild\":\(String(format: "%.2f", fanOut.median)),\"samples\":[\(fanOutRatios.map { String(format: "%.2f", $0) }.joined(separator: ","))]}" : ""
        let single = Figure(name: "", description: "", samples: personalRatios.single), batch = Figure(name: "", description: "", samples: personalRatios.batch), known = Figure(name: "", description: "", samples: personalRatios.known)
        func ratios(_ values: [Double]) -> String { values.map { String(format: "%.2f", $0) }.joined(separator: ",") }
        let sealing = personal ? ",\"personalData\":{\"singleRatioToPlain\":\(String(format: "%.2f", single.median)),\"singleSamples\":[\(ratios(personalRatios.single))],\"batchRatioToPlain\":\(String(format: "%.2f", batch.median)),\"batchSamples\":[\(ratios(personalRatios.batch))],\"knownRatioToPlain\":\(String(format: "%.2f", known.median)),\"knownSamples\":[\(ratios(personalRatios.known))]}" : ""
        if json {
            let entries = figures.map { $0.json(baseline: baseline, in: figures) }
            Output.line("{\"backend\":\"sqlite\",\"durability\":\(durability.jsonQuoted),\"runs\":\(runs),\"writers\":\(writers),\"results\":[\(entries.joined(separator: ","))]\(storage.json)\(push)\(entityReads)\(asOf)\(webhook)\(sealing)}")
        } else {
            Output.line("SQLite, durability \(durability), median of \(runs) runs:")
            for figure in figures { Output.line(figure.line(baseline: baseline, in: figures)) }
            Output.line(storage.line)
            if projections {
                for line in temporal.lines { Output.line(line) }
                Output.line("  fan-out rebuild (one event, three entities): \(String(format: "%.2f", fanOut.median))× the single-entity rebuild of the same run (median of per-run ratios, range \(fanOutRange))")
                Output.line("  entity read latency: store p50 \(Self.milliseconds(storeReads.percentile(0.5))) ms, p99 \(Self.milliseconds(storeReads.percentile(0.99))) ms; HTTP GET p50 \(Self.milliseconds(httpReads.percentile(0.5))) ms, p99 \(Self.milliseconds(httpReads.percentile(0.99))) ms")
            }
            if personal {
                Output.line("  personal fields: single-event appends to new people \(String(format: "%.2f", single.median))× the same appends without them (per-run ratios \(ratios(personalRatios.single))), to people who have a key \(String(format: "%.2f", known.median))× (\(ratios(personalRatios.known))), appends of 100 \(String(format: "%.2f", batch.median))× (\(ratios(personalRatios.batch)))")
            }
            if reactors {
                Output.line("  append-to-webhook latency at \(reactorRate) events/s: p50 \(Self.milliseconds(webhookLatencies.percentile(0.5))) ms, p99 \(Self.milliseconds(webhookLatencies.percentile(0.99))) ms (\(webhookLatencies.count) events)")
            }
            if http {
                Output.line("  append-to-WebSocket push latency at \(pushRate) events/s: p50 \(Self.milliseconds(latencies.percentile(0.5))) ms, p99 \(Self.milliseconds(latencies.percentile(0.99))) ms (\(latencies.count) events)")
            }
        }
    }

    /// The figures of `--dcb`, in the order ``DCBBench/Result`` gives them.
    static func dcbFigures(writers: Int, prefill: Int) -> [Figure] {
        [
            Figure(name: "dcb-append-conditional", description: "conditional single-event appends (2-tag condition), \(writers) writers, empty store", baseline: "append-single"),
            Figure(name: "dcb-append-conditional-full", description: "the same after \(prefill) tagged events", baseline: "dcb-append-conditional"),
            Figure(name: "dcb-read-query", description: "reading by a 2-tag query (half of the prefilled events)", baseline: "baseline-scan"),
            Figure(name: "dcb-read-rare", description: "reading by a 2-tag query of a tag on every prefilled event and one on 1 in 1,000", baseline: "dcb-read-query"),
        ]
    }

    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.2f", duration.seconds * 1000)
    }

    static func event(_ index: Int) -> EventData {
        EventData(type: "BenchmarkEvent", data: ["index": .integer(Int64(index)), "text": "a short payload of about forty bytes...."])
    }

    func appendSingle(_ store: some EventStore) async throws -> Double {
        try await Self.appendSingle(store, events: singleEvents, writers: writers, category: "single", event: Self.event)
    }

    func appendBatch(_ store: some EventStore) async throws -> Double {
        try await Self.appendBatch(store, events: batchEvents, writers: writers, category: "batch", event: Self.event)
    }

    /// Single-event appends to distinct streams of `category` from `writers` writers; events/s.
    static func appendSingle(_ store: some EventStore, events: Int, writers: Int, category: String, idPrefix: String = "", event: @escaping @Sendable (Int) -> EventData) async throws -> Double {
        let perWriter = max(1, events / writers)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for index in 0..<perWriter {
                        try await store.append(to: StreamName("\(category)-\(idPrefix)\(writer)x\(index)"), [event(index)], expected: .noStream)
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(perWriter * writers) / (ContinuousClock.now - start).seconds
    }

    /// Appends of 100 events, one stream of `category` per writer; events/s.
    static func appendBatch(_ store: some EventStore, events: Int, writers: Int, category: String, idPrefix: String = "", event: @escaping @Sendable (Int) -> EventData) async throws -> Double {
        let calls = max(1, events / 100)
        let perWriter = max(1, calls / writers)
        let activeWriters = min(writers, calls)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<activeWriters {
                group.addTask {
                    for call in 0..<perWriter {
                        let batch = (0..<100).map { event(call * 100 + $0) }
                        try await store.append(to: StreamName("\(category)-\(idPrefix)\(writer)"), batch, expected: call == 0 ? .noStream : .exact(Int64(call * 100 - 1)))
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(perWriter * activeWriters * 100) / (ContinuousClock.now - start).seconds
    }

    func readStream(_ store: some EventStore) async throws -> Double {
        let stream = try StreamName("read-1")
        for chunk in 0..<10 {
            try await store.append(to: stream, (0..<100).map { Self.event(chunk * 100 + $0) })
        }
        let repetitions = 300
        let start = ContinuousClock.now
        var total = 0
        for _ in 0..<repetitions {
            total += try await store.read(stream, from: .start, direction: .forwards, limit: 1000).count
        }
        guard total == repetitions * 1000 else {
            throw CommandFailure(message: "bench: read \(total) events, expected \(repetitions * 1000)")
        }
        return Double(total) / (ContinuousClock.now - start).seconds
    }

    /// Scans the whole log in pages of 1,000: events/s, and how many events and bytes of data it read.
    func scanLog(_ store: some EventStore) async throws -> (rate: Double, events: Int, payloadBytes: Int) {
        let head = try await store.headPosition()
        let start = ContinuousClock.now
        var position: Int64 = 0
        var total = 0, bytes = 0
        while true {
            let page = try await store.readLog(after: position, limit: Self.baselineRowsPerPage, filter: LogFilter())
            if page.events.isEmpty { break }
            total += page.events.count
            for event in page.events { bytes += event.dataJSON.utf8.count }
            position = page.scannedThrough
        }
        guard total == Int(head) else {
            throw CommandFailure(message: "bench: scanned \(total) events, expected \(head)")
        }
        return (Double(total) / (ContinuousClock.now - start).seconds, total, bytes)
    }

    func measureBaseline(_ path: String, durability: SQLiteEventStore.Configuration.Durability) throws -> Double {
        let pool = try DatabasePool(path: path)
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
        }
        let count = 2_000
        let start = ContinuousClock.now
        for index in 0..<count {
            try pool.write { db in
                try db.execute(sql: "INSERT INTO t (data) VALUES (?)", arguments: ["{\"index\":\(index)}"])
            }
        }
        return Double(count) / (ContinuousClock.now - start).seconds
    }
}

func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-bench-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
