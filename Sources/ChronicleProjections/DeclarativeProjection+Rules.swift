import ChronicleCore

extension DeclarativeProjection {
    /// Checks an event against the schema before it is stored, whatever the way in:
    ///
    /// 1. its type must be one the entity of its stream declares (or `ignore:`s), and a type
    ///    an entity declares plainly goes to that entity's streams only (`undeclared-event-type`);
    /// 2. its data must match the payload schema of each declaration of its type that applies
    ///    (`invalid-payload`), and fill every path those declarations read — `id:`, `each:`,
    ///    templates — (`invalid-payload`, naming the entity, the path and the event);
    /// 3. with current documents, for each document it changes: `merge`, `set` and `delete`
    ///    need a live entity (`entity-not-found`), then every `require:` of the declaration
    ///    and every `unique:` field of the entity's new state hold (`rule-violated`).
    public func checkAppend(_ event: RecordedEvent, documents: (any DocumentLookup)?) throws {
        if event.stream.isReserved { return }
        let name = event.stream.category
        if let entity = schema.entities[name] {
            if entity.events[event.type] == nil {
                guard entity.ignored.contains(event.type) else {
                    let owner = owners[event.type].map { " (it changes entity \($0))" } ?? ""
                    throw undeclared(event, "Entity \(name) does not declare event type \(event.type)\(owner), so its version and state would not follow its stream. Declare it under entities.\(name).events, or list it under entities.\(name).ignore.", entity: name)
                }
            } else if entity.routes[event.type] == nil, event.stream.entityID?.isEmpty ?? true {
                throw ChronicleError(.invalidInput, "Stream \(event.stream.rawValue.debugDescription) names no \(name) id; append \(event.type) to a stream named \(name)-<id>.", stream: event.stream)
            }
        } else if let owner = owners[event.type] {
            throw undeclared(event, "Event type \(event.type) changes entity \(owner); append it to a stream named \(owner)-<id>, not \(event.stream.rawValue.debugDescription).", entity: owner)
        }
        try checkChanges(event, documents: documents)
    }

    /// Steps 2 and 3 of ``checkAppend(_:documents:)``.
    private func checkChanges(_ event: RecordedEvent, documents: (any DocumentLookup)?) throws {
        let changes = try changes(of: event, throwing: true)
        // The data is parsed only for the checks that read it (the fold parses it anyway).
        for change in changes {
            if let validator = validators[change.target.entity]?[event.type] {
                let violations = validator.validate(event.data)
                if !violations.isEmpty {
                    var error = ChronicleError(.invalidPayload, "The payload of \(event.type) breaks its schema: " + violations.map(\.description).joined(separator: "; ") + ".", stream: event.stream)
                    error.details = ["violations": .array(violations.map { ["pointer": .string($0.pointer), "message": .string($0.message)] })]
                    if let first = violations.first { error.details["pointer"] = .string(first.pointer) }
                    throw error
                }
            }
            if let template = change.declaration.templates[event.type] {
                for source in change.data(of: event) {
                    do { _ = try template.resolve(in: source) } catch {
                        throw unresolved(error, event: event, entity: change.target.entity, what: "the data of its \(change.target.entity) change")
                    }
                }
            }
        }
        guard let documents else { return }
        for change in changes {
            try check(change, event: event, documents: documents)
        }
    }

    private func check(_ change: Change, event: RecordedEvent, documents: any DocumentLookup) throws {
        let (name, id) = (change.target.entity, change.target.id)
        guard let operation = change.declaration.events[event.type] else { return }
        let current = try documents.document(entity: name, id: id)
        let live = current.flatMap { $0.deleted ? nil : $0 }
        switch operation {
        case .merge, .set, .delete:
            if live == nil {
                let state = current == nil ? "does not exist" : "was deleted"
                let which = change.declaration.routes[event.type].map { " (named by \($0.id.text))" } ?? ""
                var error = ChronicleError(.entityNotFound, "\(name) \(id)\(which) \(state), and \(event.type) only changes an existing \(name). Create it first, or declare \(event.type) as create or upsert.", stream: event.stream)
                error.details = ["entity": .string(name), "id": .string(id)]
                throw error
            }
        case .create, .upsert, .erase:
            break
        }
        let requirements = change.declaration.requirements[event.type] ?? []
        if !requirements.isEmpty {
            for data in change.data(of: event) {
                for (index, requirement) in requirements.enumerated() {
                    try rule(requirement, index: index, event: event, data: data, entity: name, id: id).verify(in: documents)
                }
            }
        }
        let unique = change.declaration.unique
        guard !unique.isEmpty, case .save(let next) = try evolve(current, with: event, target: change.target), !next.deleted else { return }
        for field in unique {
            guard let value = next.state[field], value != .null else { continue }
            if let before = live?.state[field], JSONValue.equal(before, value) { continue }
            try AppendRule(.unique(entity: name, field: field, value: value, id: id), status: 409, name: "\(name).unique.\(field)").verify(in: documents)
        }
    }

    /// The documents other than those it changes that an event's `require:` items name, and
    /// the holders of the unique values its changes set.
    public func readsForCheck(of event: RecordedEvent) -> [AppendCheckRead] {
        guard let changes = try? changes(of: event, throwing: false) else { return [] }
        var reads: [AppendCheckRead] = []
        for change in changes {
            guard let operation = change.declaration.events[event.type] else { continue }
            let requirements = change.declaration.requirements[event.type] ?? []
            let unique = change.declaration.unique
            if requirements.isEmpty && unique.isEmpty { continue }
            for data in change.data(of: event) {
                for (index, requirement) in requirements.enumerated() {
                    guard case .entity = requirement.target, let rule = try? rule(requirement, index: index, event: event, data: data, entity: change.target.entity, id: change.target.id) else { continue }
                    switch rule.check {
                    case .exists(let entity, let id), .absent(let entity, let id), .matches(let entity, let id, _), .version(let entity, let id, _):
                        reads.append(.document(entity: entity, id: id))
                    case .unique:
                        break
                    }
                }
                let fields: JSONValue = if case .set(let fields) = operation { fields } else { (try? change.declaration.templates[event.type]?.resolve(in: data)) ?? data }
                for field in unique {
                    if let value = fields[field], value != .null { reads.append(.holder(entity: change.target.entity, field: field, value: value)) }
                }
            }
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
        error.details = ["entity": .string(entity), "eventType": .string(event.type)]
        return error
    }
}
