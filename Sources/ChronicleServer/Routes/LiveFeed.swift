import ChronicleCore

/// Follows the log for one subscriber: pages from storage, then waits for commits, with a
/// heartbeat when idle. Shared by Server-Sent Events and WebSocket.
///
/// It reads a page at a time and writes each event before reading on, so a slow client
/// slows only its own reads (the writes wait for the socket): it is never dropped and never
/// makes the server buffer events for it. What one subscriber holds is one page (at most
/// ``pageSize`` events and about ``pageBytes``, judged by the previous page) plus what the
/// channel accepts before it stops being writable (NIO's high water mark, 64 KiB).
///
/// While caught up it waits on the store's shared wake-up (``EventStore/waitForEvents(after:)``):
/// no timer and no query of its own but the heartbeat.
struct LiveFeed: Sendable {
    let store: any EventStore
    let filter: LogFilter
    /// A DCB query the events must also match.
    var query: DCBQuery?
    let heartbeat: Duration
    let shutdown: CommitNotifier
    let pageSize = 256
    /// About how many bytes of events a page holds: the memory bound of a slow subscriber.
    let pageBytes = 512 << 10

    enum Stop: Sendable {
        /// The server is shutting down; the subscriber may resume after `position`.
        case shutdown(position: Int64)
    }

    /// Runs until the task is cancelled (client gone) or the server shuts down. While the
    /// storage is unavailable it sends heartbeats and retries, with backoff up to 5 s.
    func run(
        after start: Int64,
        event: (RecordedEvent) async throws -> Void,
        heartbeat beat: (Int64) async throws -> Void
    ) async throws -> Stop? {
        var cursor = LogCursor(after: start, filter: filter, query: query, pageSize: pageSize, pageBytes: pageBytes)
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            if shutdown.head > 0 { return .shutdown(position: cursor.position) }
            let page: (events: [RecordedEvent], caughtUp: Bool)
            do {
                page = try await cursor.next(from: store)
                backoff = .milliseconds(100)
            } catch let error as ChronicleError where error.code == .storageFailure {
                // The storage is unreachable for now (a database restart): keep the subscriber,
                // tell it where it is, and read again once the storage is back.
                try await beat(cursor.position)
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
                continue
            }
            for next in page.events {
                try await event(next)
            }
            guard page.events.isEmpty && page.caughtUp else { continue }
            switch await waitForWork(after: cursor.position) {
            case .events: continue
            case .idle: try await beat(cursor.position)
            case .shutdown: return .shutdown(position: cursor.position)
            }
        }
        return nil
    }

    private enum Wake: Sendable { case events, idle, shutdown }

    private func waitForWork(after position: Int64) async -> Wake {
        let store = store
        let shutdown = shutdown
        let heartbeat = heartbeat
        return await withTaskGroup(of: Wake.self) { group in
            group.addTask {
                try? await store.waitForEvents(after: position)
                return .events
            }
            group.addTask {
                try? await Task.sleep(for: heartbeat)
                return .idle
            }
            group.addTask {
                await shutdown.wait(after: 0)
                return .shutdown
            }
            let first = await group.next() ?? .idle
            group.cancelAll()
            return first
        }
    }
}

/// Parses the filters and starting point shared by `/v1/log`, `/v1/subscribe` and `/v1/ws`.
enum LogQuery {
    static func filter(types: [String], categories: [String], correlation: String? = nil) -> LogFilter {
        func split(_ values: [String]) -> Set<String> {
            Set(values.flatMap { $0.split(separator: ",") }.map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        return LogFilter(types: split(types), categories: split(categories), correlation: correlation)
    }

    /// `after`: a position (0 or more), or `end` for the current head.
    static func after(_ text: String?, store: any EventStore, name: String = "after") async throws -> Int64 {
        guard let text, !text.isEmpty else { return 0 }
        if text == "end" { return try await store.headPosition() }
        guard let position = Int64(text), position >= 0 else {
            throw Problem.invalid("\(name) must be a log position (0 or more) or end; got \(text.debugDescription).")
        }
        return position
    }

    /// `query`: a DCB query as JSON (`{"items":[{"types":[…],"tags":[…]}]}`), URL-encoded.
    static func query(_ text: Substring?) throws -> DCBQuery? {
        guard let text else { return nil }
        guard let value = try? JSONValue(parsing: String(text)) else {
            throw Problem.invalid("query must be a DCB query as JSON, such as {\"items\":[{\"tags\":[\"user:ada\"]}]} (URL-encoded).")
        }
        return try EventRequests.query(value, at: "query")
    }

    static func limit(_ text: Substring?, default value: Int = 100, maximum: Int = 1000) throws -> Int {
        guard let text else { return value }
        guard let limit = Int(text), (1...maximum).contains(limit) else {
            throw Problem.invalid("limit must be a whole number from 1 to \(maximum); got \(String(text).debugDescription).")
        }
        return limit
    }
}
