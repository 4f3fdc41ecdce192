import ChronicleCore
import ChronicleProjections
import ChronicleServer
import ChronicleSQLite
import ChronicleTestSupport
import Foundation
import Synchronization
import Testing

let adSchema = """
    entities:
      user:
        unique: [email]
        events:
          UserCreated:
            create: true
            schema:
              type: object
              required: [email]
              additionalProperties: false
              properties:
                id: { type: string }
                email: { type: string, format: email }
                age: { type: integer, minimum: 13 }
            require:
              - this: absent
                otherwise: { status: 409, detail: "This user already exists." }
          UserEmailVerified: { set: { emailVerified: true } }
          UserEmailUnverified: { set: { emailVerified: false } }
          UserDeleted: delete
      advertisement:
        events:
          AdvertisementPosted:
            create: true
            require:
              - entity: user
                id: $.data.userId
                where: { emailVerified: true, age: { gte: 18 } }
                otherwise: { status: 403, detail: "Verify your email address before posting." }
    """

func adProjection() throws -> DeclarativeProjection {
    DeclarativeProjection(schema: try EntitySchema(yaml: adSchema))
}

@Suite("HTTP: rules (POST /v1/events)")
struct RuleTests {
    @Test("the seed's advertisement story: 403 until the email is verified, then 201 (SQLite)")
    func advertisementStoryOnSQLite() async throws { try await advertisementStory(backend: .sqlite) }

    @Test("the seed's advertisement story: 403 until the email is verified, then 201 (PostgreSQL)", TestPostgres.enabled)
    func advertisementStoryOnPostgres() async throws { try await advertisementStory(backend: .postgres) }

    func advertisementStory(backend: TestBackend) async throws {
        try await withServer(projection: try adProjection(), backend: backend) { server in
            let created = try await server.post("/v1/events/UserCreated", #"{"id":"ada","email":"ada@example.com","age":36}"#)
            #expect(created.status == 201, "\(created.body)")
            #expect(created.json["entity"] == "user" && created.json["id"] == "ada" && created.json["stream"] == "user-ada")
            #expect(created.header("Location") == "/v1/entities/user/ada")
            #expect(created.json["correlationId"] != nil)
            let refused = try await server.post("/v1/events/AdvertisementPosted", #"{"userId":"ada","title":"Bike"}"#)
            #expect(refused.status == 403 && refused.json["detail"] == "Verify your email address before posting.", "\(refused.body)")
            #expect(try await server.get("/v1/log").body.contains("AdvertisementPosted") == false, "a refused write stores nothing")
            #expect(try await server.post("/v1/events/UserEmailVerified", #"{"id":"ada"}"#).status == 201)
            let posted = try await server.post("/v1/events/AdvertisementPosted", #"{"userId":"ada","title":"Bike"}"#)
            #expect(posted.status == 201, "\(posted.body)")
            guard case .string(let adID)? = posted.json["id"] else { Issue.record("no generated id: \(posted.body)"); return }
            let ad = try await server.get("/v1/entities/advertisement/\(adID)")
            #expect(ad.json["state"]?["title"] == "Bike" && ad.json["state"]?["userId"] == "ada")
        }
    }

    static let ruleCases: [(path: String, body: String, status: Int, fragment: String)] = [
        ("/v1/events/UserCreated", #"{"id":"ada","email":"other@example.com"}"#, 409, "already exists"),
        ("/v1/events/UserCreated", #"{"id":"bob","email":"ada@example.com"}"#, 409, "email is unique"),
        ("/v1/events/UserCreated", #"{"id":"bob","email":"not-an-email"}"#, 422, "/email"),
        ("/v1/events/UserCreated", #"{"id":"bob","email":"b@x.org","age":9,"extra":1}"#, 422, "/age"),
        ("/v1/events/AdvertisementPosted", #"{"userId":"kid","title":"x"}"#, 403, "Verify your email"),
        ("/v1/events/AdvertisementPosted", #"{"userId":"nobody","title":"x"}"#, 403, "Verify your email"),
        ("/v1/events/AdvertisementPosted", #"{"title":"x"}"#, 422, "userId"),
        ("/v1/events/UserEmailVerified", #"{"email":"x"}"#, 422, "needs the user id"),
        ("/v1/events/Unheard", #"{}"#, 404, "no event type"),
        ("/v1/events/UserCreated", #"[1]"#, 422, "must be a JSON object"),
    ]

    @Test("every rule kind, passing and failing (SQLite)", arguments: Self.ruleCases)
    func rulesOnSQLite(rule: (path: String, body: String, status: Int, fragment: String)) async throws { try await rules(backend: .sqlite, rule: rule) }

    @Test("every rule kind, passing and failing (PostgreSQL)", TestPostgres.enabled, arguments: Self.ruleCases)
    func rulesOnPostgres(rule: (path: String, body: String, status: Int, fragment: String)) async throws { try await rules(backend: .postgres, rule: rule) }

    func rules(backend: TestBackend, rule: (path: String, body: String, status: Int, fragment: String)) async throws {
        let (path, body, status, fragment) = rule
        try await withServer(projection: try adProjection(), backend: backend) { server in
            #expect(try await server.post("/v1/events/UserCreated", #"{"id":"ada","email":"ada@example.com","age":36}"#).status == 201)
            #expect(try await server.post("/v1/events/UserCreated", #"{"id":"kid","email":"kid@example.com","age":15}"#).status == 201)
            #expect(try await server.post("/v1/events/UserEmailVerified", #"{"id":"kid"}"#).status == 201)
            let head = try await server.store.headPosition()
            let response = try await server.post(path, body)
            #expect(response.status == status, "\(response.body)")
            #expect(response.body.contains(fragment), "\(response.body)")
            #expect(try await server.store.headPosition() == head, "a refused write stores nothing")
        }
    }

    @Test("a freed unique value (the holder deleted) can be taken again (SQLite)")
    func uniqueFreedOnSQLite() async throws { try await uniqueFreed(backend: .sqlite) }

    @Test("a freed unique value (the holder deleted) can be taken again (PostgreSQL)", TestPostgres.enabled)
    func uniqueFreedOnPostgres() async throws { try await uniqueFreed(backend: .postgres) }

    func uniqueFreed(backend: TestBackend) async throws {
        try await withServer(projection: try adProjection(), backend: backend) { server in
            let first = try await server.post("/v1/events/UserCreated", #"{"id":"a","email":"same@x.org"}"#)
            let taken = try await server.post("/v1/events/UserCreated", #"{"id":"b","email":"same@x.org"}"#)
            let deleted = try await server.post("/v1/events/UserDeleted", #"{"id":"a"}"#)
            let freed = try await server.post("/v1/events/UserCreated", #"{"id":"b","email":"same@x.org"}"#)
            let statuses: [Int] = [first.status, taken.status, deleted.status, freed.status]
            #expect(statuses == [201, 409, 201, 201], "\(freed.body)")
        }
    }

    @Test("uniqueness holds under 20 concurrent creates with the same email: exactly one succeeds (SQLite)")
    func uniqueUnderConcurrencyOnSQLite() async throws { try await uniqueUnderConcurrency(backend: .sqlite) }

    @Test("uniqueness holds under 20 concurrent creates with the same email: exactly one succeeds (PostgreSQL)", TestPostgres.enabled)
    func uniqueUnderConcurrencyOnPostgres() async throws { try await uniqueUnderConcurrency(backend: .postgres) }

    func uniqueUnderConcurrency(backend: TestBackend) async throws {
        try await withServer(projection: try adProjection(), backend: backend) { server in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    group.addTask { try await server.post("/v1/events/UserCreated", #"{"id":"u\#(index)","email":"race@x.org"}"#).status }
                }
                var all: [Int] = []
                for try await status in group { all.append(status) }
                return all
            }
            #expect(statuses.filter { $0 == 201 }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == 409 }.count == 19)
        }
    }

    @Test("a precondition cannot interleave with a change to the entity it reads: no ad by an unverified user (SQLite)")
    func preconditionRaceOnSQLite() async throws { try await preconditionRace(backend: .sqlite) }

    @Test("a precondition cannot interleave with a change to the entity it reads: no ad by an unverified user (PostgreSQL)", TestPostgres.enabled)
    func preconditionRaceOnPostgres() async throws { try await preconditionRace(backend: .postgres) }

    func preconditionRace(backend: TestBackend) async throws {
        try await withServer(projection: try adProjection(), backend: backend) { server in
            #expect(try await server.post("/v1/events/UserCreated", #"{"id":"ada","email":"ada@x.org","age":40}"#).status == 201)
            for round in 0..<15 {
                _ = try await server.post("/v1/events/UserEmailVerified", #"{"id":"ada"}"#)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { _ = try await server.post("/v1/events/UserEmailUnverified", #"{"id":"ada"}"#) }
                    for index in 0..<4 {
                        group.addTask { _ = try await server.post("/v1/events/AdvertisementPosted", #"{"userId":"ada","n":\#(round * 4 + index)}"#) }
                    }
                    try await group.waitForAll()
                }
            }
            // Replay the log: every ad must have been posted while the user was verified.
            var verified = false
            var ads = 0
            for event in try await server.store.readLog(after: 0, limit: 10_000).events {
                switch event.type {
                case "UserEmailVerified": verified = true
                case "UserEmailUnverified": verified = false
                case "AdvertisementPosted":
                    ads += 1
                    #expect(verified, "an advertisement at position \(event.position) was posted by an unverified user")
                default: break
                }
            }
            #expect(ads > 0, "some ads got through while the user was verified")
        }
    }
}

/// The README's rules schema, as a new user pastes it: the first `schema.yaml` heredoc of
/// its "Rules" section, read from README.md so that the test follows the README.
let readmeRulesSchema: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    guard let readme = try? String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8),
          let section = readme.range(of: "### Rules:"),
          let start = readme.range(of: "cat > schema.yaml <<'YAML'\n", range: section.upperBound..<readme.endIndex),
          let end = readme.range(of: "\nYAML\n", range: start.upperBound..<readme.endIndex) else { return "README.md has no rules schema" }
    return String(readme[start.upperBound..<end.lowerBound])
}()

@Suite("HTTP: rules hold on every way in")
struct RuleEveryWayTests {
    @Test("the issue's five curl lines: 201, 403, 403, 409, and one user (SQLite)")
    func fiveCurlsOnSQLite() async throws { try await fiveCurls(backend: .sqlite) }

    @Test("the issue's five curl lines: 201, 403, 403, 409, and one user (PostgreSQL)", TestPostgres.enabled)
    func fiveCurlsOnPostgres() async throws { try await fiveCurls(backend: .postgres) }

    func fiveCurls(backend: TestBackend) async throws {
        try await withServer(projection: DeclarativeProjection(schema: try EntitySchema(yaml: readmeRulesSchema)), backend: backend) { server in
            let created = try await server.post("/v1/events/UserCreated", #"{"id":"ada","email":"ada@example.com"}"#)
            let declarative = try await server.post("/v1/events/AdvertisementPosted", #"{"userId":"ada","title":"Bike"}"#)
            let head = try await server.store.headPosition()
            let raw = try await server.post("/v1/streams/advertisement-x", #"{"type":"AdvertisementPosted","data":{"userId":"ada","title":"Bike"}}"#)
            let duplicate = try await server.post("/v1/streams/user-eve", #"{"type":"UserCreated","data":{"email":"ada@example.com"}}"#)
            let statuses: [Int] = [created.status, declarative.status, raw.status, duplicate.status]
            #expect(statuses == [201, 403, 403, 409], "\(raw.body) \(duplicate.body)")
            #expect(try await server.store.headPosition() == head, "the refused raw appends wrote nothing")
            #expect(raw.json["code"] == "rule-violated" && raw.json["rule"] == "AdvertisementPosted.require[0]" && raw.json["entity"] == "user" && raw.json["id"] == "ada", "\(raw.body)")
            #expect(raw.header("Content-Type")?.hasPrefix("application/problem+json") == true)
            #expect(duplicate.json["rule"] == "user.unique.email" && duplicate.json["id"] == "eve", "\(duplicate.body)")
            let users = try await server.get("/v1/entities/user")
            guard case .array(let documents)? = users.json["documents"] else { Issue.record("no documents: \(users.body)"); return }
            #expect(documents.count == 1, "one user holds the unique email: \(users.body)")
        }
    }

    @Test("/v1/append checks every part's rules, all or nothing (SQLite)")
    func multiStreamOnSQLite() async throws { try await multiStream(backend: .sqlite) }

    @Test("/v1/append checks every part's rules, all or nothing (PostgreSQL)", TestPostgres.enabled)
    func multiStreamOnPostgres() async throws { try await multiStream(backend: .postgres) }

    func multiStream(backend: TestBackend) async throws {
        try await withServer(projection: DeclarativeProjection(schema: try EntitySchema(yaml: readmeRulesSchema)), backend: backend) { server in
            #expect(try await server.post("/v1/events/UserCreated", #"{"id":"ada","email":"ada@example.com"}"#).status == 201)
            let head = try await server.store.headPosition()
            let refused = try await server.post("/v1/append", #"{"streams":[{"stream":"user-bob","events":[{"type":"UserCreated","data":{"email":"bob@example.com"}}]},{"stream":"advertisement-1","events":[{"type":"AdvertisementPosted","data":{"userId":"bob"}}]}]}"#)
            #expect(refused.status == 403 && refused.json["id"] == "bob", "\(refused.body)")
            #expect(try await server.store.headPosition() == head)
            let undeclared = try await server.post("/v1/streams/user-ada", #"{"type":"UserRenamed","data":{"name":"A"}}"#)
            #expect(undeclared.status == 422 && undeclared.json["code"] == "undeclared-event-type" && undeclared.json["entity"] == "user", "\(undeclared.body)")
            let missing = try await server.post("/v1/streams/user-nobody", #"{"type":"UserEmailVerified","data":{}}"#)
            #expect(missing.status == 404 && missing.json["code"] == "entity-not-found" && missing.json["id"] == "nobody", "\(missing.body)")
            let payload = try await server.post("/v1/streams/user-carl", #"{"type":"UserCreated","data":{"email":"nope"}}"#)
            #expect(payload.status == 422 && payload.json["code"] == "invalid-payload" && payload.json["violations"] != nil, "\(payload.body)")
            #expect(try await server.store.headPosition() == head)
        }
    }

    @Test("If-Match on /v1/events compares with the entity's version as GET reports it (SQLite)")
    func ifMatchVersionOnSQLite() async throws { try await ifMatchVersion(backend: .sqlite) }

    @Test("If-Match on /v1/events compares with the entity's version as GET reports it (PostgreSQL)", TestPostgres.enabled)
    func ifMatchVersionOnPostgres() async throws { try await ifMatchVersion(backend: .postgres) }

    func ifMatchVersion(backend: TestBackend) async throws {
        try await withServer(projection: DeclarativeProjection(schema: try EntitySchema(yaml: readmeRulesSchema)), backend: backend) { server in
            let created = try await server.post("/v1/events/UserCreated", #"{"id":"ada","email":"ada@example.com"}"#)
            let tag = try #require(created.header("ETag"))
            #expect(try await server.get("/v1/entities/user/ada").header("ETag") == tag)
            let verified = try await server.post("/v1/events/UserEmailVerified", #"{"id":"ada"}"#, headers: [("If-Match", tag)])
            #expect(verified.status == 201, "\(verified.body)")
            let stale = try await server.post("/v1/events/UserEmailVerified", #"{"id":"ada"}"#, headers: [("If-Match", tag)])
            #expect(stale.status == 409 && stale.json["code"] == "wrong-expected-revision" && stale.json["actualRevision"] == 1, "\(stale.body)")
        }
    }

    @Test("a rebuild reports documents that break a unique rule (history imported as it was), in its answer and in /v1/projections (SQLite)")
    func rebuildReportsUniqueOnSQLite() async throws { try await rebuildReportsUnique(backend: .sqlite) }

    @Test("a rebuild reports documents that break a unique rule (history imported as it was), in its answer and in /v1/projections (PostgreSQL)", TestPostgres.enabled)
    func rebuildReportsUniqueOnPostgres() async throws { try await rebuildReportsUnique(backend: .postgres) }

    func rebuildReportsUnique(backend: TestBackend) async throws {
        try await withServer(projection: DeclarativeProjection(schema: try EntitySchema(yaml: readmeRulesSchema)), backend: backend) { server in
            let history = InMemoryEventStore()
            for id in ["ada", "eve"] {
                try await history.append(to: try StreamName("user-\(id)"), [EventData(type: "UserCreated", data: ["email": "same@example.com"])])
            }
            let archive = try #require(server.store as? any LogArchive)
            try await archive.importLog(await history.exportLog(after: 0, limit: 10)) { _ in }
            let before = try await server.get("/v1/projections/entities")
            #expect(before.json["rebuild"]?["uniqueViolations"] == [], "\(before.body)")
            let rebuilt = try await server.post("/v1/projections/entities/rebuild", "{}")
            let expected: JSONValue = [["entity": "user", "field": "email", "value": "same@example.com", "ids": ["ada", "eve"]]]
            #expect(rebuilt.status == 200 && rebuilt.json["uniqueViolations"] == expected, "\(rebuilt.body)")
            #expect(try await server.get("/v1/projections/entities").json["rebuild"]?["uniqueViolations"] == expected)
        }
    }

    @Test("a server started over documents that break a unique rule (history imported as it was) shows them in /v1/projections at once")
    func startReportsUnique() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-audit-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: readmeRulesSchema))
        do {
            let history = InMemoryEventStore()
            for id in ["ada", "eve"] {
                try await history.append(to: try StreamName("user-\(id)"), [EventData(type: "UserCreated", data: ["email": "same@example.com"])])
            }
            let store = try SQLiteEventStore(directory: directory, configuration: .init(projection: projection), logger: serverTestLogger)
            try await store.importLog(await history.exportLog(after: 0, limit: 10)) { _ in }
        }
        try await withServer(dataDirectory: directory, projection: projection) { server in
            let status = try await server.get("/v1/projections/entities")
            let expected: JSONValue = [["entity": "user", "field": "email", "value": "same@example.com", "ids": ["ada", "eve"]]]
            #expect(status.json["rebuild"]?["uniqueViolations"] == expected, "\(status.body)")
        }
    }
}
