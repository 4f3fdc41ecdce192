/// A query of the Dynamic Consistency Boundary specification: the events a decision depends
/// on, selected by type and tags across streams.
///
/// An event matches an item when its type is one of the item's `types` (or `types` is
/// empty) and it carries every tag of the item's `tags`; it matches the query when it
/// matches any item. A query without items matches every event.
///
/// ```swift
/// let verification = DCBQuery([.init(types: ["UserEmailVerified", "UserEmailUnverified"], tags: ["user:ada"])])
/// let page = try await store.read(query: verification, after: 0, limit: 100)
/// ```
public struct DCBQuery: Sendable, Hashable {
    /// One alternative of a query.
    public struct Item: Sendable, Hashable {
        /// The types one of which a matching event has; empty for any type.
        public var types: Set<String>
        /// The tags a matching event carries, all of them; empty for no tag needed.
        public var tags: Set<String>

        /// Creates an item.
        public init(types: Set<String> = [], tags: Set<String> = []) {
            self.types = types
            self.tags = tags
        }

        /// Whether an event of `type` carrying `tags` matches.
        public func matches(type: String, tags eventTags: [String]) -> Bool {
            (types.isEmpty || types.contains(type)) && tags.allSatisfy { eventTags.contains($0) }
        }
    }

    /// The alternatives; none for "every event".
    public var items: [Item]

    /// Creates a query.
    public init(_ items: [Item] = []) {
        self.items = items
    }

    /// Whether `event` matches.
    public func matches(_ event: RecordedEvent) -> Bool {
        items.isEmpty || items.contains { $0.matches(type: event.type, tags: event.tags) }
    }

    /// Refuses types and tags no event can carry (empty, over 200 characters, whitespace or
    /// control characters), which would silently match nothing.
    ///
    /// - Parameter what: how the error names the query ("A condition", "The query").
    /// - Throws: ``ChronicleError`` (`invalid-input`) naming the item and the value.
    public func validate(what: String) throws {
        for (index, item) in items.enumerated() {
            for type in item.types.sorted() { try StreamName.validate(type, what: "\(what)'s item \(index) event type", allowReserved: true) }
            for tag in item.tags.sorted() { try StreamName.validate(tag, what: "\(what)'s item \(index) tag", allowReserved: true) }
        }
    }

    /// Whether the query matches every event.
    public var matchesEverything: Bool {
        items.isEmpty || items.contains { $0.types.isEmpty && $0.tags.isEmpty }
    }
}

/// The condition of a conditional append (DCB): the append is refused if any event
/// matching ``failIfEventsMatch`` is stored after ``after`` (after position 0 when `nil`:
/// any such event at all). Checked in the writer's transaction, so of racing appends with
/// the same condition exactly one wins.
public struct AppendCondition: Sendable, Hashable {
    /// The events that must not exist after ``after``.
    public var failIfEventsMatch: DCBQuery
    /// The position the decision read up to (a query's ``DCBQueryPage/head``).
    public var after: Int64?

    /// Creates a condition.
    public init(failIfEventsMatch: DCBQuery, after: Int64? = nil) {
        self.failIfEventsMatch = failIfEventsMatch
        self.after = after
    }
}

/// What a query read: the matching events, and the position a later conditional append may
/// use as its `after`.
public struct DCBQueryPage: Sendable, Hashable {
    /// The matching events, in position order.
    public var events: [RecordedEvent]
    /// The last position the read considered, even when no event matched: the head when the
    /// page is not full, else the last event's position.
    public var head: Int64

    /// Creates a page.
    public init(events: [RecordedEvent], head: Int64) {
        self.events = events
        self.head = head
    }
}

extension EventStore {
    /// The events after `position` that match `query`, up to `limit`, with the position the
    /// read considered. Backends with a tag index answer from it; this default reads the log.
    public func readByScanning(query: DCBQuery, after position: Int64, limit: Int) async throws -> DCBQueryPage {
        let head = try await headPosition()
        var events: [RecordedEvent] = []
        var cursor = LogCursor(after: position, pageSize: 1000)
        while cursor.position < head && events.count < limit {
            let page = try await cursor.next(from: self)
            for event in page.events where event.position <= head && query.matches(event) {
                events.append(event)
                if events.count == limit { return DCBQueryPage(events: events, head: event.position) }
            }
            if page.caughtUp { break }
        }
        return DCBQueryPage(events: events, head: max(head, position))
    }
}
