/// Reads the global log forward a page at a time: the one reading step of subscriptions,
/// the server's live feeds and the background runners. A page that scanned nothing new
/// means the reader is caught up, and should wait for a commit
/// (``EventStore/waitForEvents(after:)``) before reading again.
public struct LogCursor: Sendable {
    /// The position scanned so far: the next page starts after it.
    public private(set) var position: Int64
    /// Which events to return.
    public let filter: LogFilter
    /// The most events a page returns.
    public let pageSize: Int
    /// A DCB query the events must also match (read by ``EventStore/read(query:after:limit:)``).
    public let query: DCBQuery?

    /// A cursor starting after `position`.
    public init(after position: Int64, filter: LogFilter = LogFilter(), query: DCBQuery? = nil, pageSize: Int) {
        self.position = position
        self.filter = filter
        self.query = query
        self.pageSize = max(1, pageSize)
    }

    /// One page of the log after ``position``, which moves past what the page scanned.
    /// `caughtUp` when the page scanned nothing: there is nothing after ``position`` yet.
    public mutating func next(from store: any EventStore) async throws -> (events: [RecordedEvent], caughtUp: Bool) {
        let events: [RecordedEvent], scanned: Int64
        if let query {
            let page = try await store.read(query: query, after: position, limit: pageSize)
            events = filter.isEmpty ? page.events : page.events.filter(filter.matches)
            scanned = page.head
        } else {
            let page = try await store.readLog(after: position, limit: pageSize, filter: filter)
            (events, scanned) = (page.events, page.scannedThrough)
        }
        let caughtUp = scanned <= position
        position = max(position, scanned)
        return (events, caughtUp)
    }
}
