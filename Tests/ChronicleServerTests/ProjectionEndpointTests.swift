import ChronicleCore
import ChronicleProjections
import ChronicleServer
import ChronicleTestSupport
import Foundation
import Testing

/// A Swift projection beside the schema's: how many events each user's stream has had.
struct UserEventCount: Projection {
    var name: String { "user-events" }
    var definitionHash: String { "user-events-v1" }

    func entity(of event: RecordedEvent) -> (entity: String, id: String)? {
        guard event.stream.category == "user", let id = event.stream.entityID else { return nil }
        return ("user", id)
    }

    func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange {
        guard let (entity, id) = entity(of: event) else { return .none }
        var count: Int64 = 0
        if case .integer(let current)? = document?.state["events"] { count = current }
        return .save(Document(entity: entity, id: id, state: ["events": .integer(count + 1), "last": .string(event.type)], version: event.revision, position: event.position, updatedAtMicroseconds: event.recordedAtMicroseconds))
    }
}

/// An async projection that cannot get past an event of type `Poison`.
struct StuckProjection: Projection {
    struct Poisoned: Error {}
    var name: String { "stuck" }
    var definitionHash: String { "stuck-v1" }

    func entity(of event: RecordedEvent) -> (entity: String, id: String)? {
        event.stream.entityID.map { (event.stream.category, $0) }
    }

    func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange {
        if event.type == "Poison" { throw Poisoned() }
        return .none
    }
}

@Suite("HTTP: several projections side by side")
struct ProjectionEndpointTests {
    @Test("read-your-write on an async projection that lags: a 503 not-caught-up with the lag; a position past the log's head is a 400")
    func notCaughtUp() async throws {
        try await withServer(projection: try seedProjection(), additionalProjections: [ProjectionRegistration(StuckProjection(), lifecycle: .async)]) { server in
            #expect(try await server.post("/v1/streams/job-1", #"{"type":"Fine"}"#).status == 201)
            let poisoned = try await server.post("/v1/streams/job-1", #"{"type":"Poison"}"#)
            guard case .integer(let position)? = poisoned.json["lastPosition"] else { Issue.record("\(poisoned.body)"); return }
            let lagging = try await server.get("/v1/entities/job/1?projection=stuck&after=\(position)&wait=200ms")
            #expect(lagging.status == 503 && lagging.json["code"] == "not-caught-up", "\(lagging.body)")
            #expect(lagging.header("Retry-After") != nil)
            let beyond = try await server.get("/v1/entities/job/1?projection=stuck&after=\(position + 1000)&wait=200ms")
            #expect(beyond.status == 400 && beyond.json["head"] == .integer(position), "\(beyond.body)")
        }
    }

    @Test("the schema's inline projection and a Swift async one are served side by side, each read with ?projection= and rebuilt on its own (SQLite)")
    func sideBySideOnSQLite() async throws { try await sideBySide(backend: .sqlite) }

    @Test("the schema's inline projection and a Swift async one are served side by side, each read with ?projection= and rebuilt on its own (PostgreSQL)", TestPostgres.enabled)
    func sideBySideOnPostgres() async throws { try await sideBySide(backend: .postgres) }

    func sideBySide(backend: TestBackend) async throws {
        let counts = ProjectionRegistration(UserEventCount(), lifecycle: .async)
        try await withServer(projection: try seedProjection(), additionalProjections: [counts], backend: backend) { server in
            #expect(try await server.post("/v1/streams/user-ada", #"{"type":"UserCreated","data":{"email":"ada@example.com"}}"#).status == 201)
            let verified = try await server.post("/v1/streams/user-ada", #"{"type":"UserEmailVerified"}"#)
            guard case .integer(let position)? = verified.json["lastPosition"] else { Issue.record("\(verified.body)"); return }

            let list = try await server.get("/v1/projections")
            guard case .array(let projections)? = list.json["projections"] else { Issue.record("\(list.body)"); return }
            #expect(projections.map { $0["name"] } == ["entities", "user-events"])
            #expect(projections.map { $0["lifecycle"] } == ["inline", "async"])

            let schema = try await server.get("/v1/entities/user/ada")
            #expect(schema.json["state"] == ["email": "ada@example.com", "emailVerified": true], "without ?projection=, the primary (schema) projection")
            let counted = try await server.get("/v1/entities/user/ada?projection=user-events&after=\(position)&wait=10s")
            #expect(counted.status == 200, "\(counted.body)")
            #expect(counted.json["state"] == ["events": 2, "last": "UserEmailVerified"], "the async projection, once its runner reached the write")
            let listed = try await server.get("/v1/entities/user?projection=user-events")
            guard case .array(let documents)? = listed.json["documents"] else { Issue.record("\(listed.body)"); return }
            #expect(documents.map { $0["state"]?["events"] } == [2], "\(listed.body)")
            let history = try await server.get("/v1/entities/user/ada/history?projection=user-events")
            guard case .array(let steps)? = history.json["history"] else { Issue.record("\(history.body)"); return }
            #expect(steps.count == 2, "\(history.body)")
            #expect(steps.last?["patch"]?.canonicalText.contains(#""path":"/events","value":2"#) == true, "history folds the chosen projection: \(history.body)")
            let past = try await server.get("/v1/entities/user/ada?projection=user-events&version=0")
            #expect(past.json["state"] == ["events": 1, "last": "UserCreated"], "\(past.body)")

            let unknown = try await server.get("/v1/entities/user/ada?projection=nope")
            #expect(unknown.status == 404 && unknown.json["code"] == "projection-not-found")
            #expect(unknown.body.contains("entities, user-events"), "the error names the projections: \(unknown.body)")

            let rebuilt = try await server.request(.POST, "/v1/projections/user-events/rebuild")
            #expect(rebuilt.status == 200 && rebuilt.json["replayedEvents"] == 2, "\(rebuilt.body)")
            let countsStatus = try await server.get("/v1/projections/user-events").json
            #expect(countsStatus["checkpoint"] == .integer(position) && countsStatus["rebuild"]?["lastReplayedEvents"] == 2)
            let schemaStatus = try await server.get("/v1/projections/entities").json
            #expect(schemaStatus["rebuild"]?["lastReplayedEvents"] == .null, "a rebuild of one projection is not another's: \(schemaStatus.canonicalText)")
            #expect(try await server.get("/v1/entities/user/ada?projection=user-events").json["state"]?["events"] == 2, "the rebuild derives the same")
            #expect(try await server.request(.POST, "/v1/projections/entities/rebuild").json["replayedEvents"] == 2)
            #expect(try await server.get("/v1/entities/user/ada").json["state"] == ["email": "ada@example.com", "emailVerified": true])
        }
    }
}
