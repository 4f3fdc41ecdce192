import Foundation

/// An atomic append to one or more streams, each with its own expectation: either every
/// event is stored, or none is.
///
/// ```swift
/// let request = AppendRequest([
///     .init(stream: try StreamName("account-1"), expected: .exact(4), events: [debit]),
///     .init(stream: try StreamName("account-2"), expected: .any, events: [credit]),
/// ])
/// ```
public struct AppendRequest: Sendable, Hashable {
    /// The events for one stream and what is expected of it.
    public struct StreamAppend: Sendable, Hashable {
        /// The stream to append to.
        public var stream: StreamName
        /// What the stream's revision must be for the append to go ahead.
        public var expected: ExpectedRevision
        /// The events, in order.
        public var events: [EventData]

        /// Creates the part of an append for one stream.
        public init(stream: StreamName, expected: ExpectedRevision = .any, events: [EventData]) {
            self.stream = stream
            self.expected = expected
            self.events = events
        }
    }

    /// The streams, in the order their events get positions.
    public var streams: [StreamAppend]
    /// Rules checked against the inline documents in the append's transaction.
    public var rules: [AppendRule]
    /// A DCB condition checked in the append's transaction (see ``AppendCondition``).
    public var condition: AppendCondition?

    /// Creates a request.
    public init(_ streams: [StreamAppend], rules: [AppendRule] = [], condition: AppendCondition? = nil) {
        self.streams = streams
        self.rules = rules
        self.condition = condition
    }

    /// Checks the request and makes every event canonical.
    ///
    /// - Throws: ``ChronicleError`` for an empty append, a stream named twice, a reserved
    ///   stream, an event id used twice, too many events, or a bad event.
    public func prepared(limits: EventStoreLimits) throws -> PreparedAppend {
        if streams.isEmpty || streams.allSatisfy({ $0.events.isEmpty }) {
            throw ChronicleError(.invalidInput, "The append has no events. Send at least one event.")
        }
        let total = streams.reduce(0) { $0 + $1.events.count }
        if total > limits.maximumEventsPerAppend {
            throw ChronicleError(.payloadTooLarge, "The append has \(total) events; the limit is \(limits.maximumEventsPerAppend) per append. Split it into several appends.")
        }
        var seenStreams = Set<StreamName>()
        var seenIDs = Set<UUID>()
        var result: [PreparedAppend.StreamAppend] = []
        for part in streams {
            if part.stream.isReserved {
                throw ChronicleError(.invalidInput, "Stream \(part.stream.rawValue.debugDescription) is reserved for Chronicle's own events.", stream: part.stream)
            }
            if !seenStreams.insert(part.stream).inserted {
                throw ChronicleError(.invalidInput, "Stream \(part.stream.rawValue.debugDescription) appears twice in one append. Put all its events in one part.", stream: part.stream)
            }
            if part.events.isEmpty {
                throw ChronicleError(.invalidInput, "The part for stream \(part.stream.rawValue.debugDescription) has no events.", stream: part.stream)
            }
            var events: [PreparedEvent] = []
            events.reserveCapacity(part.events.count)
            for event in part.events {
                if !seenIDs.insert(event.id).inserted {
                    throw ChronicleError(.invalidInput, "Event id \(event.id) appears twice in one append. Give every event its own id.", stream: part.stream)
                }
                events.append(try PreparedEvent(event, limits: limits))
            }
            result.append(.init(stream: part.stream, expected: part.expected, events: events))
        }
        if let condition {
            try condition.failIfEventsMatch.validate(what: "A condition")
            if let after = condition.after, after < 0 {
                throw ChronicleError(.invalidInput, "A condition's after must be a log position (0 or more); got \(after).")
            }
        }
        return PreparedAppend(streams: result, rules: rules, condition: condition)
    }
}


/// An ``AppendRequest`` that passed validation, ready for a backend.
public struct PreparedAppend: Sendable, Hashable {
    /// One stream's part of a prepared append.
    public struct StreamAppend: Sendable, Hashable {
        /// The stream.
        public var stream: StreamName
        /// What is expected of it.
        public var expected: ExpectedRevision
        /// Its events, canonical.
        public var events: [PreparedEvent]

        /// Whether one of its events erases the stream.
        func erases(_ projections: [ProjectionRegistration]) -> Bool {
            events.contains { event in projections.contains { $0.projection.erases(eventType: event.type, in: stream) } }
        }
    }

    /// The streams, in order.
    public var streams: [StreamAppend]
    /// Whether an event of the append erases its stream (a schema's `erase`): stores then
    /// scrub what the purge left (``PersonalDataStore/scrubRemnants()``).
    public func erasesStreams(_ projections: [ProjectionRegistration]) -> Bool {
        streams.contains { $0.erases(projections) }
    }
    /// The rules to check.
    public var rules: [AppendRule] = []
    /// The DCB condition to check.
    public var condition: AppendCondition?
    /// The events a ``PersonalSealer`` sealed ahead of the writer, by id.
    var sealed: [UUID: PersonalSealer.Sealed] = [:]

    /// The subjects whose keys the writer will check for the event, if it was sealed ahead
    /// (``PersonalSealer``); `nil` otherwise.
    public func subjectsSealedAhead(_ eventID: UUID) -> [String]? {
        sealed[eventID]?.keys.map(\.subject)
    }
}

/// The outcome of an append.
public struct AppendResult: Sendable, Hashable {
    /// What was written to one stream.
    public struct StreamResult: Sendable, Hashable {
        /// The stream.
        public var stream: StreamName
        /// Revision of the first event written.
        public var firstRevision: Int64
        /// Revision of the last event written: the stream's revision after the append.
        public var lastRevision: Int64
        /// Global position of the first event written.
        public var firstPosition: Int64
        /// Global position of the last event written.
        public var lastPosition: Int64

        /// Creates a stream result.
        public init(stream: StreamName, firstRevision: Int64, lastRevision: Int64, firstPosition: Int64, lastPosition: Int64) {
            self.stream = stream
            self.firstRevision = firstRevision
            self.lastRevision = lastRevision
            self.firstPosition = firstPosition
            self.lastPosition = lastPosition
        }
    }

    /// One entry per stream, in the request's order.
    public var streams: [StreamResult]
    /// Whether the events were all stored before: a retry of an append that had succeeded,
    /// answered with its original result and storing nothing.
    public var replayed: Bool

    /// Creates a result.
    public init(streams: [StreamResult], replayed: Bool = false) {
        self.streams = streams
        self.replayed = replayed
    }

    /// The highest position written: wait for projections to reach it to read your own write.
    public var position: Int64 { streams.map(\.lastPosition).max() ?? 0 }
}
