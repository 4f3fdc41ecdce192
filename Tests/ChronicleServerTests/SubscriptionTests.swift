import ChronicleCore
import ChronicleServer
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import Testing

/// Collects WebSocket messages as JSON values.
final class Inbox: Sendable {
    let messages = Mutex<[JSONValue]>([])

    func add(_ text: String) {
        let value = (try? JSONValue(parsing: text)) ?? .string(text)
        messages.withLock { $0.append(value) }
    }

    var events: [JSONValue] {
        messages.withLock { $0.compactMap { $0["type"] == "event" ? $0["event"] : nil } }
    }

    var heartbeats: Int {
        messages.withLock { $0.filter { $0["type"] == "heartbeat" }.count }
    }
}

/// What a Server-Sent Events reader has received so far, for another task to watch.
final class SeenEvents: Sendable {
    private let events = Mutex<[ServerSentEvent]>([])
    func update(_ all: [ServerSentEvent]) { events.withLock { $0 = all } }
    /// The positions of the heartbeats (`: heartbeat N`): the feed was caught up to N and idle.
    var heartbeatPositions: [Int64] {
        events.withLock { $0.compactMap { $0.comment?.hasPrefix("heartbeat ") == true ? Int64($0.comment!.dropFirst("heartbeat ".count)) : nil } }
    }
}

/// A flag shared between tasks.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// Connects a real WebSocket client and reads until `until` says stop (within a deadline).
@discardableResult
func readWebSocket(_ server: TestServer, _ path: String, key: String? = nil, seconds: Double = 60, inbox: Inbox, until: @escaping @Sendable (Inbox) -> Bool) async throws -> WebSocketCloseFrame? {
    try await withDeadline(seconds: seconds, "WebSocket messages from \(path)") {
        var configuration = WebSocketClientConfiguration()
        if let key { configuration.additionalHeaders[.authorization] = "Bearer \(key)" }
        return try await WebSocketClient.connect(url: "ws://127.0.0.1:\(server.port)\(path)", configuration: configuration, logger: serverTestLogger) { inbound, _, _ in
            for try await message in inbound.messages(maxSize: 1 << 20) {
                if case .text(let text) = message { inbox.add(text) }
                if until(inbox) { break }
            }
        }
    }
}

@Suite("HTTP: Server-Sent Events and WebSocket")
struct SubscriptionTests {
    @Test("SSE catches up, goes live, filters, and resumes from Last-Event-ID without a gap or a repeat (SQLite)")
    func serverSentEventsOnSQLite() async throws { try await serverSentEvents(backend: .sqlite) }

    @Test("SSE catches up, goes live, filters, and resumes from Last-Event-ID without a gap or a repeat (PostgreSQL)", TestPostgres.enabled)
    func serverSentEventsOnPostgres() async throws { try await serverSentEvents(backend: .postgres) }

    func serverSentEvents(backend: TestBackend) async throws {
        try await withServer(.init(heartbeatInterval: .milliseconds(100)), backend: backend) { server in
            for index in 0..<3 {
                _ = try await server.post("/v1/streams/item-\(index)", #"{"type":"ItemAdded","data":{"n":\#(index)}}"#)
                _ = try await server.post("/v1/streams/noise-\(index)", #"{"type":"Noise"}"#)
            }
            let seen = SeenEvents()
            let received = try await withThrowingTaskGroup(of: [ServerSentEvent].self) { group in
                group.addTask {
                    try await readEventStream(server, "/v1/subscribe?category=item") { events in
                        seen.update(events)
                        return events.filter(\.isEvent).count >= 5 && events.contains { $0.comment?.hasPrefix("heartbeat") == true }
                    }
                }
                group.addTask {
                    // Live events: each appended only once the subscriber is live, that is once
                    // it has been sent a heartbeat (sent when a caught-up feed idles) at or past
                    // the head read just before; so none of them can arrive by catch-up.
                    for index in 3..<5 {
                        let head = try await server.store.headPosition()
                        try await poll("the subscriber to be live at position \(head)") { seen.heartbeatPositions.contains { $0 >= head } }
                        _ = try await server.post("/v1/streams/item-\(index)", #"{"type":"ItemAdded","data":{"n":\#(index)}}"#)
                    }
                    return []
                }
                var all: [ServerSentEvent] = []
                for try await events in group { all += events }
                return all
            }
            let events = received.filter(\.isEvent)
            #expect(events.map { $0.json["data"] } == (0..<5).map { JSONValue.object(["n": .integer(Int64($0))]) })
            #expect(events.allSatisfy { $0.event == "ItemAdded" })
            #expect(events.allSatisfy { event in event.id.flatMap(Int64.init).map { JSONValue.integer($0) } == event.json["position"] }, "the SSE id is the position")
            #expect(received.contains { $0.comment?.hasPrefix("heartbeat") == true }, "an idle subscription gets heartbeats")

            let resumeFrom = events[2].id!
            let resumed = try await readEventStream(server, "/v1/subscribe?category=item", headers: [("Last-Event-ID", resumeFrom)]) { events in
                events.filter(\.isEvent).count >= 2
            }
            #expect(resumed.filter(\.isEvent).map(\.id) == events[3...].map(\.id))
            let started = Flag()
            let fromEnd = try await withThrowingTaskGroup(of: [ServerSentEvent].self) { group in
                group.addTask {
                    try await readEventStream(server, "/v1/subscribe?after=end") { events in
                        if events.contains(where: { $0.comment?.hasPrefix("following the log after position") == true }) {
                            started.set()
                        }
                        return events.contains(where: \.isEvent)
                    }
                }
                group.addTask {
                    try await poll { started.isSet }
                    _ = try await server.post("/v1/streams/late-1", #"{"type":"Late"}"#)
                    return []
                }
                var all: [ServerSentEvent] = []
                for try await events in group { all += events }
                return all
            }
            #expect(fromEnd.filter(\.isEvent).map(\.event) == ["Late"], "after=end starts at the head")
        }
    }

    @Test("WebSocket catches up, goes live, sends heartbeats, and resumes with after= (SQLite)")
    func webSocketOnSQLite() async throws { try await webSocket(backend: .sqlite) }

    @Test("WebSocket catches up, goes live, sends heartbeats, and resumes with after= (PostgreSQL)", TestPostgres.enabled)
    func webSocketOnPostgres() async throws { try await webSocket(backend: .postgres) }

    func webSocket(backend: TestBackend) async throws {
        try await withServer(.init(heartbeatInterval: .milliseconds(100)), backend: backend) { server in
            _ = try await server.post("/v1/streams/feed-1", #"[{"type":"Posted","data":{"n":0}},{"type":"Posted","data":{"n":1}}]"#)
            let inbox = Inbox()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await readWebSocket(server, "/v1/ws?after=0", inbox: inbox) { $0.events.count >= 4 && $0.heartbeats >= 1 }
                }
                group.addTask {
                    try await poll { inbox.events.count >= 2 }
                    _ = try await server.post("/v1/streams/feed-1", #"[{"type":"Posted","data":{"n":2}},{"type":"Posted","data":{"n":3}}]"#)
                }
                try await group.waitForAll()
            }
            #expect(inbox.events.map { $0["data"] } == (0..<4).map { JSONValue.object(["n": .integer(Int64($0))]) })
            #expect(inbox.events.map { $0["position"] } == [1, 2, 3, 4])
            #expect(inbox.heartbeats >= 1)

            let resumed = Inbox()
            try await readWebSocket(server, "/v1/ws?after=2&type=Posted", inbox: resumed) { $0.events.count >= 2 }
            #expect(resumed.events.map { $0["position"] } == [3, 4])
        }
    }

    @Test("a slow subscriber gets every event, in order, while writers keep appending (SQLite)")
    func slowSubscriberOnSQLite() async throws { try await slowSubscriber(backend: .sqlite) }

    @Test("a slow subscriber gets every event, in order, while writers keep appending (PostgreSQL)", TestPostgres.enabled)
    func slowSubscriberOnPostgres() async throws { try await slowSubscriber(backend: .postgres) }

    func slowSubscriber(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            let total = 400
            // What the subscriber has seen so far, for the message if it runs out of time.
            final class Seen: Sendable { let value = Mutex<(count: Int, last: String?)>((0, nil)) }
            let seen = Seen()
            let events = try await withThrowingTaskGroup(of: [ServerSentEvent].self) { group in
                group.addTask {
                    do {
                        // The writers' 400 appends are the slow part on a loaded machine (a run
                        // under a parallel build saw 276 in 60 s, the subscriber 4 behind).
                        return try await readEventStream(server, "/v1/subscribe?after=0", pause: .milliseconds(2), seconds: 300) { events in
                            let delivered = events.filter(\.isEvent)
                            seen.value.withLock { $0 = (delivered.count, delivered.last?.id) }
                            return delivered.count >= total
                        }
                    } catch {
                        let (count, last) = seen.value.withLock { $0 }
                        let head = try? await server.store.headPosition()
                        throw ChronicleError(.storageFailure, "\(error): the subscriber had \(count) events (last id \(last ?? "none")); the log's head is \(head.map(String.init) ?? "?")")
                    }
                }
                for writer in 0..<4 {
                    group.addTask {
                        for index in 0..<(total / 4) {
                            _ = try await server.post("/v1/streams/w\(writer)-1", #"{"type":"Wrote","data":{"i":\#(index)}}"#)
                        }
                        return []
                    }
                }
                var all: [ServerSentEvent] = []
                for try await events in group { all += events }
                return all.filter(\.isEvent)
            }
            #expect(events.count == total)
            #expect(events.map { $0.id.flatMap(Int.init) } == Array(1...total), "every position once, in order")
        }
    }
}

/// ``waitUntil(_:seconds:every:_:)`` with this target's bounds.
func poll(_ what: String = "a condition", _ condition: @escaping @Sendable () async throws -> Bool) async throws {
    try await waitUntil(what, seconds: 60, every: .milliseconds(10), condition)
}
