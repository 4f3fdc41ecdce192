import ChronicleCore
import ChronicleProjections
import Foundation
import HTTPTypes
import Hummingbird

extension ChronicleServer {
    /// `POST /v1/events/{type}`: declarative writes. The schema maps the type to its entity;
    /// the payload is checked against the type's JSON Schema; preconditions and uniqueness are
    /// checked with the append, in its transaction.
    func registerEventRoutes(on router: Router<ChronicleRequestContext>) {
        let entities = entities
        let store = store
        let configuration = configuration

        router.post("/v1/events/{type}") { request, context in
            try context.require(.write)
            guard let entities, let projection = entities.projection as? DeclarativeProjection else {
                throw Problem(.notFound, code: "no-schema", title: "No schema", detail: "This server has no schema: start it with --schema FILE to declare event types.")
            }
            let type = try context.parameters.decoded("type")
            guard let (entityName, entity) = projection.schema.entities.first(where: { $0.value.events[type] != nil }), let operation = entity.events[type] else {
                throw Problem(.notFound, code: "unknown-event-type", title: "Unknown event type", detail: "The schema declares no event type \(type.debugDescription).")
            }
            let body = try await request.jsonBody(limit: configuration.maximumRequestBytes)
            guard case .object(var data) = body else {
                throw Problem(.unprocessableContent, code: "invalid-payload", title: "Invalid payload", detail: "The payload of \(type) must be a JSON object; got a JSON \(body.kindName).")
            }
            if let schema = entity.payloadSchemas[type] {
                let violations = try JSONSchema(schema).validate(body)
                if !violations.isEmpty {
                    throw Problem(.unprocessableContent, code: "invalid-payload", title: "Invalid payload", detail: "The payload of \(type) breaks its schema: " + violations.map(\.description).joined(separator: "; ") + ".", extensions: [
                        "violations": .array(violations.map { ["pointer": .string($0.pointer), "message": .string($0.message)] }),
                    ])
                }
            }
            let id: String
            switch data[entity.idField] {
            case .string(let text)? where !text.isEmpty: id = text
            case .integer(let number)?: id = String(number)
            case nil where operation == .create:
                id = UUID.timeOrdered().uuidString.lowercased()
                data[entity.idField] = .string(id)
            default:
                throw Problem(.unprocessableContent, code: "invalid-payload", title: "Invalid payload", detail: "The payload of \(type) needs the \(entityName) id in \(entity.idField.debugDescription) (a string or an integer).", extensions: ["pointer": .string("/" + entity.idField)])
            }
            let stream = try StreamName("\(entityName)-\(id)")
            var rules: [AppendRule] = []
            for requirement in entity.requirements[type] ?? [] {
                var target = (entityName, id)
                if case .entity(let other, let path) = requirement.target {
                    var value: JSONValue? = .object(data)
                    for token in path { value = value?[token] }
                    switch value {
                    case .string(let text)?: target = (other, text)
                    case .integer(let number)?: target = (other, String(number))
                    default:
                        throw Problem(.unprocessableContent, code: "invalid-payload", title: "Invalid payload", detail: "The payload of \(type) needs \(path.joined(separator: ".")) (the \(other) it refers to).", extensions: ["pointer": .string("/" + path.joined(separator: "/"))])
                    }
                }
                let check: AppendRule.Check = switch requirement.check {
                case .exists: .exists(entity: target.0, id: target.1)
                case .absent: .absent(entity: target.0, id: target.1)
                case .matches(let conditions): .matches(entity: target.0, id: target.1, conditions: conditions)
                }
                rules.append(AppendRule(check, status: requirement.status, detail: requirement.detail))
            }
            if operation != .delete && operation != .erase {
                for field in entity.unique {
                    guard let value = data[field], value != .null else { continue }
                    rules.append(AppendRule(.unique(entity: entityName, field: field, value: value, id: id), status: 409, detail: "Another \(entityName) already has this \(field); \(field) is unique."))
                }
            }
            let expected = try request.headers[.ifMatch].map(EventRequests.ifMatch) ?? .any
            let event = EventData(type: type, data: .object(data))
            let result = try await store.append(AppendRequest([.init(stream: stream, expected: expected, events: context.correlating([event]))], rules: rules))
            let part = result.streams[0]
            let location = "/v1/entities/\(entityName)/\(id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id)"
            return json(.created, "{\"entity\":\(entityName.jsonQuoted),\"id\":\(id.jsonQuoted),\"stream\":\(stream.rawValue.jsonQuoted),\"revision\":\(part.lastRevision),\"position\":\(part.lastPosition),\"correlationId\":\(context.correlationId.jsonQuoted)}", headers: [
                .location: location, .eTag: EventRequests.eTag(part.lastRevision),
            ])
        }
    }
}
