import ChronicleCore
import ChronicleProjections
import ChronicleServer
import ChronicleTestSupport
import Foundation
import Testing

let seedSchema = """
    entities:
      user:
        events:
          UserCreated: create
          UserUpdatedEmailAddress: merge
          UserEmailVerified: { set: { emailVerified: true } }
          UserDeleted: delete
          UserErased: erase
    """

func seedProjection() throws -> DeclarativeProjection {
    DeclarativeProjection(schema: try EntitySchema(yaml: seedSchema))
}

@Suite("HTTP: entities (read models, time travel, history, diff)")
struct EntityEndpointTests {
    @Test("the seed's user story through HTTP: every write is readable at once, at every version, with its history (SQLite)")
    func userStoryOnSQLite() async throws { try await userStory(backend: .sqlite) }

    @Test("the seed's user story through HTTP: every write is readable at once, at every version, with its history (PostgreSQL)", TestPostgres.enabled)
    func userStoryOnPostgres() async throws { try await userStory(backend: .postgres) }

    func userStory(backend: TestBackend) async throws {
        try await withServer(projection: try seedProjection(), backend: backend) { server in
            let created = try await server.post("/v1/streams/user-1234", #"{"type":"UserCreated","data":{"email":"ada@example.com","name":"Ada"}}"#)
            #expect(created.status == 201)
            let first = try await server.get("/v1/entities/user/1234")
            #expect(first.status == 200, "\(first.body)")
            #expect(first.json["state"] == ["email": "ada@example.com", "name": "Ada"] && first.json["version"] == 0)
            #expect(first.header("ETag") == "\"0\"")

            _ = try await server.post("/v1/streams/user-1234", #"{"type":"UserUpdatedEmailAddress","data":{"email":"ada@lovelace.org"}}"#)
            let verified = try await server.post("/v1/streams/user-1234", #"{"type":"UserEmailVerified"}"#)
            guard case .integer(let position)? = verified.json["lastPosition"] else { Issue.record("\(verified.body)"); return }
            let current = try await server.get("/v1/entities/user/1234?after=\(position)&wait=2s")
            #expect(current.json["state"] == ["email": "ada@lovelace.org", "name": "Ada", "emailVerified": true])
            #expect(current.json["version"] == 2)
            #expect(try await server.get("/v1/entities/user/1234", headers: [("If-None-Match", "\"2\"")]).status == 304)

            let states: [JSONValue] = [
                ["email": "ada@example.com", "name": "Ada"],
                ["email": "ada@lovelace.org", "name": "Ada"],
                ["email": "ada@lovelace.org", "name": "Ada", "emailVerified": true],
            ]
            for (version, state) in states.enumerated() {
                let past = try await server.get("/v1/entities/user/1234?version=\(version)")
                #expect(past.json["state"] == state && past.json["version"] == .integer(Int64(version)), "version \(version): \(past.body)")
            }
            guard case .string(let firstInstant)? = first.json["updatedAt"] else { Issue.record("no updatedAt"); return }
            #expect(try await server.get("/v1/entities/user/1234?at=\(firstInstant)").json["version"] == 0)
            #expect(try await server.get("/v1/entities/user/1234?at=2000-01-01T00:00:00Z").status == 404)
            let missingVersion = try await server.get("/v1/entities/user/1234?version=9")
            #expect(missingVersion.status == 404 && missingVersion.json["latestVersion"] == 2)

            let history = try await server.get("/v1/entities/user/1234/history")
            guard case .array(let entries)? = history.json["history"] else { Issue.record("\(history.body)"); return }
            #expect(entries.map { $0["version"] } == [0, 1, 2])
            var replayed: JSONValue = [:]
            for entry in entries {
                replayed = try JSONPatch(json: entry["patch"] ?? []).apply(to: replayed)
            }
            #expect(replayed == current.json["state"], "history patches applied in order reproduce the current state")

            let diff = try await server.get("/v1/entities/user/1234/diff?from=0&to=2")
            #expect(diff.json["patch"] == [["op": "add", "path": "/emailVerified", "value": true], ["op": "replace", "path": "/email", "value": "ada@lovelace.org"]] || diff.json["patch"] == [["op": "replace", "path": "/email", "value": "ada@lovelace.org"], ["op": "add", "path": "/emailVerified", "value": true]], "\(diff.body)")

            _ = try await server.post("/v1/streams/user-1234", #"{"type":"UserDeleted"}"#)
            let deleted = try await server.get("/v1/entities/user/1234")
            #expect(deleted.status == 404 && deleted.json["code"] == "entity-deleted")
            let shown = try await server.get("/v1/entities/user/1234?includeDeleted=true")
            #expect(shown.status == 200 && shown.json["deleted"] == true)

            #expect(try await server.request(.DELETE, "/v1/streams/user-1234?mode=hard").status == 200)
            #expect(try await server.get("/v1/entities/user/1234?includeDeleted=true").status == 404, "a hard delete removes the document")
            #expect(try await server.get("/v1/entities/user/1234/history").status == 410)
        }
    }

    @Test("time travel from snapshots gives the same state as folding every event, at every version and instant (SQLite)")
    func timeTravelWithSnapshotsOnSQLite() async throws { try await timeTravelWithSnapshots(backend: .sqlite) }

    @Test("time travel from snapshots gives the same state as folding every event, at every version and instant (PostgreSQL)", TestPostgres.enabled)
    func timeTravelWithSnapshotsOnPostgres() async throws { try await timeTravelWithSnapshots(backend: .postgres) }

    func timeTravelWithSnapshots(backend: TestBackend) async throws {
        try await withServer(projection: try seedProjection(), snapshotInterval: 3, backend: backend) { server in
            #expect(try await server.post("/v1/streams/user-9", #"{"type":"UserCreated","data":{"n":0}}"#).status == 201)
            for index in 1..<11 {
                #expect(try await server.post("/v1/streams/user-9", #"{"type":"UserUpdatedEmailAddress","data":{"n":\#(index),"k\#(index)":true}}"#).status == 201)
            }
            let history = try await server.get("/v1/entities/user/9/history")
            guard case .array(let entries)? = history.json["history"] else { Issue.record("\(history.body)"); return }
            #expect(entries.count == 11, "one history entry per event: \(history.body)")
            #expect(entries.map { $0["version"] } == (0..<11).map { JSONValue.integer(Int64($0)) })
            // The state at each version, folded from the history's patches.
            var states: [JSONValue] = []
            for entry in entries {
                states.append(try JSONPatch(json: entry["patch"] ?? []).apply(to: states.last ?? [:]))
            }
            #expect(states.last == ["n": 10, "k1": true, "k2": true, "k3": true, "k4": true, "k5": true, "k6": true, "k7": true, "k8": true, "k9": true, "k10": true])
            let instants: [String] = entries.map { if case .string(let instant)? = $0["recordedAt"] { instant } else { "" } }
            #expect(!instants.contains(""), "every entry has its instant: \(history.body)")
            for (version, state) in states.enumerated() {
                let past = try await server.get("/v1/entities/user/9?version=\(version)")
                #expect(past.json["state"] == state && past.json["version"] == .integer(Int64(version)), "version \(version): \(past.body)")
                // At an instant, the last version recorded at or before it: this one, or a
                // later one recorded in the same instant (the clock's resolution), never another.
                let instant = instants[version]
                let expected = instants.lastIndex(of: instant) ?? version
                let atInstant = try await server.get("/v1/entities/user/9?at=\(instant)")
                #expect(atInstant.json["version"] == .integer(Int64(expected)) && atInstant.json["state"] == states[expected], "at \(instant): \(atInstant.body)")
            }
            #expect(try await server.get("/v1/entities/user/9?version=11").status == 404)
        }
    }

    @Test("an erasing event over HTTP purges the stream and removes the entity (SQLite)")
    func eraseOnSQLite() async throws { try await erase(backend: .sqlite) }

    @Test("an erasing event over HTTP purges the stream and removes the entity (PostgreSQL)", TestPostgres.enabled)
    func eraseOnPostgres() async throws { try await erase(backend: .postgres) }

    func erase(backend: TestBackend) async throws {
        try await withServer(projection: try seedProjection(), backend: backend) { server in
            _ = try await server.post("/v1/streams/user-66", #"{"type":"UserCreated","data":{"email":"gone@x.org"}}"#)
            let erased = try await server.post("/v1/streams/user-66", #"{"type":"UserErased"}"#)
            #expect(erased.status == 201, "\(erased.body)")
            #expect(try await server.get("/v1/entities/user/66?includeDeleted=true").status == 404)
            #expect(try await server.get("/v1/streams/user-66").status == 410)
            #expect(!(try await server.get("/v1/log").body.contains("gone@x.org")), "the personal data is purged from the log")
        }
    }

    @Test("bad entity queries get a 4xx problem", arguments: [
        ("/v1/entities/user/404", 404, "entity-not-found"),
        ("/v1/entities/user/1?version=-1", 400, "invalid-input"),
        ("/v1/entities/user/1?at=yesterday", 400, "invalid-input"),
        ("/v1/entities/user/1?after=x", 400, "invalid-input"),
        ("/v1/entities/user/1?after=1&wait=forever", 400, "invalid-input"),
        ("/v1/entities/user/1?after=99&wait=100ms", 400, "invalid-input"),
        ("/v1/entities/user/1/diff?from=0", 400, "invalid-input"),
        ("/v1/entities/user/1/history?x=1", 404, "stream-not-found"),
        ("/v1/entities/user%201/x", 400, "invalid-input"),
    ])
    func badQueries(path: String, status: Int, code: String) async throws {
        try await withServer(projection: try seedProjection()) { server in
            let response = try await server.get(path)
            #expect(response.status == status, "\(response.body)")
            #expect(response.json["code"] == .string(code), "\(response.body)")
        }
    }

    @Test("listing entities: filters, sort, cursor, deleted hidden unless asked (SQLite)")
    func listingOnSQLite() async throws { try await listing(backend: .sqlite) }

    @Test("listing entities: filters, sort, cursor, deleted hidden unless asked (PostgreSQL)", TestPostgres.enabled)
    func listingOnPostgres() async throws { try await listing(backend: .postgres) }

    func listing(backend: TestBackend) async throws {
        try await withServer(projection: try seedProjection(), backend: backend) { server in
            for (id, age, city) in [(1, 30, "Paris"), (2, 17, "Lyon"), (3, 45, "Paris"), (4, 30, "Nice"), (5, 62, "Paris")] {
                _ = try await server.post("/v1/streams/user-\(id)", #"{"type":"UserCreated","data":{"age":\#(age),"city":"\#(city)"}}"#)
            }
            _ = try await server.post("/v1/streams/user-5", #"{"type":"UserDeleted"}"#)
            func ids(_ path: String) async throws -> ([String], String?) {
                let response = try await server.get(path)
                #expect(response.status == 200, "\(response.body)")
                guard case .array(let documents)? = response.json["documents"] else { return ([], nil) }
                let ids = documents.compactMap { if case .string(let id)? = $0["id"] { id } else { nil } }
                if case .string(let next)? = response.json["next"] { return (ids, next) }
                return (ids, nil)
            }
            #expect(try await ids("/v1/entities/user").0 == ["1", "2", "3", "4"])
            #expect(try await ids("/v1/entities/user?includeDeleted=true").0 == ["1", "2", "3", "4", "5"])
            #expect(try await ids("/v1/entities/user?city=Paris").0 == ["1", "3"])
            #expect(try await ids("/v1/entities/user?age[gte]=30&age[lt]=45").0 == ["1", "4"])
            let (first, cursor) = try await ids("/v1/entities/user?sort=-age&limit=2")
            #expect(first == ["3", "4"])
            let next = try #require(cursor)
            #expect(try await ids("/v1/entities/user?sort=-age&limit=2&cursor=\(next)") == (["1", "2"], nil))
            for bad in ["limit=0", "cursor=zz", "sort=a.b", "age[between]=1", "includeDeleted=maybe", "city={}"] {
                let response = try await server.get("/v1/entities/user?\(bad)")
                #expect(response.status == 400, "\(bad): \(response.body)")
            }
        }
    }

    @Test("projection status, and a rebuild from the events alone gives the same documents (SQLite)")
    func projectionsAndRebuildOnSQLite() async throws { try await projectionsAndRebuild(backend: .sqlite) }

    @Test("projection status, and a rebuild from the events alone gives the same documents (PostgreSQL)", TestPostgres.enabled)
    func projectionsAndRebuildOnPostgres() async throws { try await projectionsAndRebuild(backend: .postgres) }

    func projectionsAndRebuild(backend: TestBackend) async throws {
        try await withServer(projection: try seedProjection(), backend: backend) { server in
            for id in 1...5 {
                _ = try await server.post("/v1/streams/user-\(id)", #"[{"type":"UserCreated","data":{"n":\#(id)}},{"type":"UserEmailVerified"}]"#)
            }
            _ = try await server.request(.DELETE, "/v1/streams/user-5?mode=hard")
            let before = try await server.get("/v1/entities/user?includeDeleted=true").body
            let list = try await server.get("/v1/projections")
            guard case .array(let projections)? = list.json["projections"] else { Issue.record("\(list.body)"); return }
            #expect(projections.count == 1 && projections[0]["name"] == "entities" && projections[0]["lifecycle"] == "inline")
            #expect(projections[0]["checkpoint"] == 11)
            let rebuilt = try await server.request(.POST, "/v1/projections/entities/rebuild")
            #expect(rebuilt.status == 200 && rebuilt.json["replayedEvents"] == 9, "\(rebuilt.body)")
            #expect(try await server.get("/v1/entities/user?includeDeleted=true").body == before, "rebuilt documents are identical")
            let status = try await server.get("/v1/projections/entities").json
            #expect(status["rebuild"]?["lastReplayedEvents"] == 9)
            #expect(status["rebuild"]?["progress"]?["position"] == 11 && status["rebuild"]?["progress"]?["target"] == 11, "\(status.canonicalText)")
            #expect(try await server.get("/v1/projections/nothing").status == 404)
            #expect(try await server.request(.POST, "/v1/projections/nothing/rebuild").status == 404)
        }
    }

    @Test("without a schema, entity routes say how to declare one (SQLite)")
    func noSchemaOnSQLite() async throws { try await noSchema(backend: .sqlite) }

    @Test("without a schema, entity routes say how to declare one (PostgreSQL)", TestPostgres.enabled)
    func noSchemaOnPostgres() async throws { try await noSchema(backend: .postgres) }

    func noSchema(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            let response = try await server.get("/v1/entities/user/1")
            #expect(response.status == 404 && response.json["code"] == "no-schema")
        }
    }
}
