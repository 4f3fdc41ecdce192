import ChronicleCore

/// The projection of an ``EntitySchema``: one document per entity, named `entities`.
///
/// A soft delete of the entity's stream marks the document deleted; a hard delete removes it.
/// The schema's rules (declared types, payload schemas, `require:`, `unique:`, and that
/// `merge`, `set` and `delete` need an existing entity) are checked by every append to a
/// store that holds this projection: see ``checkAppend(_:documents:)``.
public struct DeclarativeProjection: Projection {
    /// The schema it follows.
    public let schema: EntitySchema
    /// The entity each event type belongs to.
    let owners: [String: String]
    /// Compiled payload schemas, by event type.
    let validators: [String: JSONSchema]

    /// Creates the projection of a schema.
    public init(schema: EntitySchema) {
        self.schema = schema
        var owners: [String: String] = [:]
        var validators: [String: JSONSchema] = [:]
        for (name, entity) in schema.entities {
            for type in entity.events.keys { owners[type] = name }
            for (type, payload) in entity.payloadSchemas {
                // The schema file's parser compiled each one already, so this cannot fail.
                validators[type] = try? JSONSchema(payload)
            }
        }
        self.owners = owners
        self.validators = validators
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
        case .merge, .upsert: state = current.merging(event.data)
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
