import AsyncHTTPClient
import ChronicleCore
import ChroniclePostgres
import ChronicleServer
import ChronicleSQLite
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `chronicle bench --idle-subscribers N`: what idle subscribers cost the server. A real
/// server on a loopback port over a fresh store; first with no subscribers, then with `N`
/// idle Server-Sent Events subscribers (caught up, nothing appended), it measures, in the
/// same run:
///
/// - the process's CPU time over a fixed window with no requests (`getrusage`: user +
///   system; the idle subscribers' client side shares the process but does nothing), and
/// - the latency of plain reads (`GET /v1/streams/{stream}`, one at a time).
struct IdleSubscriberBench {
    let subscribers: Int
    let window: Duration
    let reads: Int

    struct Phase: Sendable {
        /// CPU time over the window, as a fraction of one core.
        var cpu: Double
        var latencies: [Duration]
    }

    struct Result: Sendable {
        var idle: Phase
        var subscribed: Phase
    }

    func run(directory: String, postgres: PostgresEventStore.Configuration?, logger: Logger) async throws -> Result {
        if var configuration = postgres {
            configuration.schema = "chronicle_bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            do {
                let store = try await PostgresEventStore(configuration: configuration, logger: logger)
                let result = try await withServices([store], logger: logger) { try await measure(store, logger: logger) }
                try await PostgresEventStore.dropSchema(configuration: configuration, logger: logger)
                return result
            } catch {
                try? await PostgresEventStore.dropSchema(configuration: configuration, logger: logger)
                throw error
            }
        }
        return try await measure(try SQLiteEventStore(directory: directory, logger: logger), logger: logger)
    }

    private func measure(_ store: any EventStore, logger: Logger) async throws -> Result {
        let stream = try StreamName("bench-read")
        try await store.append(to: stream, (0..<10).map { Bench.event($0) })
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = subscribers + 8
        configuration.timeout.connect = .seconds(60)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = http.shutdown() as EventLoopFuture<Void> }
        // The reads have a client of their own: a pool holding the subscribers' connections
        // would make each read pay for looking through them.
        let reader = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = reader.shutdown() as EventLoopFuture<Void> }
        let server = ChronicleServer(store: store, configuration: .init(port: 0, maximumConnections: max(ChronicleServer.Configuration.defaultMaximumConnections, subscribers + 1000), maximumConnectionsPerAddress: subscribers + 1000), logger: logger)
        let subscribers = subscribers, window = window, reads = reads
        return try await withBenchServer(server, logger: logger) { port in
            let base = "http://127.0.0.1:\(port)"
            let readURL = "\(base)/v1/streams/bench-read"
            _ = try await Self.readLatencies(reader, readURL, count: 20)  // warm up
            let idle = Phase(cpu: try await Self.cpu(over: window), latencies: try await Self.readLatencies(reader, readURL, count: reads))
            Output.progress("no subscribers: CPU \(Self.percent(idle.cpu)) %, read p50 \(Bench.milliseconds(idle.latencies.percentile(0.5))) ms; opening \(subscribers) subscribers")
            let subscribed = try await withThrowingTaskGroup(of: Void.self) { group in
                let (ready, readyContinuation) = AsyncStream.makeStream(of: Void.self)
                for _ in 0..<subscribers {
                    group.addTask {
                        let response = try await http.execute(HTTPClientRequest(url: "\(base)/v1/subscribe?after=end"), timeout: .seconds(3600))
                        guard response.status == .ok else { throw CommandFailure(message: "bench: a subscription was answered \(response.status.code)") }
                        var iterator = response.body.makeAsyncIterator()
                        _ = try await iterator.next()  // the preamble: the feed is running
                        readyContinuation.yield()
                        while try await iterator.next() != nil {}  // heartbeats, until cancelled
                    }
                }
                var opened = 0
                for await _ in ready {
                    opened += 1
                    if opened == subscribers { break }
                }
                // Let every feed read its first (empty) page and settle into waiting.
                try await Task.sleep(for: .seconds(1))
                let phase = Phase(cpu: try await Self.cpu(over: window), latencies: try await Self.readLatencies(reader, readURL, count: reads))
                group.cancelAll()
                try? await group.waitForAll()
                return phase
            }
            return Result(idle: idle, subscribed: subscribed)
        }
    }

    /// The process's CPU time (user + system) over `window`, as a fraction of one core.
    static func cpu(over window: Duration) async throws -> Double {
        func used() -> Double {
            var usage = rusage()
            #if canImport(Glibc)
            getrusage(RUSAGE_SELF.rawValue, &usage)
            #else
            getrusage(RUSAGE_SELF, &usage)
            #endif
            func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
            return seconds(usage.ru_utime) + seconds(usage.ru_stime)
        }
        let start = ContinuousClock.now, before = used()
        try await Task.sleep(for: window)
        return (used() - before) / (ContinuousClock.now - start).seconds
    }

    static func readLatencies(_ http: HTTPClient, _ url: String, count: Int) async throws -> [Duration] {
        var latencies: [Duration] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
            _ = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw CommandFailure(message: "bench: a read was answered \(response.status.code)") }
            latencies.append(ContinuousClock.now - start)
        }
        return latencies
    }

    static func percent(_ fraction: Double) -> String { String(format: "%.1f", fraction * 100) }
}

extension Bench {
    /// `bench --idle-subscribers N`: the figures of ``IdleSubscriberBench``, per run and
    /// as medians with their range.
    func runIdleSubscribers(_ count: Int) async throws {
        let postgres = try postgres.map { try PostgresEventStore.Configuration(url: $0) }
        let bench = IdleSubscriberBench(subscribers: count, window: .seconds(idleWindow), reads: idleReads)
        var results: [IdleSubscriberBench.Result] = []
        for run in 1...runs {
            let result = try await withTemporaryDirectory { directory in
                try await bench.run(directory: directory + "/idle", postgres: postgres, logger: StoreOptions.logger)
            }
            results.append(result)
            Output.progress("idle-subscribers run \(run)/\(runs): CPU \(IdleSubscriberBench.percent(result.idle.cpu)) % -> \(IdleSubscriberBench.percent(result.subscribed.cpu)) % with \(count) subscribers; read p50 \(Bench.milliseconds(result.idle.latencies.percentile(0.5))) -> \(Bench.milliseconds(result.subscribed.latencies.percentile(0.5))) ms, p99 \(Bench.milliseconds(result.idle.latencies.percentile(0.99))) -> \(Bench.milliseconds(result.subscribed.latencies.percentile(0.99))) ms")
        }
        let milliseconds: (Duration) -> Double = { $0.seconds * 1000 }
        let rows: [(String, [Double], String)] = [
            ("cpuIdlePercent", results.map { $0.idle.cpu * 100 }, "CPU, no subscribers (% of one core)"),
            ("cpuSubscribedPercent", results.map { $0.subscribed.cpu * 100 }, "CPU, \(count) idle subscribers (% of one core)"),
            ("readP50IdleMilliseconds", results.map { milliseconds($0.idle.latencies.percentile(0.5)) }, "read p50, no subscribers (ms)"),
            ("readP50SubscribedMilliseconds", results.map { milliseconds($0.subscribed.latencies.percentile(0.5)) }, "read p50, \(count) subscribers (ms)"),
            ("readP50Ratio", results.map { milliseconds($0.subscribed.latencies.percentile(0.5)) / max(0.001, milliseconds($0.idle.latencies.percentile(0.5))) }, "read p50 ratio (subscribers / none)"),
            ("readP99IdleMilliseconds", results.map { milliseconds($0.idle.latencies.percentile(0.99)) }, "read p99, no subscribers (ms)"),
            ("readP99SubscribedMilliseconds", results.map { milliseconds($0.subscribed.latencies.percentile(0.99)) }, "read p99, \(count) subscribers (ms)"),
            ("readP99Ratio", results.map { milliseconds($0.subscribed.latencies.percentile(0.99)) / max(0.001, milliseconds($0.idle.latencies.percentile(0.99))) }, "read p99 ratio (subscribers / none)"),
        ]
        let backend = postgres == nil ? "sqlite" : "postgres"
        if json {
            let members = rows.map { name, values, _ in
                let s = Self.summary(values)
                return "\(name.jsonQuoted):{\"median\":\(String(format: "%.3f", s.median)),\"min\":\(String(format: "%.3f", s.low)),\"max\":\(String(format: "%.3f", s.high))}"
            }
            Output.line("{\"backend\":\"\(backend)\",\"idleSubscribers\":\(count),\"runs\":\(runs),\"windowSeconds\":\(idleWindow),\"reads\":\(idleReads),\(members.joined(separator: ","))}")
        } else {
            Output.line("\(backend == "sqlite" ? "SQLite" : "PostgreSQL"), \(count) idle SSE subscribers, CPU over \(idleWindow) s, \(idleReads) reads per phase; median of \(runs) runs (min-max):")
            for (_, values, description) in rows {
                let s = Self.summary(values)
                Output.line("  \(description.padding(toLength: 46, withPad: " ", startingAt: 0)) \(String(format: "%9.2f", s.median))  (\(String(format: "%.2f", s.low))-\(String(format: "%.2f", s.high)))")
            }
        }
    }
}
