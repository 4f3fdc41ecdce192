import ChronicleCore

/// The projection of an ``EntitySchema``: one document per entity, named `entities`.
///
/// A soft delete of the entity's stream marks the document deleted; a hard delete removes it.
public struct DeclarativeProjection: Projection {
    /// The schema it follows.
    public let schema: EntitySchema

    /// Creates the projection of a schema.
    public init(schema: EntitySchema) {
        self.schema = schema
    }

    /// `entities`.
    public var name: String { "entities" }

    /// The schema's fingerprint.
    public var definitionHash: String { schema.definitionHash }

    /// The entity of an event of a schema entity's stream (or of a deletion of such a stream).
    public func entity(of event: RecordedEvent) -> (entity: String, id: String)? {
        let stream = StreamDeletion.stream(of: event) ?? event.stream
        if stream.isReserved { return nil }
        guard let id = stream.entityID, !id.isEmpty, schema.entities[stream.category] != nil else { return nil }
        return (stream.category, id)
    }

    /// Whether the schema says this event type erases its entity.
    public func erases(eventType: String, in stream: StreamName) -> Bool {
        schema.entities[stream.category]?.events[eventType] == .erase
    }

    /// Applies the event's operation.
    public func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange {
        guard let (entity, id) = entity(of: event) else { return .none }
        if StreamDeletion.stream(of: event) != nil {
            return StreamDeletion.change(for: event, document: document, entity: entity, id: id)
        }
        guard let operation = schema.entities[entity]?.events[event.type] else { return .none }
        let current = document?.state ?? [:]
        var deleted = false
        let state: JSONValue
        switch operation {
        case .create: state = event.data
        case .merge: state = current.merging(event.data)
        case .set(let fields): state = current.merging(fields)
        case .delete:
            guard document != nil else { return .none }
            state = current
            deleted = true
        case .erase:
            return .remove(entity: entity, id: id)
        }
        return .save(Document(entity: entity, id: id, state: state, version: event.revision, position: event.position, updatedAtMicroseconds: event.recordedAtMicroseconds, deleted: deleted))
    }
}
