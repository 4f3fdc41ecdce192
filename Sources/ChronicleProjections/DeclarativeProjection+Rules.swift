import ChronicleCore

extension DeclarativeProjection {
    /// Checks an event against the schema before it is stored, whatever the way in:
    ///
    /// 1. its type must be one the entity of its stream declares (or `ignore:`s), and a type
    ///    an entity declares goes to that entity's streams only (`undeclared-event-type`);
    /// 2. its data must match the type's payload schema (`invalid-payload`);
    /// 3. with current documents: `merge`, `set` and `delete` need a live entity
    ///    (`entity-not-found`), then every `require:` of the type and every `unique:` field
    ///    of the entity's new state hold (`rule-violated`).
    public func checkAppend(_ event: RecordedEvent, documents: (any DocumentLookup)?) throws {
        if event.stream.isReserved { return }
        let name = event.stream.category
        guard let entity = schema.entities[name] else {
            if let owner = owners[event.type] {
                throw undeclared(event, "Event type \(event.type) changes entity \(owner); append it to a stream named \(owner)-<id>, not \(event.stream.rawValue.debugDescription).", entity: owner)
            }
            return
        }
        guard let operation = entity.events[event.type] else {
            if entity.ignored.contains(event.type) { return }
            let owner = owners[event.type].map { " (it changes entity \($0))" } ?? ""
            throw undeclared(event, "Entity \(name) does not declare event type \(event.type)\(owner), so its version and state would not follow its stream. Declare it under entities.\(name).events, or list it under entities.\(name).ignore.", entity: name)
        }
        guard let id = event.stream.entityID, !id.isEmpty else {
            throw ChronicleError(.invalidInput, "Stream \(event.stream.rawValue.debugDescription) names no \(name) id; append \(event.type) to a stream named \(name)-<id>.", stream: event.stream)
        }
        // The data is parsed only for the checks that read it (the fold parses it anyway).
        let validator = validators[event.type]
        let requirements = entity.requirements[event.type] ?? []
        let data: JSONValue = validator != nil || !requirements.isEmpty ? event.data : [:]
        if let validator {
            let violations = validator.validate(data)
            if !violations.isEmpty {
                var error = ChronicleError(.invalidPayload, "The payload of \(event.type) breaks its schema: " + violations.map(\.description).joined(separator: "; ") + ".", stream: event.stream)
                error.details = ["violations": .array(violations.map { ["pointer": .string($0.pointer), "message": .string($0.message)] })]
                if let first = violations.first { error.details["pointer"] = .string(first.pointer) }
                throw error
            }
        }
        guard let documents else { return }
        let current = try documents.document(entity: name, id: id)
        let live = current.flatMap { $0.deleted ? nil : $0 }
        switch operation {
        case .merge, .set, .delete:
            if live == nil {
                let state = current == nil ? "does not exist" : "was deleted"
                var error = ChronicleError(.entityNotFound, "\(name) \(id) \(state), and \(event.type) only changes an existing \(name). Create it first, or declare \(event.type) as create or upsert.", stream: event.stream)
                error.details = ["entity": .string(name), "id": .string(id)]
                throw error
            }
        case .create, .upsert, .erase:
            break
        }
        for (index, requirement) in requirements.enumerated() {
            try rule(requirement, index: index, event: event, data: data, entity: name, id: id).verify(in: documents)
        }
        guard !entity.unique.isEmpty, case .save(let next) = try evolve(current, with: event), !next.deleted else { return }
        for field in entity.unique {
            guard let value = next.state[field], value != .null else { continue }
            if let before = live?.state[field], JSONValue.equal(before, value) { continue }
            try AppendRule(.unique(entity: name, field: field, value: value, id: id), status: 409, name: "\(name).unique.\(field)").verify(in: documents)
        }
    }

    /// The documents other than the event's own that its `require:` items name, and the
    /// holders of the unique values its data sets.
    public func readsForCheck(of event: RecordedEvent) -> [AppendCheckRead] {
        guard !event.stream.isReserved, let entity = schema.entities[event.stream.category], let operation = entity.events[event.type],
              let id = event.stream.entityID else { return [] }
        let requirements = entity.requirements[event.type] ?? []
        if requirements.isEmpty && entity.unique.isEmpty { return [] }
        let data = event.data
        var reads: [AppendCheckRead] = []
        for (index, requirement) in requirements.enumerated() {
            if case .entity = requirement.target, let rule = try? rule(requirement, index: index, event: event, data: data, entity: event.stream.category, id: id) {
                switch rule.check {
                case .exists(let entity, let id), .absent(let entity, let id), .matches(let entity, let id, _), .version(let entity, let id, _):
                    reads.append(.document(entity: entity, id: id))
                case .unique:
                    break
                }
            }
        }
        let fields: JSONValue = if case .set(let fields) = operation { fields } else { data }
        for field in entity.unique {
            if let value = fields[field], value != .null { reads.append(.holder(entity: event.stream.category, field: field, value: value)) }
        }
        return reads
    }

    /// The append rule of one `require:` item for an event.
    func rule(_ requirement: EntitySchema.Requirement, index: Int, event: RecordedEvent, data: JSONValue, entity: String, id: String) throws -> AppendRule {
        let name = requirement.code ?? "\(event.type).require[\(index)]"
        var target = (entity: entity, id: id)
        if case .entity(let other, let path) = requirement.target {
            var value: JSONValue? = data
            for token in path { value = value?[token] }
            switch value {
            case .string(let text)? where !text.isEmpty: target = (other, text)
            case .integer(let number)?: target = (other, String(number))
            default:
                let pointer = "/" + path.joined(separator: "/")
                var error = ChronicleError(.invalidPayload, "The payload of \(event.type) needs \(path.joined(separator: ".")) (the id of the \(other) it refers to: a string or an integer).", stream: event.stream)
                error.details = ["pointer": .string(pointer), "rule": .string(name)]
                throw error
            }
        }
        let check: AppendRule.Check = switch requirement.check {
        case .exists: .exists(entity: target.entity, id: target.id)
        case .absent: .absent(entity: target.entity, id: target.id)
        case .matches(let conditions): .matches(entity: target.entity, id: target.id, conditions: conditions)
        }
        return AppendRule(check, status: requirement.status, detail: requirement.detail, name: name)
    }

    private func undeclared(_ event: RecordedEvent, _ message: String, entity: String) -> ChronicleError {
        var error = ChronicleError(.undeclaredEventType, message, stream: event.stream)
        error.details = ["entity": .string(entity), "type": .string(event.type)]
        return error
    }
}
