import ChronicleCore

/// What changed in the read model between two moments: ``ChronicleClient/changes(from:to:entity:limit:cursor:projection:)``.
public struct EntityChanges: Codable, Sendable, Hashable {
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
        /// The document at `from` (`nil` if it did not exist then).
        public var before: EntityDocument?
        /// The document at `to` (`nil` if it does not exist then).
        public var after: EntityDocument?
        /// The RFC 6902 JSON Patch from the state at `from` to the state at `to`.
        public var patch: JSONValue
    }

    /// The position the changes start after.
    public var from: Int64
    /// The position they go up to.
    public var to: Int64
    /// The changes, in position order of their last change.
    public var changes: [Change]
    /// The cursor of the next page (pass it as `cursor`), or `nil` after the last one.
    public var next: String?
}

/// Which event last set each field of an entity: ``ChronicleClient/blame(_:_:asOf:projection:)``.
public struct EntityBlameResult: Codable, Sendable, Hashable {
    /// One field and the event that set it.
    public struct Field: Codable, Sendable, Hashable {
        /// The JSON Pointer of the field (a leaf of the state).
        public var pointer: String
        /// Its value.
        public var value: JSONValue
        /// The event that last set it.
        public var eventId: String
        /// That event's log position.
        public var position: Int64
        /// Its stream (absent from servers before it was reported).
        public var stream: String?
        /// Its revision in that stream.
        public var revision: Int64
        /// Its type.
        public var type: String
        /// When it was recorded.
        public var recordedAt: String
        /// Its metadata's `correlationId`, if any.
        public var correlationId: String?
        /// Its metadata's `actor`, if any.
        public var actor: JSONValue?
    }

    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String
    /// The version blamed.
    public var version: Int64
    /// The log position the blame is as of (`nil`: current).
    public var asOf: Int64?
    /// The fields, in pointer order.
    public var fields: [Field]
}

/// Every document one event changed, and the patch it made to each:
/// ``ChronicleClient/effects(ofEventAt:projection:)``.
public struct EventEffectsResult: Sendable, Hashable {
    /// One document the event changed: entity, id, change, version, deleted, state, patch.
    public typealias Effect = EventEffects.Record

    /// The projection whose documents these are.
    public var projection: String
    /// The event.
    public var event: RecordedEvent
    /// The documents it changed.
    public var effects: [Effect]
}

/// The answer of `GET /v1/events/{position}/effects`.
struct WireEventEffects: Decodable {
    var projection: String
    var event: WireEvent
    var effects: [EventEffects.Record]
}
