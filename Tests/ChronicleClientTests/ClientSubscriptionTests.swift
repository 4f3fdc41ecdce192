import AsyncHTTPClient
import ChronicleClient
import ChronicleCore
import ChronicleTestSupport
import ChronicleTesting
import Foundation
import NIOCore
import Synchronization
import Testing

/// Events a subscriber task has received so far.
final class Seen: Sendable {
    private let events = Mutex<[RecordedEvent]>([])
    func add(_ event: RecordedEvent) { events.withLock { $0.append(event) } }
    var all: [RecordedEvent] { events.withLock { $0 } }
    var count: Int { events.withLock { $0.count } }
}

/// Subscriptions: catch-up then live, resumed after a dropped connection or a server
/// restart with no gap and no duplicate.
@Suite("ChronicleClient: subscriptions that survive dropped connections")
struct ClientSubscriptionTests {
    static let patient = RetryPolicy(maximumAttempts: 1000, initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))

    func append(_ chronicle: ChronicleClient, _ range: Range<Int>) async throws {
        for index in range {
            try await chronicle.append(EventData(type: "Tick", data: ["n": .integer(Int64(index))]), to: try StreamName("clock-\(index % 3)"))
        }
    }

    @Test("a subscription survives a server restart (stop, start on the same data and port): every event once, in order")
    func serverRestart() async throws {
        let directory = freshDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try await freePort()
        let chronicle = try client(port: port, retry: Self.patient)
        let seen = Seen()
        try await withThrowingTaskGroup(of: Void.self) { group in
            try await withChronicleServer(directory: directory, port: port) { _ in
                try await append(chronicle, 0..<5)
                group.addTask {
                    for try await event in chronicle.subscribe(after: 0) { seen.add(event) }
                }
                try await poll("the subscriber to catch up") { seen.count >= 5 }
                try await append(chronicle, 5..<10)
                try await poll("the subscriber to get the live events") { seen.count >= 10 }
            }
            // Stopped: the subscriber was told (`shutdown`) and keeps trying to reconnect.
            try await withChronicleServer(directory: directory, port: port) { _ in
                try await append(chronicle, 10..<20)
                try await poll("the subscriber to resume after the restart") { seen.count >= 20 }
                try await append(chronicle, 20..<25)
                try await poll("the subscriber to follow the restarted server live") { seen.count >= 25 }
            }
            group.cancelAll()
        }
        #expect(seen.all.map(\.position) == Array(1...25), "no gap, no duplicate")
        #expect(seen.all.map { $0.data["n"] } == (0..<25).map { JSONValue.integer(Int64($0)) })
    }

    /// Subscribes to `Tick` events through a proxy of the server, waits for the first five,
    /// runs `fault` (which breaks the proxy somehow and appends more), and returns what the
    /// subscriber saw once it has ten.
    func throughFault(
        direct: ChronicleClient, port: Int, silence: Duration? = .seconds(45), _ fault: (TCPProxy) async throws -> Void
    ) async throws -> [RecordedEvent] {
        let proxy = try await TCPProxy(to: "127.0.0.1", port: port)
        let chronicle = try ChronicleClient(configuration: .init(url: "http://127.0.0.1:\(proxy.port)", retry: Self.patient, subscriptionSilenceTimeout: silence), logger: clientTestLogger)
        let seen = Seen()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await event in chronicle.subscribe(after: 0, filter: LogFilter(types: ["Tick"])) { seen.add(event) }
            }
            try await append(direct, 0..<5)
            try await poll("the subscriber to get the first events") { seen.count >= 5 }
            try await fault(proxy)
            try await poll("the subscriber to resume") { seen.count >= 10 }
            group.cancelAll()
        }
        await proxy.stop()
        return seen.all
    }

    @Test("a connection cut without warning (a proxy drops it): resumed from the last event, with the events appended meanwhile")
    func connectionCut() async throws {
        try await withClient { direct, port in
            let seen = try await throughFault(direct: direct, port: port) { proxy in
                proxy.cut()
                try await direct.append(EventData(type: "Other"), to: try StreamName("other-1"))
                try await append(direct, 5..<10)
                proxy.restore()
            }
            #expect(seen.map { $0.data["n"] } == (0..<10).map { JSONValue.integer(Int64($0)) }, "no gap, no duplicate, only the filter's events")
            #expect(seen.map(\.position) == Array(1...5) + Array(7...11))
        }
    }

    @Test("a connection that goes silent (a partition without a reset): no heartbeat within the silence timeout, so it is reopened after the last event")
    func silentConnection() async throws {
        try await withClient(ServerSetup(heartbeat: .milliseconds(300))) { direct, port in
            let seen = try await throughFault(direct: direct, port: port, silence: .seconds(3)) { proxy in
                // The open connection now carries nothing, neither events nor heartbeats; the
                // server does not know, and no error reaches the client.
                proxy.mute()
                try await append(direct, 5..<10)
            }
            #expect(seen.map { $0.data["n"] } == (0..<10).map { JSONValue.integer(Int64($0)) }, "no gap, no duplicate")
        }
    }

    @Test("subscribe() without a position starts at the log's end and keeps that start across a reconnect")
    func fromTheEnd() async throws {
        try await withClient { direct, port in
            try await append(direct, 0..<3)
            let proxy = try await TCPProxy(to: "127.0.0.1", port: port)
            let chronicle = try client(port: proxy.port, retry: Self.patient)
            let seen = Seen()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await event in chronicle.subscribe() { seen.add(event) }
                }
                // Connected when the server holds a subscriber: its `/metrics` says so.
                try await poll("the subscriber to connect") {
                    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(60))
                    let metrics = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    return metrics.contains(#"chronicle_subscribers{transport="sse"} 1"#)
                }
                proxy.cut()
                try await append(direct, 3..<6)
                proxy.restore()
                try await poll("the subscriber to get the events after its start") { seen.count >= 3 }
                group.cancelAll()
            }
            await proxy.stop()
            #expect(seen.all.map(\.position) == [4, 5, 6])
        }
    }
}
