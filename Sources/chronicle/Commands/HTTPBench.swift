import AsyncHTTPClient
import ChronicleCore
import ChronicleServer
import ChronicleSQLite
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The HTTP figures of `chronicle bench --http`: a real server on a loopback port over a
/// fresh durable store, driven by a real HTTP client and a real WebSocket client in the
/// same process (so client and server share the machine's cores, as they would on one box).
struct HTTPBench {
    let connections: Int
    let events: Int
    let pushRate: Int
    let pushEvents: Int

    struct Result {
        var eventsPerSecond: Double
        var pushLatencies: [Duration]
    }

    func run(directory: String, logger: Logger) async throws -> Result {
        let store = try SQLiteEventStore(directory: directory, logger: logger)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = http.shutdown() as EventLoopFuture<Void> }
        let server = ChronicleServer(store: store, configuration: .init(port: 0), logger: logger)
        return try await withBenchServer(server, logger: logger) { port in
            let base = "http://127.0.0.1:\(port)"
            let throughput = try await appendThroughput(http: http, base: base)
            let latencies = try await pushLatency(http: http, base: base, port: port, logger: logger)
            return Result(eventsPerSecond: throughput, pushLatencies: latencies)
        }
    }

    private static func post(_ http: HTTPClient, _ url: String, _ body: String) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await http.execute(request, timeout: .seconds(60))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .created else {
            throw CommandFailure(message: "bench: the server answered \(response.status.code) to an append")
        }
    }

    /// Single-event POSTs from `connections` concurrent clients, each to its own streams.
    private func appendThroughput(http: HTTPClient, base: String) async throws -> Double {
        let perConnection = max(1, events / connections)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in 0..<connections {
                group.addTask {
                    for index in 0..<perConnection {
                        try await Self.post(http, "\(base)/v1/streams/http-\(connection)x\(index)", #"{"type":"BenchmarkEvent","data":{"index":\#(index),"text":"a short payload of about forty bytes...."}}"#)
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(perConnection * connections) / (ContinuousClock.now - start).seconds
    }

    /// Appends at `pushRate` events/s while a WebSocket subscriber measures, for each event,
    /// the time from just before its POST to its arrival on the socket.
    private func pushLatency(http: HTTPClient, base: String, port: Int, logger: Logger) async throws -> [Duration] {
        let timings = PushTimings()
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Void.self)
        let total = pushEvents
        let rate = pushRate
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/v1/ws?after=end&category=push", logger: logger) { inbound, _, _ in
                    readyContinuation.yield()
                    var received = 0
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message, case .event(let event)? = try? JSONDecoder().decode(FeedMessage.self, from: Data(text.utf8)),
                              case .integer(let index)? = event.event.data["index"] else { continue }
                        let now = ContinuousClock.now
                        timings.received(Int(index), at: now)
                        received += 1
                        if received == total { break }
                    }
                }
            }
            var iterator = ready.makeAsyncIterator()
            _ = await iterator.next()
            // Give the subscription time to reach the head before the paced appends start.
            try await Task.sleep(for: .milliseconds(200))
            let interval = Duration.nanoseconds(1_000_000_000 / Int64(rate))
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { senders in
                for index in 0..<total {
                    let due = start + interval * index
                    try await Task.sleep(until: due, clock: .continuous)
                    senders.addTask {
                        timings.sending(index)
                        try await Self.post(http, "\(base)/v1/streams/push-\(index % 64)", #"{"type":"Pushed","data":{"index":\#(index)}}"#)
                    }
                }
                try await senders.waitForAll()
            }
            try await group.waitForAll()
        }
        return timings.latencies
    }
}

/// Send times and latencies, shared by the sending tasks and the WebSocket reader.
final class PushTimings: Sendable {
    private let sent = Mutex<[Int: ContinuousClock.Instant]>([:])
    private let measured = Mutex<[Duration]>([])

    func sending(_ index: Int) {
        sent.withLock { $0[index] = ContinuousClock.now }
    }

    func received(_ index: Int, at instant: ContinuousClock.Instant) {
        if let start = sent.withLock({ $0[index] }) {
            measured.withLock { $0.append(instant - start) }
        }
    }

    var latencies: [Duration] { measured.withLock { $0 } }
}

/// Runs `server` on a free loopback port for `body`, then shuts it down gracefully.
func withBenchServer<T: Sendable>(_ server: ChronicleServer, logger: Logger, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> T {
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let listening = ChronicleServer(copying: server) { portContinuation.yield($0) }
    return try await withServices([listening], logger: logger) {
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CommandFailure(message: "bench: the server did not start") }
        return try await body(port)
    }
}

extension Array where Element == Duration {
    /// The value below which `fraction` of the sorted values fall.
    func percentile(_ fraction: Double) -> Duration {
        guard !isEmpty else { return .zero }
        let sorted = self.sorted()
        return sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }
}
