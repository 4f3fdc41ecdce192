import ChronicleCore
import Foundation

/// The answer of a declarative write, `POST /v1/events/{type}`.
public struct DeclarativeWriteResponse: Codable, Sendable, Hashable {
    /// The entity kind the schema maps the event type to.
    public var entity: String
    /// The entity's id (generated for a `create` without one).
    public var id: String
    /// The entity's stream.
    public var stream: String
    /// The event's revision in the stream (the entity's ETag).
    public var revision: Int64
    /// The event's log position: read your own write with `?after=`.
    public var position: Int64
    /// The request's correlation id, carried by the event and its outcomes.
    public var correlationId: String
    /// The event's id.
    public var eventId: String?
    /// Whether this was a retry (same `Idempotency-Key`) of a write stored before: nothing
    /// new was stored, and the answer is the original one (status `200` rather than `201`).
    public var replayed: Bool?

    /// Creates the answer.
    public init(entity: String, id: String, stream: String, revision: Int64, position: Int64, correlationId: String, eventId: UUID? = nil) {
        self.eventId = eventId?.uuidString.lowercased()
        self.entity = entity
        self.id = id
        self.stream = stream
        self.revision = revision
        self.position = position
        self.correlationId = correlationId
    }
}

/// A read-model document: `GET /v1/entities/{entity}/{id}`, and each item of a list.
public struct DocumentResponse: Codable, Sendable, Hashable {
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
    public var state: RawJSON
    /// For a read `?asOf=`: the log position the document is as of (`null` for current reads).
    public var asOf: Int64?

    /// The answer for a document (read as of `asOf`, if given).
    public init(_ document: Document, asOf: Int64? = nil) {
        self.asOf = asOf
        self.entity = document.entity
        self.id = document.id
        self.version = document.version
        self.position = document.position
        self.updatedAt = Timestamp.iso8601(microseconds: document.updatedAtMicroseconds)
        self.deleted = document.deleted
        self.state = RawJSON(document.state)
    }
}

/// A page of an entity's documents: `GET /v1/entities/{entity}`.
public struct DocumentListResponse: Codable, Sendable, Hashable {
    /// The entity kind.
    public var entity: String
    /// The documents of the page.
    public var documents: [DocumentResponse]
    /// The cursor of the next page, or `null` after the last one.
    public var next: String?
    /// For a list `?asOf=`: the log position every document of it is as of (one cut).
    public var asOf: Int64?

    /// The answer for a page (read as of `asOf`, if given).
    public init(entity: String, page: DocumentPage, asOf: Int64? = nil) {
        self.entity = entity
        self.documents = page.documents.map { DocumentResponse($0, asOf: asOf) }
        self.next = page.next?.token
        self.asOf = asOf
    }
}

/// Each event of an entity with the RFC 6902 patch it made to the state:
/// `GET /v1/entities/{entity}/{id}/history`.
public struct EntityHistoryResponse: Codable, Sendable, Hashable {
    /// One event of the history.
    public struct Entry: Codable, Sendable, Hashable {
        /// The entity's version after the event: the event's revision, or for an event of
        /// another stream that changed it, the version it kept (`-1`: its stream had none).
        public var version: Int64
        /// The stream of the event, when it is not the entity's own (a schema's `id:`/`each:`).
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
        public var patch: RawJSON
    }

    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String
    /// The events, oldest first.
    public var history: [Entry]

    /// The history of a timeline.
    public init(_ timeline: EntityTimeline) {
        self.entity = timeline.entity
        self.id = timeline.id
        var previous: JSONValue = [:]
        self.history = timeline.steps.map { step in
            let state = step.document?.state ?? [:]
            defer { previous = state }
            return Entry(
                version: step.version, stream: step.isOwn ? nil : step.event.stream.rawValue, position: step.event.position, type: step.event.type,
                recordedAt: Timestamp.iso8601(microseconds: step.event.recordedAtMicroseconds),
                deleted: step.document?.deleted ?? false, patch: RawJSON(JSONPatch.diff(from: previous, to: state).json)
            )
        }
    }
}

/// The patch between two versions of an entity: `GET /v1/entities/{entity}/{id}/diff`.
public struct EntityDiffResponse: Codable, Sendable, Hashable {
    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String
    /// The version diffed from.
    public var from: Int64
    /// The version diffed to.
    public var to: Int64
    /// The RFC 6902 JSON Patch from one state to the other.
    public var patch: RawJSON

    /// The diff between two documents of a timeline's entity.
    public init(_ timeline: EntityTimeline, from before: Document, to after: Document) {
        self.entity = timeline.entity
        self.id = timeline.id
        self.from = before.version
        self.to = after.version
        self.patch = RawJSON(JSONPatch.diff(from: before.state, to: after.state).json)
    }
}
