/// The events of the global log after a position: those already stored, then live ones,
/// in order, each exactly once. Made by ``EventStore/subscribe(after:filter:batchSize:)``.
///
/// Events are read from storage a page at a time, so a consumer that falls behind just reads
/// older pages: it is never dropped and never makes the store buffer events for it. The
/// sequence ends only when the consuming task is cancelled (or the store throws).
public struct EventSubscription: AsyncSequence, Sendable {
    /// Each element is one event.
    public typealias Element = RecordedEvent

    let store: any EventStore
    let after: Int64
    let filter: LogFilter
    var query: DCBQuery?
    let batchSize: Int

    /// Makes an iterator starting after the subscription's position.
    public func makeAsyncIterator() -> Iterator {
        Iterator(store: store, position: after, filter: filter, query: query, batchSize: Swift.max(1, batchSize))
    }

    /// Reads pages from the store and waits for commits when caught up.
    public struct Iterator: AsyncIteratorProtocol {
        let store: any EventStore
        var cursor: LogCursor
        var buffer: [RecordedEvent] = []
        var index = 0

        /// The position scanned so far: the next page starts after it.
        public var position: Int64 { cursor.position }

        init(store: any EventStore, position: Int64, filter: LogFilter, query: DCBQuery?, batchSize: Int) {
            self.store = store
            self.cursor = LogCursor(after: position, filter: filter, query: query, pageSize: batchSize)
        }

        /// The next event, waiting for one to be committed if needed; `nil` once the task is cancelled.
        public mutating func next() async throws -> RecordedEvent? {
            while true {
                if index < buffer.count {
                    defer { index += 1 }
                    return buffer[index]
                }
                if Task.isCancelled { return nil }
                let (events, caughtUp) = try await cursor.next(from: store)
                buffer = events
                index = 0
                if buffer.isEmpty && caughtUp {
                    try await store.waitForEvents(after: cursor.position)
                }
            }
        }
    }
}
