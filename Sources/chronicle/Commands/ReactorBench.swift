import AsyncHTTPClient
import ChronicleCore
import ChronicleReactors
import ChronicleSQLite
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The reactor figures of `chronicle bench --reactors`: webhook delivery throughput to a real
/// receiver on loopback (strict log order, and `concurrency` streams at once), against a
/// baseline of plain HTTP POSTs to the same receiver from the same number of clients; and
/// the latency from an append to the webhook call, at a steady rate.
struct ReactorBench {
    let events: Int
    let concurrency: Int
    let rate: Int
    let latencyEvents: Int

    struct Result {
        var serialPerSecond: Double
        var concurrentPerSecond: Double
        var baselinePerSecond: Double
        var latencies: [Duration]
    }

    /// Counts the calls and notes when each idempotency key first arrived.
    final class Receiver: Sendable {
        private let state = Mutex<(calls: Int, arrivals: [String: ContinuousClock.Instant])>((0, [:]))
        var calls: Int { state.withLock { $0.calls } }
        func arrived(_ key: String) {
            let now = ContinuousClock.now
            state.withLock { state in
                state.calls += 1
                if state.arrivals[key] == nil { state.arrivals[key] = now }
            }
        }
        func arrival(_ key: String) -> ContinuousClock.Instant? { state.withLock { $0.arrivals[key] } }
    }

    func run(directory: String, durability: SQLiteEventStore.Configuration.Durability, logger: Logger, progress: (String) -> Void) async throws -> Result {
        let store = try SQLiteEventStore(directory: directory, configuration: .init(durability: durability), logger: logger)
        for start in stride(from: 0, to: events, by: 100) {
            try await store.append(AppendRequest((start..<min(events, start + 100)).map { index in
                .init(stream: try! StreamName("order-\(index % 1000)"), events: [EventData(type: "OrderPlaced", data: ["index": .integer(Int64(index))])])
            }))
        }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(concurrency, 8)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = http.shutdown() as EventLoopFuture<Void> }
        let receiver = Receiver()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            receiver.arrived(request.headers[HTTPField.Name("Idempotency-Key")!] ?? "")
            return Response(status: .noContent)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        return try await withServices([app], logger: logger) {
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CommandFailure(message: "bench: the receiver did not start") }
            let url = "http://127.0.0.1:\(port)/hook"
            let head = try await store.headPosition()
            let baseline = try await plainPosts(http: http, url: url)
            progress("reactors: baseline \(Int(baseline)) POSTs/s")
            let serial = try await drain(store: store, head: head, reactor: Reactor(name: "serial", startsAtBeginning: true, concurrency: 1, handler: Webhook(url: url).handler(client: http)), logger: logger)
            progress("reactors: \(Int(serial)) deliveries/s in log order")
            let concurrent = try await drain(store: store, head: head, reactor: Reactor(name: "concurrent", startsAtBeginning: true, concurrency: concurrency, handler: Webhook(url: url).handler(client: http)), logger: logger)
            progress("reactors: \(Int(concurrent)) deliveries/s, \(concurrency) streams at once")
            let latencies = try await latency(store: store, receiver: receiver, reactor: Reactor(name: "latency", concurrency: concurrency, handler: Webhook(url: url).handler(client: http)), logger: logger)
            return Result(serialPerSecond: serial, concurrentPerSecond: concurrent, baselinePerSecond: baseline, latencies: latencies)
        }
    }

    /// POSTs of an event-sized body from `concurrency` clients, no store involved.
    private func plainPosts(http: HTTPClient, url: String) async throws -> Double {
        let body = #"{"id":"0190f3c2-0000-7000-8000-000000000000","stream":"order-1","type":"OrderPlaced","revision":0,"position":1,"recordedAt":"2026-01-01T00:00:00.000000Z","data":{"index":1},"metadata":{},"hash":"00"}"#
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<concurrency {
                group.addTask {
                    for index in stride(from: client, to: events, by: concurrency) {
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Idempotency-Key", value: "baseline:\(index)")
                        request.body = .bytes(ByteBuffer(string: body))
                        let response = try await http.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(events) / (ContinuousClock.now - started).seconds
    }

    /// Runs `reactor` from the beginning until its checkpoint reaches `head`; deliveries per second.
    private func drain(store: SQLiteEventStore, head: Int64, reactor: Reactor, logger: Logger) async throws -> Double {
        let started = ContinuousClock.now
        try await withServices([ReactorRunner(store: store, reactor: reactor, logger: logger)], logger: logger) {
            try await Self.until(seconds: 600, "the \(reactor.name) reactor to catch up") { try await store.reactorPosition(reactor.name) ?? 0 >= head }
        }
        let seconds = (ContinuousClock.now - started).seconds
        let delivered = reactor.statistics.snapshot.delivered
        guard delivered >= events else { throw CommandFailure(message: "bench: the \(reactor.name) reactor delivered \(delivered) of \(events) events") }
        return Double(events) / seconds
    }

    /// Appends one event at a time at `rate` with a reactor following; append start → webhook call.
    private func latency(store: SQLiteEventStore, receiver: Receiver, reactor: Reactor, logger: Logger) async throws -> [Duration] {
        try await withServices([ReactorRunner(store: store, reactor: reactor, logger: logger)], logger: logger) {
            try await Self.until(seconds: 60, "the latency reactor to start") { try await store.reactorPosition(reactor.name) != nil }
            var sent: [(key: String, at: ContinuousClock.Instant)] = []
            let interval = Duration.seconds(1) / rate
            var next = ContinuousClock.now
            for index in 0..<latencyEvents {
                try await Task.sleep(until: next, clock: .continuous)
                next += interval
                let id = UUID.timeOrdered()
                let at = ContinuousClock.now
                try await store.append(to: StreamName("latency-\(index % 100)"), [EventData(id: id, type: "OrderPlaced", data: ["index": .integer(Int64(index))])])
                sent.append((reactor.idempotencyKey(forEventID: id), at))
            }
            try await Self.until(seconds: 120, "every latency event to reach the receiver") { sent.allSatisfy { receiver.arrival($0.key) != nil } }
            return sent.map { receiver.arrival($0.key)! - $0.at }
        }
    }

    static func until(seconds: Double, _ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while try await !condition() {
            if ContinuousClock.now > deadline { throw CommandFailure(message: "bench: gave up waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// Runs `services` in a group for the duration of `body`, then shuts them down gracefully.
func withServices<T: Sendable>(_ services: [any Service], logger: Logger, _ body: () async throws -> T) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let value = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}
