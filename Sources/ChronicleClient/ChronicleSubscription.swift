import AsyncHTTPClient
import ChronicleCore
import Foundation
import Logging
import NIOCore

/// The events of the log after a position, catch-up then live, over Server-Sent Events
/// (`GET /v1/subscribe`), that survives dropped connections.
///
/// Each event's SSE `id` is its position; when the connection drops (a restart, a network
/// change, a server shutting down) the iterator reconnects with `Last-Event-ID` set to the
/// last position it returned, so the sequence has no gap and no duplicate. It ends only
/// when its task is cancelled (it throws `CancellationError`), or with a
/// ``ChronicleClientError`` for an answer that retrying cannot fix (`401`, `403`, `400`), or
/// after ``ChronicleClient/Configuration/subscriptionReconnectAttempts`` failed reconnections.
///
/// ```swift
/// for try await event in chronicle.subscribe(after: 0, filter: LogFilter(categories: ["user"])) {
///     print(event.position, event.type)
/// }
/// ```
public struct ChronicleSubscription: AsyncSequence, Sendable {
    /// An event of the log.
    public typealias Element = RecordedEvent

    let client: ChronicleClient
    let after: Int64?
    let filter: LogFilter

    /// An iterator that connects on its first `next()`.
    public func makeAsyncIterator() -> Iterator {
        Iterator(client: client, last: after, filter: filter)
    }

    /// Reads the events, reconnecting as needed.
    public struct Iterator: AsyncIteratorProtocol {
        let client: ChronicleClient
        /// The position of the last event returned (or the start); `nil`: not known yet,
        /// the log's head when the first connection is made.
        var last: Int64?
        let filter: LogFilter
        var body: HTTPClientResponse.Body.AsyncIterator?
        var parser = ServerSentEventParser()
        var pending: [ServerSentEventParser.Message] = []
        var failures = 0

        init(client: ChronicleClient, last: Int64?, filter: LogFilter) {
            self.client = client
            self.last = last
            self.filter = filter
        }

        /// The next event.
        public mutating func next() async throws -> RecordedEvent? {
            while true {
                try Task.checkCancellation()
                if !pending.isEmpty {
                    if let event = try take(pending.removeFirst()) { return event }
                    continue
                }
                if body == nil {
                    try await connect()
                    continue
                }
                do {
                    guard var reading = body, let chunk = try await Self.read(&reading, within: client.configuration.subscriptionSilenceTimeout) else {
                        client.logger.debug("chronicle.client subscription ended by the server; reconnecting", metadata: ["chronicle.position": "\(last.map(String.init) ?? "end")"])
                        disconnect()
                        continue
                    }
                    body = reading
                    pending += parser.feed(chunk.readableBytesView)
                } catch {
                    _ = try ChronicleClient.transport(error)
                    client.logger.debug("chronicle.client subscription lost its connection; reconnecting", metadata: ["chronicle.position": "\(last.map(String.init) ?? "end")", "chronicle.error": "\(error)"])
                    disconnect()
                }
            }
        }

        /// The connection sent nothing — no event, no heartbeat — for the silence timeout.
        struct Silence: Error, CustomStringConvertible {
            let limit: Duration
            var description: String { "the connection was silent for \(limit)" }
        }

        /// The next chunk of the body; throws ``Silence`` when none comes within `limit`
        /// (the read is cancelled, which closes the connection).
        static func read(_ iterator: inout HTTPClientResponse.Body.AsyncIterator, within limit: Duration?) async throws -> ByteBuffer? {
            guard let limit else { return try await iterator.next() }
            let reader = HandedOver(iterator: iterator)
            let (chunk, advanced) = try await withThrowingTaskGroup(of: (ByteBuffer?, HandedOver)?.self) { group in
                group.addTask {
                    var reading = reader
                    return (try await reading.iterator.next(), reading)
                }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let read = first else { throw Silence(limit: limit) }
                return read
            }
            iterator = advanced.iterator
            return chunk
        }

        /// The body's iterator handed to the task that reads one chunk, and back. It is never
        /// used by two tasks at once: this task waits while the reader runs, and the task
        /// group returns only once the reader is done (or cancelled), which orders the
        /// handovers — the reason the iterator itself is not `Sendable`, to stop concurrent use.
        struct HandedOver: @unchecked Sendable {
            var iterator: HTTPClientResponse.Body.AsyncIterator
        }

        /// The event a message carries, if it is one not returned before.
        mutating func take(_ message: ServerSentEventParser.Message) throws -> RecordedEvent? {
            if let comment = message.comment {
                // A heartbeat says the connection works (an opening comment alone does not:
                // a server shutting down opens and closes at once).
                if comment.hasPrefix("heartbeat") { failures = 0 }
                return nil
            }
            if message.event == "shutdown" {
                // The server is stopping; it says where to resume, which is where we are.
                // Counted as a failure, so reconnecting to a server draining its connections waits.
                disconnect()
                failures += 1
                return nil
            }
            guard message.id != nil, let data = message.data else { return nil }
            let event: RecordedEvent
            do {
                event = try JSONDecoder().decode(WireEvent.self, from: Data(data.utf8)).event
            } catch {
                throw ChronicleClientError(.invalidResponse, "A subscription message is not an event this client reads: \(data.prefix(200))", cause: error)
            }
            failures = 0
            if let last, event.position <= last { return nil }
            last = event.position
            return event
        }

        mutating func disconnect() {
            body = nil
            parser = ServerSentEventParser()
            pending = []
        }

        /// Opens the stream after ``last``, waiting between failed attempts.
        mutating func connect() async throws {
            if failures > 0 {
                if let limit = client.configuration.subscriptionReconnectAttempts, failures >= limit {
                    throw ChronicleClientError(.connectionFailed, "The subscription could not reconnect to \(client.base) in \(failures) attempts.")
                }
                try await Task.sleep(for: client.configuration.retry.delay(beforeRetry: failures))
            }
            do {
                // "From now on" is the log's head when the subscription starts, resolved once:
                // a reconnection must not move it past events appended meanwhile.
                guard let last = try await startPosition() else { return }
                let request = ClientRequest(
                    method: .GET, path: "/v1/subscribe", query: [("after", String(last))] + ChronicleClient.filterQuery(filter),
                    headers: [("Last-Event-ID", String(last)), ("Accept", "text/event-stream")]
                )
                let (response, body) = try await client.execute(request, timeout: .seconds(365 * 24 * 3600))
                if response.status == .ok {
                    self.body = body.makeAsyncIterator()
                    return
                }
                let bytes = (try? await body.collect(upTo: 1 << 20)).map { Data($0.readableBytesView) } ?? Data()
                let answer = ClientResponse(status: Int(response.status.code), headers: response.headers, body: bytes)
                guard answer.status == 503 else { throw client.problem(answer) }
                failures += 1
            } catch is TransportFailure {
                failures += 1
            }
        }

        /// ``last``, or the log's head if it is not known yet; `nil` (a failure counted) if
        /// the server cannot say now.
        mutating func startPosition() async throws -> Int64? {
            if let last { return last }
            let request = ClientRequest(method: .GET, path: "/v1/log", query: [("after", "end"), ("limit", "1")])
            let response = try await client.sendOnce(request)
            if response.status == 503 {
                failures += 1
                return nil
            }
            guard (200..<300).contains(response.status) else { throw client.problem(response) }
            let head = try client.decode(WireLogPage.self, response, request).next
            last = head
            return head
        }
    }
}

extension ChronicleClient {
    /// The events after `position` (`nil`: after the log's head when iteration starts,
    /// resolved once, so reconnections keep that start) that match `filter`, catch-up then
    /// live, resuming after dropped connections without losing or repeating one.
    public func subscribe(after position: Int64? = nil, filter: LogFilter = LogFilter()) -> ChronicleSubscription {
        ChronicleSubscription(client: self, after: position, filter: filter)
    }
}
