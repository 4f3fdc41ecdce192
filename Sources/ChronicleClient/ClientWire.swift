import ChronicleCore
import Foundation

// The JSON the client sends and reads, as Codable types (the server's `openapi.json` is the
// contract). Events travel in the form of `RecordedEvent.jsonText`.

/// An event to append: `{"id", "type", "data", "metadata", "tags"?}`.
struct WireEventInput: Encodable {
    var id: String
    var type: String
    var data: JSONValue
    var metadata: JSONValue
    var tags: [String]?

    init(_ event: EventData) {
        id = event.id.uuidString.lowercased()
        type = event.type
        data = event.data
        metadata = event.metadata
        tags = event.tags.isEmpty ? nil : event.tags
    }
}

/// An expected revision: a number, or `"any"`, `"noStream"`, `"streamExists"`.
struct WireExpectation: Encodable {
    var expected: ExpectedRevision

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if case .exact(let revision) = expected {
            try container.encode(revision)
        } else {
            try container.encode(expected.description)
        }
    }
}

/// A DCB query: `{"items": [{"types", "tags"}]}`.
struct WireQuery: Encodable {
    struct Item: Encodable {
        var types: [String]
        var tags: [String]
    }

    var items: [Item]

    init(_ query: DCBQuery) {
        items = query.items.map { Item(types: $0.types.sorted(), tags: $0.tags.sorted()) }
    }
}

/// An append condition: `{"failIfEventsMatch", "after"?}`.
struct WireCondition: Encodable {
    var failIfEventsMatch: WireQuery
    var after: Int64?

    init(_ condition: AppendCondition) {
        failIfEventsMatch = WireQuery(condition.failIfEventsMatch)
        after = condition.after
    }
}

/// The body of `POST /v1/streams/{stream}`.
struct WireStreamAppend: Encodable {
    var expectedRevision: WireExpectation
    var events: [WireEventInput]
    var condition: WireCondition?
}

/// The body of `POST /v1/append`.
struct WireMultiStreamAppend: Encodable {
    struct Part: Encodable {
        var stream: String
        var expectedRevision: WireExpectation
        var events: [WireEventInput]
    }

    var streams: [Part]
    var condition: WireCondition?

    init(_ request: AppendRequest) {
        streams = request.streams.map { Part(stream: $0.stream.rawValue, expectedRevision: WireExpectation(expected: $0.expected), events: $0.events.map(WireEventInput.init)) }
        condition = request.condition.map(WireCondition.init)
    }
}

/// The body of `POST /v1/query`.
struct WireQueryRequest: Encodable {
    var query: WireQuery
    var after: Int64
    var limit: Int
}

/// An event as the server sends it.
struct WireEvent: Decodable {
    var event: RecordedEvent

    init(from decoder: any Decoder) throws {
        let json = try JSONValue(from: decoder)
        do {
            event = try RecordedEvent(json: json)
        } catch let error as ChronicleError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }
}

/// One stream's result of an append.
struct WireAppendResponse: Decodable {
    var stream: String
    var firstRevision: Int64
    var lastRevision: Int64
    var firstPosition: Int64
    var lastPosition: Int64
    var eventIds: [String]?
    var replayed: Bool?

    var result: AppendResult.StreamResult {
        .init(stream: StreamName(stored: stream), firstRevision: firstRevision, lastRevision: lastRevision, firstPosition: firstPosition, lastPosition: lastPosition)
    }
}

/// The answer of `POST /v1/append`.
struct WireMultiStreamAppendResponse: Decodable {
    var position: Int64
    var streams: [WireAppendResponse]
    var replayed: Bool?
}

/// A page of a stream.
struct WireStreamPage: Decodable {
    var stream: String
    var revision: Int64
    var events: [WireEvent]
    var next: Int64?
}

/// A page of the log, or of a correlation.
struct WireLogPage: Decodable {
    var events: [WireEvent]
    var next: Int64
}

/// The answer of `POST /v1/query`.
struct WireQueryResponse: Decodable {
    var events: [WireEvent]
    var head: Int64
}

/// The answer of `DELETE /v1/streams/{stream}`.
struct WireDeleteResponse: Decodable {
    var stream: String
    var mode: String
    var revision: Int64
    var position: Int64
}

/// The `shutdown` message of a subscription.
struct WireShutdown: Decodable {
    var resumeAfter: Int64
}
