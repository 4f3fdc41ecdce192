/// What one stored event did to a projection's documents: every document it changed and the
/// JSON Patch it made to each — the "diffs stored inside the event", derived from the
/// temporal table and so always true, never written by the client.
public struct EventEffects: Sendable {
    /// One document the event changed.
    public struct Effect: Sendable, Hashable {
        /// How the document changed.
        public enum Change: String, Sendable, Hashable {
            /// It did not exist (or was removed) before the event.
            case created
            /// Its state changed.
            case updated
            /// The event soft-deleted it.
            case deleted
            /// It was deleted before and the event brought it back.
            case restored
        }

        /// The entity kind.
        public var entity: String
        /// The entity id.
        public var id: String
        /// How it changed.
        public var change: Change
        /// The document right after the event.
        public var document: Document
        /// The patch from its state before the event to its state after it.
        public var patch: JSONPatch
    }

    /// The event.
    public var event: RecordedEvent
    /// The documents it changed, in the order the projection lists its targets.
    public var effects: [Effect]

    /// The effects of the event at `position` in the read model of `documents`, whose
    /// projection is `projection`.
    ///
    /// - Throws: ``ChronicleError/Code/momentOutOfRange`` for a position beyond the head or
    ///   before the recorded past, ``ChronicleError/Code/notCaughtUp`` when an asynchronous
    ///   projection has not applied it yet, ``ChronicleError/Code/eventNotFound`` when no event
    ///   is stored there (its stream was hard-deleted).
    public static func load(position: Int64, store: any EventStore, documents: any DocumentStore, projection: any Projection) async throws -> EventEffects {
        guard position >= 1 else {
            throw ChronicleError(.invalidInput, "position must be a log position, 1 or more; got \(position).")
        }
        _ = try await LogMoment.position(position).resolve(in: store, documents: documents, name: "position")
        guard let event = try await store.readLog(after: position - 1, limit: 1, filter: LogFilter()).events.first, event.position == position else {
            throw ChronicleError(.eventNotFound, "No event is stored at position \(position): its stream was hard-deleted, and its events with it.")
        }
        var effects: [Effect] = []
        for target in projection.targets(of: event) {
            guard let after = try await documents.document(entity: target.entity, id: target.id, asOf: position), after.position == position else { continue }
            let before = try await documents.document(entity: target.entity, id: target.id, asOf: position - 1)
            let change: Effect.Change = switch (before, after.deleted) {
            case (nil, _): .created
            case (let before?, true): before.deleted ? .updated : .deleted
            case (let before?, false): before.deleted ? .restored : .updated
            }
            effects.append(Effect(entity: target.entity, id: target.id, change: change, document: after, patch: JSONPatch.diff(from: before?.state ?? [:], to: after.state)))
        }
        return EventEffects(event: event, effects: effects)
    }
}

extension EventEffects {
    /// One effect as the HTTP API (`GET /v1/events/{position}/effects`) and the clients carry it.
    public struct Record: Codable, Sendable, Hashable {
        /// The entity kind.
        public var entity: String
        /// The entity id.
        public var id: String
        /// `created`, `updated`, `deleted` or `restored`.
        public var change: String
        /// The entity's version after the event (`-1`: its own stream had no event yet).
        public var version: Int64
        /// Whether it is deleted after the event.
        public var deleted: Bool
        /// Its state after the event.
        public var state: JSONValue
        /// The RFC 6902 JSON Patch from its state before the event to its state after it.
        public var patch: JSONValue

        /// The record of an effect.
        public init(_ effect: Effect) {
            entity = effect.entity
            id = effect.id
            change = effect.change.rawValue
            version = effect.document.version
            deleted = effect.document.deleted
            state = effect.document.state
            patch = effect.patch.json
        }
    }
}
