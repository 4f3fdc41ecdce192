import ChronicleCore

/// The projection of an ``EntitySchema``: one document per entity, named `entities`.
///
/// An event changes its stream's entity when that entity declares its type plainly (its
/// *home*), and the documents every `id:`/`each:` declaration of its type names, in the same
/// transaction. A soft delete of an entity's stream marks its document deleted; a hard delete
/// removes it. The schema's rules (declared types, payload schemas, `require:`, `unique:`,
/// and that `merge`, `set` and `delete` need an existing entity) are checked, per changed
/// document, by every append to a store that holds this projection: see
/// ``checkAppend(_:documents:)``.
public struct DeclarativeProjection: Projection {
    /// The schema it follows.
    public let schema: EntitySchema
    /// The home entity of each event type: the one that declares it without `id:`/`each:`.
    let owners: [String: String]
    /// The entities that declare each event type with `id:`/`each:`, by name.
    let routed: [String: [String]]
    /// Compiled payload schemas, by entity and event type.
    let validators: [String: [String: JSONSchema]]
    /// The personal fields of each event type, by the entity that declares them.
    let personal: [String: [PersonalDeclaration]]

    /// Creates the projection of a schema.
    public init(schema: EntitySchema) {
        self.schema = schema
        var owners: [String: String] = [:]
        var routed: [String: [String]] = [:]
        var validators: [String: [String: JSONSchema]] = [:]
        for (name, entity) in schema.entities {
            for type in entity.events.keys {
                if entity.routes[type] == nil { owners[type] = name } else { routed[type, default: []].append(name) }
            }
            for (type, payload) in entity.payloadSchemas {
                // The schema file's parser compiled each one already, so this cannot fail.
                validators[name, default: [:]][type] = try? JSONSchema(payload)
            }
        }
        self.owners = owners
        self.routed = routed.mapValues { $0.sorted() }
        self.validators = validators
        self.personal = Self.personalDeclarations(schema)
    }

    /// `entities`.
    public var name: String { "entities" }

    /// The schema's fingerprint.
    public var definitionHash: String { schema.definitionHash }

    /// Whether some event type changes documents named by its data.
    public var changesOtherEntities: Bool { !routed.isEmpty }

    /// The entity whose streams an event type is appended to when the schema declares it
    /// plainly (`POST /v1/events/{type}` writes there), if any.
    public func homeEntity(of type: String) -> String? { owners[type] }

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

    /// The event's home document (its stream's entity, if that declares the type plainly),
    /// then the documents of every `id:`/`each:` declaration of its type, each once. A path
    /// that resolves to nothing names no document here (an append is refused for it; see
    /// ``checkAppend(_:documents:)``).
    public func targets(of event: RecordedEvent) -> [DocumentChangeKey] {
        if StreamDeletion.stream(of: event) != nil {
            return entity(of: event).map { [DocumentChangeKey(entity: $0.entity, id: $0.id)] } ?? []
        }
        return (try? changes(of: event, throwing: false).map(\.target)) ?? []
    }

    /// Applies the event's operation to its stream's entity, as ``evolve(_:with:target:)`` does.
    public func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange {
        guard let (entity, id) = entity(of: event) else { return .none }
        return try evolve(document, with: event, target: DocumentChangeKey(entity: entity, id: id))
    }

    /// Applies the operation of the target's entity for the event's type, with the data it
    /// uses (all of it, the element of `each:`, or a template of either); for an event of
    /// another stream the document keeps its version (`-1` when it is new).
    public func evolve(_ document: Document?, with event: RecordedEvent, target: DocumentChangeKey) throws -> DocumentChange {
        if StreamDeletion.stream(of: event) != nil {
            guard let (entity, id) = entity(of: event), entity == target.entity, id == target.id else { return .none }
            return StreamDeletion.change(for: event, document: document, entity: entity, id: id)
        }
        var parsed: JSONValue?
        func data() -> JSONValue { Self.data(of: event, &parsed) }
        guard let change = (try? changes(of: event, throwing: false, data: data))?.first(where: { $0.target == target }) else { return .none }
        return evolve(document, with: event, change: change, data: data)
    }

    /// Every document the event changes and what it does to each, reading its data once.
    public func changes(of event: RecordedEvent, current: (DocumentChangeKey) throws -> Document?) throws -> [TargetChange] {
        if StreamDeletion.stream(of: event) != nil { return try changesTargetByTarget(of: event, current: current) }
        var parsed: JSONValue?
        func data() -> JSONValue { Self.data(of: event, &parsed) }
        guard let found = try? changes(of: event, throwing: false, data: data) else { return [] }
        return try found.map { change in
            let before = try current(change.target)
            return TargetChange(target: change.target, before: before, change: evolve(before, with: event, change: change, data: data))
        }
    }

    /// The event's data, parsed on first use.
    static func data(of event: RecordedEvent, _ parsed: inout JSONValue?) -> JSONValue {
        if let parsed { return parsed }
        let value = event.data
        parsed = value
        return value
    }

    /// What one of the event's changes does to its document.
    func evolve(_ document: Document?, with event: RecordedEvent, change: Change, data: () -> JSONValue) -> DocumentChange {
        let target = change.target, declaration = change.declaration
        guard let operation = declaration.events[event.type] else { return .none }
        let sources = change.sources ?? (operation.readsData ? [data()] : [[:]])
        let own = event.stream.category == target.entity && event.stream.entityID == target.id
        var current = document
        for source in sources {
            let data: JSONValue
            if let template = declaration.templates[event.type] {
                guard let filled = try? template.resolve(in: source) else { continue }
                data = filled
            } else {
                data = source
            }
            let state = current?.state ?? [:]
            var deleted = false
            let next: JSONValue
            switch operation {
            case .create: next = data
            case .merge, .upsert: next = state.merging(data)
            case .set(let fields): next = state.merging(fields)
            case .delete:
                guard current != nil else { continue }
                next = state
                deleted = true
            case .erase:
                return .remove(entity: target.entity, id: target.id)
            }
            let version = own ? event.revision : current?.version ?? -1
            current = Document(entity: target.entity, id: target.id, state: next, version: version, position: event.position, updatedAtMicroseconds: event.recordedAtMicroseconds, deleted: deleted)
        }
        guard let current, current != document else { return .none }
        return .save(current)
    }

    /// One document an event changes, the declaration that says so, and the data of each
    /// change (one per matching element of `each:`).
    struct Change {
        var target: DocumentChangeKey
        var declaration: EntitySchema.Entity
        /// The data of each change; `nil`: the event's data (parsed only when asked for).
        var sources: [JSONValue]?

        func data(of event: RecordedEvent) -> [JSONValue] { sources ?? [event.data] }
    }

    /// The documents an event changes; with `throwing`, a path that cannot be resolved is an
    /// `invalid-payload` error naming the entity, the path and the event, else it names nothing.
    func changes(of event: RecordedEvent, throwing: Bool) throws -> [Change] {
        var parsed: JSONValue?
        func data() -> JSONValue { Self.data(of: event, &parsed) }
        return try changes(of: event, throwing: throwing, data: data)
    }

    /// ``changes(of:throwing:)`` with the event's data from `data` (read only for routes).
    func changes(of event: RecordedEvent, throwing: Bool, data: () -> JSONValue) throws -> [Change] {
        if event.stream.isReserved { return [] }
        var changes: [Change] = []
        if let home = schema.entities[event.stream.category], home.events[event.type] != nil, home.routes[event.type] == nil,
           let id = event.stream.entityID, !id.isEmpty {
            changes.append(Change(target: DocumentChangeKey(entity: event.stream.category, id: id), declaration: home, sources: nil))
        }
        for name in routed[event.type] ?? [] {
            guard let declaration = schema.entities[name], let route = declaration.routes[event.type] else { continue }
            let sources: [(id: String, data: JSONValue)]
            do {
                sources = try route.sources(in: data())
            } catch {
                guard throwing else { continue }
                throw unresolved(error, event: event, entity: name, what: "the id of the \(name) it changes")
            }
            for source in sources {
                let key = DocumentChangeKey(entity: name, id: source.id)
                if let index = changes.firstIndex(where: { $0.target == key }) {
                    changes[index].sources?.append(source.data)
                } else {
                    changes.append(Change(target: key, declaration: declaration, sources: [source.data]))
                }
            }
        }
        return changes
    }

    /// The `422 invalid-payload` of a path of the schema that an event's data does not fill.
    func unresolved(_ failure: EntitySchema.RouteFailure, event: RecordedEvent, entity: String, what: String) -> ChronicleError {
        var error = ChronicleError(.invalidPayload, "The \(entity) declaration of \(event.type) reads \(what) at \(failure.path.text), which \(failure.problem) in this event. Send it in the payload, or fix the path in the schema.", stream: event.stream)
        error.details = ["entity": .string(entity), "path": .string(failure.path.text), "eventType": .string(event.type), "pointer": .string("/" + failure.path.tokens.joined(separator: "/"))]
        return error
    }
}

extension EntitySchema.Operation {
    /// Whether the operation uses the event's data (`set`, `delete` and `erase` do not, so
    /// their events are not parsed to apply them).
    var readsData: Bool {
        switch self {
        case .create, .merge, .upsert: true
        case .set, .delete, .erase: false
        }
    }
}
