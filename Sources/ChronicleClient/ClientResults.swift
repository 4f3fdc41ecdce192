import ChronicleCore
import Foundation

/// What an append stored: each stream's revisions and positions, the events' ids, and
/// whether it was a retry of an append stored before.
public struct AppendReceipt: Sendable, Hashable {
    /// Each stream's result, in the order of the request.
    public var streams: [AppendResult.StreamResult]
    /// The log position of the last event appended: read your own write with it.
    public var position: Int64
    /// The ids of the events, in order.
    public var eventIds: [UUID]
    /// `true` if the server had already stored these events (a retry, by this client or
    /// another): nothing new was stored and the result is the original one.
    public var replayed: Bool
    /// The request's correlation id, carried by the events and their outcomes.
    public var correlationId: String

    /// The first (for a single-stream append, the only) stream's result.
    public var stream: AppendResult.StreamResult { streams[0] }

    /// Creates a receipt.
    public init(streams: [AppendResult.StreamResult], position: Int64, eventIds: [UUID], replayed: Bool, correlationId: String) {
        self.streams = streams
        self.position = position
        self.eventIds = eventIds
        self.replayed = replayed
        self.correlationId = correlationId
    }
}

/// What a declarative write (`POST /v1/events/{type}`) stored.
public struct WriteReceipt: Codable, Sendable, Hashable {
    /// The entity kind the schema maps the event type to.
    public var entity: String
    /// The entity's id (the server makes one for a `create` without it).
    public var id: String
    /// The entity's stream.
    public var stream: String
    /// The event's revision in the stream (the entity's version after it).
    public var revision: Int64
    /// The event's log position: pass it to ``ChronicleClient/readYourWrite(_:_:after:wait:)``.
    public var position: Int64
    /// The request's correlation id: pass it to ``ChronicleClient/outcome(of:matching:after:timeout:)``.
    public var correlationId: String
    /// The event's id.
    public var eventId: String?
    /// `true` if the client lost the connection and found the write already stored
    /// (by its correlation) instead of sending it again.
    public var replayed: Bool?

    /// Creates a receipt.
    public init(entity: String, id: String, stream: String, revision: Int64, position: Int64, correlationId: String, eventId: String? = nil, replayed: Bool? = nil) {
        self.entity = entity
        self.id = id
        self.stream = stream
        self.revision = revision
        self.position = position
        self.correlationId = correlationId
        self.eventId = eventId
        self.replayed = replayed
    }
}

/// An entity's read-model document.
public struct EntityDocument: Codable, Sendable, Hashable {
    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String
    /// The revision of the last event applied (the ETag).
    public var version: Int64
    /// The log position of that event.
    public var position: Int64
    /// When that event was recorded (RFC 3339, UTC, microseconds).
    public var updatedAt: String
    /// Whether the entity is soft-deleted.
    public var deleted: Bool
    /// The state, a JSON object.
    public var state: JSONValue
    /// For a read `asOf:`, the log position the document is as of; `nil` for current reads.
    public var asOf: Int64?
}

/// A page of an entity's documents.
public struct EntityPage: Codable, Sendable, Hashable {
    /// The entity kind.
    public var entity: String
    /// The documents of the page.
    public var documents: [EntityDocument]
    /// The cursor of the next page (pass it as `cursor`), or `nil` after the last one.
    public var next: String?
    /// For a list `asOf:`, the log position every document of it is as of.
    public var asOf: Int64?
}

/// Each event of an entity with the RFC 6902 JSON Patch it made to the state.
public struct EntityHistory: Codable, Sendable, Hashable {
    /// One event of the history.
    public struct Entry: Codable, Sendable, Hashable {
        /// The entity's version after the event (`-1`: its stream had none yet).
        public var version: Int64
        /// The event's stream, when it is not the entity's own (an event that changes
        /// several entities).
        public var stream: String?
        /// The event's log position.
        public var position: Int64
        /// The event's type.
        public var type: String
        /// When the event was recorded.
        public var recordedAt: String
        /// Whether the entity was deleted after the event.
        public var deleted: Bool
        /// The JSON Patch from the state before the event to the state after it.
        public var patch: JSONValue
    }

    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String
    /// The events, oldest first.
    public var history: [Entry]
}

/// The JSON Patch between two versions of an entity.
public struct EntityDiff: Codable, Sendable, Hashable {
    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String
    /// The version diffed from.
    public var from: Int64
    /// The version diffed to.
    public var to: Int64
    /// The RFC 6902 JSON Patch from one state to the other.
    public var patch: JSONValue
}

/// A filter of an entity list: `field` compared with `value` (a JSON scalar).
public struct EntityFilter: Sendable, Hashable {
    /// How a field is compared.
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
        /// Equal.
        case eq
        /// Not equal.
        case ne
        /// Greater than.
        case gt
        /// Greater than or equal.
        case gte
        /// Less than.
        case lt
        /// Less than or equal.
        case lte
    }

    /// A top-level field of the state (letters, digits, `_`).
    public var field: String
    /// The comparison.
    public var comparison: Comparison
    /// The value, a JSON scalar.
    public var value: JSONValue

    /// `field` compared with `value`.
    public init(_ field: String, _ comparison: Comparison = .eq, _ value: JSONValue) {
        self.field = field
        self.comparison = comparison
        self.value = value
    }
}

/// The first event the asynchronous work of a request produced among those asked for, or
/// the record of a reactor that gave up on it.
public struct Outcome: Sendable, Hashable {
    /// The event: one of the types asked for, or `$reactorParked`.
    public var event: RecordedEvent

    /// Whether a reactor gave up (the event is `$reactorParked`): the work failed.
    public var isParked: Bool { event.type == "$reactorParked" }
    /// For a parked outcome, the reactor that gave up.
    public var reactor: String? { isParked ? Self.string(event.data["reactor"]) : nil }
    /// For a parked outcome, its last error (`HTTP 503`…).
    public var error: String? { isParked ? Self.string(event.data["error"]) : nil }

    /// Creates an outcome.
    public init(event: RecordedEvent) {
        self.event = event
    }

    private static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { text } else { nil }
    }
}
