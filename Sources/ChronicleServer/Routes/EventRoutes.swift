import ChronicleCore
import ChronicleProjections
import Foundation
import HTTPTypes
import Hummingbird

extension ChronicleServer {
    /// `POST /v1/events/{type}`: declarative writes. The schema maps the type to its entity
    /// and the payload to the entity's id; everything else the type promises (payload
    /// schema, preconditions, uniqueness, an existing entity for `merge`/`set`/`delete`) is
    /// checked by the store's write path, as for every other append.
    func registerEventRoutes(on router: Router<ChronicleRequestContext>) {
        let declarative = projections.first { $0.projection is DeclarativeProjection }
        let store = store
        let configuration = configuration

        router.post("/v1/events/{type}") { request, context in
            try context.require(.write)
            guard let entities = declarative, let projection = entities.projection as? DeclarativeProjection else {
                throw Problem(.notFound, code: "no-schema", title: "No schema", detail: "This server has no schema: start it with --schema FILE to declare event types.")
            }
            let type = try context.parameters.decoded("type")
            guard let entityName = projection.homeEntity(of: type), let entity = projection.schema.entities[entityName], let operation = entity.events[type] else {
                if let routed = projection.schema.entities.first(where: { $0.value.routes[type] != nil }) {
                    throw Problem(.unprocessableContent, code: "no-home-entity", title: "No home entity", detail: "\(type) changes documents its data names (entity \(routed.key) declares it with id: or each:) but no entity declares it as its own, so there is no stream to write it to. Append it to its stream with POST /v1/streams/{stream}, or declare it plainly under the entity whose stream holds it.")
                }
                throw Problem(.notFound, code: "unknown-event-type", title: "Unknown event type", detail: "The schema declares no event type \(type.debugDescription).")
            }
            let eventId = try IdempotencyKey.eventId(request.headers) ?? .timeOrdered()
            let body = try await request.jsonBody(limit: configuration.maximumRequestBytes)
            guard case .object(var data) = body else {
                throw Problem(.unprocessableContent, code: "invalid-payload", title: "Invalid payload", detail: "The payload of \(type) must be a JSON object; got a JSON \(body.kindName).")
            }
            let id: String
            switch data[entity.idField] {
            case .string(let text)? where !text.isEmpty: id = text
            case .integer(let number)?: id = String(number)
            case nil where operation == .create:
                id = eventId.uuidString.lowercased()
                data[entity.idField] = .string(id)
            default:
                throw Problem(.unprocessableContent, code: "invalid-payload", title: "Invalid payload", detail: "The payload of \(type) needs the \(entityName) id in \(entity.idField.debugDescription) (a string or an integer).", extensions: ["pointer": .string("/" + entity.idField)])
            }
            let stream = try StreamName("\(entityName)-\(id)")
            // If-Match is the entity's ETag, its version as GET reports it. With inline
            // documents the version is checked in the append's transaction; otherwise the
            // stream's revision stands in (they agree unless the entity ignores some types).
            // If-None-Match: * means "only if the entity's stream does not exist yet".
            var expected = ExpectedRevision.any
            var rules: [AppendRule] = []
            let header = try EventRequests.headerExpectation(request.headers)
            if let header {
                if header.header == "If-Match", entities.lifecycle == .inline, case .exact(let version) = header.expected {
                    rules.append(AppendRule(.version(entity: entityName, id: id, expected: version), status: 409, projection: entities.name))
                } else {
                    expected = header.expected
                }
            }
            let event = EventData(id: eventId, type: type, data: .object(data))
            let result = try await EventRequests.preconditioned(header) {
                try await store.append(AppendRequest([.init(stream: stream, expected: expected, events: context.correlating([event]))], rules: rules))
            }
            let part = result.streams[0]
            let location = "/v1/entities/\(PathSegment.encode(entityName))/\(PathSegment.encode(id))"
            var answer = DeclarativeWriteResponse(entity: entityName, id: id, stream: stream.rawValue, revision: part.lastRevision, position: part.lastPosition, correlationId: context.correlationId, eventId: event.id)
            answer.replayed = result.replayed
            return try Response.json(result.replayed ? .ok : .created, answer, headers: [
                .location: location, .eTag: EventRequests.eTag(part.lastRevision),
            ])
        }
    }
}
