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
    /// About how many bytes of events a page may hold, or `nil` for no bound but
    /// ``pageSize``. A page holds as many events as fit, judged by the largest event of the
    /// previous page (at least one event). A live feed sets it, so that a subscriber that
    /// reads slowly holds at most this much in memory however large the events are.
    public let pageBytes: Int?
    /// The most events the next page returns: ``pageSize``, or fewer under ``pageBytes``.
    public private(set) var limit: Int
    /// A DCB query the events must also match (read by ``EventStore/read(query:after:limit:)``).
    public let query: DCBQuery?

    /// A cursor starting after `position`.
    public init(after position: Int64, filter: LogFilter = LogFilter(), query: DCBQuery? = nil, pageSize: Int, pageBytes: Int? = nil) {
        self.position = position
        self.filter = filter
        self.query = query
        self.pageSize = max(1, pageSize)
        self.pageBytes = pageBytes.map { max(1, $0) }
        // Until a page has been seen, nothing is known of the events' size: read one.
        self.limit = pageBytes == nil ? self.pageSize : 1
    }

    /// About how many bytes an event takes in memory and on the wire (its JSON form).
    public static func approximateSize(of event: RecordedEvent) -> Int {
        event.dataJSON.utf8.count + event.metadataJSON.utf8.count + event.stream.rawValue.utf8.count + event.type.utf8.count + event.tags.reduce(0) { $0 + $1.utf8.count + 3 } + 256
    }

    /// One page of the log after ``position``, which moves past what the page scanned.
    /// `caughtUp` when the page scanned nothing: there is nothing after ``position`` yet.
    public mutating func next(from store: any EventStore) async throws -> (events: [RecordedEvent], caughtUp: Bool) {
        let events: [RecordedEvent], scanned: Int64
        if let query {
            let page = try await store.read(query: query, after: position, limit: limit)
            events = filter.isEmpty ? page.events : page.events.filter(filter.matches)
            scanned = page.head
        } else {
            let page = try await store.readLog(after: position, limit: limit, filter: filter)
            (events, scanned) = (page.events, page.scannedThrough)
        }
        if let pageBytes, !events.isEmpty {
            let largest = events.reduce(1) { max($0, Self.approximateSize(of: $1)) }
            limit = max(1, min(pageSize, pageBytes / largest))
        }
        let caughtUp = scanned <= position
        position = max(position, scanned)
        return (events, caughtUp)
    }
}
