import ChronicleCore
import Foundation

/// The answer of `POST /v1/streams/{stream}`, and one stream's part of `POST /v1/append`.
public struct AppendResponse: Codable, Sendable, Hashable {
    /// The stream appended to.
    public var stream: String
    /// The revision of the first event appended.
    public var firstRevision: Int64
    /// The revision of the last event appended: the stream's new revision (its ETag).
    public var lastRevision: Int64
    /// The log position of the first event appended.
    public var firstPosition: Int64
    /// The log position of the last event appended.
    public var lastPosition: Int64
    /// The ids of the events, in order (those sent, or the ones the server gave them).
    public var eventIds: [String]?
    /// Whether this was a retry of an append stored before: nothing new was stored, and
    /// the answer is the original one (status `200` rather than `201`).
    public var replayed: Bool?

    /// The answer for one stream's result.
    public init(_ result: AppendResult.StreamResult, eventIds: [UUID]? = nil, replayed: Bool? = nil) {
        self.stream = result.stream.rawValue
        self.firstRevision = result.firstRevision
        self.lastRevision = result.lastRevision
        self.firstPosition = result.firstPosition
        self.lastPosition = result.lastPosition
        self.eventIds = eventIds?.map { $0.uuidString.lowercased() }
        self.replayed = replayed
    }

    /// The result it reports.
    public var result: AppendResult.StreamResult {
        .init(stream: StreamName(stored: stream), firstRevision: firstRevision, lastRevision: lastRevision, firstPosition: firstPosition, lastPosition: lastPosition)
    }
}

/// The answer of `POST /v1/append`: the last position written and each stream's result.
public struct MultiStreamAppendResponse: Codable, Sendable, Hashable {
    /// The log position of the last event appended.
    public var position: Int64
    /// Each stream's result, in the order of the request.
    public var streams: [AppendResponse]
    /// Whether this was a retry of an append stored before (status `200` rather than `201`).
    public var replayed: Bool?

    /// The answer for an append's result.
    public init(_ result: AppendResult, request: AppendRequest? = nil) {
        self.position = result.position
        self.streams = result.streams.enumerated().map { index, stream in
            AppendResponse(stream, eventIds: request.map { $0.streams[index].events.map(\.id) }, replayed: result.replayed)
        }
        self.replayed = result.replayed
    }
}

/// A page of one stream: `GET /v1/streams/{stream}`.
public struct StreamPage: Codable, Sendable, Hashable {
    /// The stream.
    public var stream: String
    /// The stream's revision (its ETag); `-1` for a stream without events.
    public var revision: Int64
    /// The events of the page, in the order asked for.
    public var events: [EventResponse]
    /// The revision to read from for the next page, or `null` after the last one.
    public var next: Int64?

    /// Creates a page.
    public init(stream: String, revision: Int64, events: [RecordedEvent], next: Int64?) {
        self.stream = stream
        self.revision = revision
        self.events = events.map(EventResponse.init)
        self.next = next
    }
}

/// The answer of `DELETE /v1/streams/{stream}`.
public struct StreamDeleteResponse: Codable, Sendable, Hashable {
    /// The stream.
    public var stream: String
    /// `soft` or `hard`.
    public var mode: String
    /// The stream's revision when it was deleted.
    public var revision: Int64
    /// The log position of the deletion.
    public var position: Int64

    /// Creates the answer.
    public init(stream: String, mode: String, revision: Int64, position: Int64) {
        self.stream = stream
        self.mode = mode
        self.revision = revision
        self.position = position
    }
}

/// A page of the global log: `GET /v1/log`.
public struct LogPageResponse: Codable, Sendable, Hashable {
    /// The events of the page that match the filter, in position order.
    public var events: [EventResponse]
    /// The position the page was read through: pass it as `after` for the next page (it
    /// moves on even when a filter left the page empty).
    public var next: Int64

    /// The answer for a page.
    public init(_ page: LogPage) {
        self.events = page.events.map(EventResponse.init)
        self.next = page.scannedThrough
    }

    /// The page it carries.
    public var page: LogPage {
        LogPage(events: events.map(\.event), scannedThrough: next)
    }
}

/// The events matching a DCB query: `POST /v1/query`.
public struct QueryResponse: Codable, Sendable, Hashable {
    /// The matching events, in position order.
    public var events: [EventResponse]
    /// The last position the read considered: the `after` of a conditional append that
    /// decided on these events.
    public var head: Int64

    /// The answer for a page.
    public init(_ page: DCBQueryPage) {
        self.events = page.events.map(EventResponse.init)
        self.head = page.head
    }
}

/// The events of one correlation: `GET /v1/correlations/{id}`.
public struct CorrelationResponse: Codable, Sendable, Hashable {
    /// The correlation id.
    public var correlationId: String
    /// The events carrying it, in position order.
    public var events: [EventResponse]
    /// The position the page was read through (`after` for the next page).
    public var next: Int64

    /// The answer for a page of one correlation.
    public init(correlationId: String, page: LogPage) {
        self.correlationId = correlationId
        self.events = page.events.map(EventResponse.init)
        self.next = page.scannedThrough
    }
}
