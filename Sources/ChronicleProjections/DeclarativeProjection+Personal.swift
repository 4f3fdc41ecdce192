import ChronicleCore

extension DeclarativeProjection {
    /// One entity's personal fields for an event type.
    struct PersonalDeclaration: Sendable {
        var entity: String
        var fields: [String]
        /// `nil`: the entity id of the event's stream.
        var subject: EntitySchema.JSONPath?
    }

    /// The personal fields of each event type: its home entity's `personal:` and its own
    /// (under any entity that declares it).
    static func personalDeclarations(_ schema: EntitySchema) -> [String: [PersonalDeclaration]] {
        var declarations: [String: [PersonalDeclaration]] = [:]
        for (name, entity) in schema.entities.sorted(by: { $0.key < $1.key }) {
            for type in entity.events.keys.sorted() {
                if entity.routes[type] == nil, let shared = entity.personal {
                    declarations[type, default: []].append(PersonalDeclaration(entity: name, fields: shared.fields, subject: shared.subject))
                }
                if let own = entity.personalByType[type] {
                    declarations[type, default: []].append(PersonalDeclaration(entity: name, fields: own.fields, subject: own.subject ?? entity.personal?.subject))
                }
            }
        }
        return declarations
    }

    /// Whether the schema declares personal fields.
    public var declaresPersonalData: Bool { !personal.isEmpty }

    /// Whether the type has personal fields.
    public func declaresPersonalFields(type: String) -> Bool { personal[type] != nil }

    /// The personal fields of an event and whose they are: each declaration's `subject:`
    /// path, or the entity id of the event's stream.
    ///
    /// - Throws: ``ChronicleError/Code/invalidPayload`` (422) naming the path when a subject
    ///   resolves to nothing or to something other than a non-empty string or an integer.
    public func personalFields(type: String, stream: StreamName, data: @autoclosure () throws -> JSONValue) throws -> [PersonalField] {
        var fields: [PersonalField] = []
        for declaration in personal[type] ?? [] {
            let subject: String
            if let path = declaration.subject {
                switch path.resolve(in: try data()) {
                case .string(let text)? where !text.isEmpty: subject = text
                case .integer(let number)?: subject = String(number)
                case let found:
                    let problem = found.map { "is a JSON \($0.kindName == "string" ? "empty string" : $0.kindName)" } ?? "resolves to nothing"
                    var error = ChronicleError(.invalidPayload, "\(type): the subject of its personal fields, \(path.text), \(problem); send the id of the person the fields belong to there.")
                    error.details = ["entity": .string(declaration.entity), "path": .string(path.text), "eventType": .string(type), "pointer": .string("/" + path.tokens.joined(separator: "/"))]
                    throw error
                }
            } else if stream.category == declaration.entity, let id = stream.entityID, !id.isEmpty {
                subject = id
            } else {
                var error = ChronicleError(.invalidPayload, "\(type): its personal fields belong to the entity id of a \(declaration.entity) stream, but it is appended to \(stream.rawValue.debugDescription); append it to a \(declaration.entity)-<id> stream, or give its declaration a `subject:`.")
                error.details = ["entity": .string(declaration.entity), "eventType": .string(type)]
                throw error
            }
            for name in declaration.fields where !fields.contains(where: { $0.name == name }) {
                fields.append(PersonalField(name: name, subject: subject))
            }
        }
        return fields
    }
}
