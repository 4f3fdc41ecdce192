import ChronicleCore
import Foundation

/// What changed between two moments: `GET /v1/changes`.
public struct ChangesResponse: Codable, Sendable, Hashable {
    /// One entity's change.
    public struct Change: Codable, Sendable, Hashable {
        /// The entity kind.
        public var entity: String
        /// The entity id.
        public var id: String
        /// `created`, `changed`, `deleted`, `restored` or `erased`.
        public var kind: String
        /// The position of its last change in the range.
        public var position: Int64
        /// The document at `from` (`null` if it did not exist then).
        public var before: DocumentResponse?
        /// The document at `to` (`null` if it does not exist then).
        public var after: DocumentResponse?
        /// The RFC 6902 JSON Patch from the state at `from` to the state at `to`.
        public var patch: RawJSON
    }

    /// The position the changes start after.
    public var from: Int64
    /// The position they go up to.
    public var to: Int64
    /// The changes, in position order of their last change.
    public var changes: [Change]
    /// The cursor of the next page, or `null` after the last one.
    public var next: String?

    /// The answer for a page.
    public init(from: Int64, to: Int64, page: ChangePage) {
        self.from = from
        self.to = to
        self.changes = page.changes.map { change in
            Change(
                entity: change.entity, id: change.id, kind: change.kind.rawValue, position: change.position,
                before: change.before.map { DocumentResponse($0, asOf: from) }, after: change.after.map { DocumentResponse($0, asOf: to) },
                patch: RawJSON(change.patch.json)
            )
        }
        self.next = page.next?.token
    }
}

/// Which event last set each field: `GET /v1/entities/{entity}/{id}/blame`.
public struct BlameResponse: Codable, Sendable, Hashable {
    /// One field and the event that set it.
    public struct Field: Codable, Sendable, Hashable {
        /// The JSON Pointer of the field (a leaf of the state).
        public var pointer: String
        /// Its value.
        public var value: RawJSON
        /// The event that last set it.
        public var eventId: String
        /// That event's log position.
        public var position: Int64
        /// Its stream: the entity's own, or another whose event changed it.
        public var stream: String
        /// Its revision in that stream.
        public var revision: Int64
        /// Its type.
        public var type: String
        /// When it was recorded.
        public var recordedAt: String
        /// Its metadata's `correlationId`, if any.
        public var correlationId: String?
        /// Its metadata's `actor`, if any.
        public var actor: RawJSON?
    }

    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String
    /// The version blamed.
    public var version: Int64
    /// The log position the blame is as of (`null`: current).
    public var asOf: Int64?
    /// The fields, in pointer order.
    public var fields: [Field]

    /// The answer for a blame.
    public init(_ blame: EntityBlame, asOf: Int64?) {
        entity = blame.document.entity
        id = blame.document.id
        version = blame.document.version
        self.asOf = asOf
        fields = blame.lines.map { line in
            let metadata = line.event.metadata
            var correlation: String?
            if case .string(let text)? = metadata["correlationId"] { correlation = text }
            return Field(
                pointer: line.pointer.description, value: RawJSON(line.value), eventId: line.event.id.uuidString.lowercased(),
                position: line.event.position, stream: line.event.stream.rawValue, revision: line.event.revision, type: line.event.type,
                recordedAt: Timestamp.iso8601(microseconds: line.event.recordedAtMicroseconds),
                correlationId: correlation, actor: metadata["actor"].map(RawJSON.init)
            )
        }
    }
}

/// Every document one event changed, and the patch it made to each:
/// `GET /v1/events/{position}/effects`.
public struct EventEffectsResponse: Codable, Sendable, Hashable {
    /// The projection whose documents these are.
    public var projection: String
    /// The event.
    public var event: EventResponse
    /// The documents it changed.
    public var effects: [EventEffects.Record]

    /// The answer for an event's effects.
    public init(_ effects: EventEffects, projection: String) {
        self.projection = projection
        event = EventResponse(effects.event)
        self.effects = effects.effects.map(EventEffects.Record.init)
    }
}
