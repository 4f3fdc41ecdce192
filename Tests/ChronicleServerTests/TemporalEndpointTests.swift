import ChronicleCore
import ChronicleServer
import ChronicleTestSupport
import Foundation
import Testing

@Suite("HTTP: the read model across time (asOf, changes, blame)")
struct TemporalEndpointTests {
    @Test("as of a position or instant, changes between two, blame, and the bad moments (SQLite)")
    func onSQLite() async throws { try await story(backend: .sqlite) }

    @Test("as of a position or instant, changes between two, blame, and the bad moments (PostgreSQL)", TestPostgres.enabled)
    func onPostgres() async throws { try await story(backend: .postgres) }

    func position(_ response: TestResponse) throws -> Int64 {
        guard case .integer(let position)? = response.json["lastPosition"] else { throw ChronicleError(.invalidInput, "no lastPosition in \(response.body)") }
        return position
    }

    func story(backend: TestBackend) async throws {
        try await withServer(projection: try seedProjection(), backend: backend) { server in
            let created = try position(try await server.post("/v1/streams/user-1", #"{"type":"UserCreated","data":{"email":"ada@example.com","name":"Ada"},"metadata":{"actor":"ada"}}"#))
            let other = try position(try await server.post("/v1/streams/user-2", #"{"type":"UserCreated","data":{"email":"bob@example.com"}}"#))
            let moved = try position(try await server.post("/v1/streams/user-1", #"{"type":"UserUpdatedEmailAddress","data":{"email":"ada@lovelace.org"},"metadata":{"actor":"support"}}"#))
            let verified = try position(try await server.post("/v1/streams/user-1", #"{"type":"UserEmailVerified"}"#))
            let deleted = try position(try await server.post("/v1/streams/user-2", #"{"type":"UserDeleted"}"#))

            // One entity as of each moment.
            let atCreate = try await server.get("/v1/entities/user/1?asOf=\(created)")
            #expect(atCreate.status == 200 && atCreate.json["state"] == ["email": "ada@example.com", "name": "Ada"], "\(atCreate.body)")
            #expect(atCreate.json["asOf"] == .integer(created) && atCreate.json["version"] == 0)
            #expect(try await server.get("/v1/entities/user/1?asOf=\(verified)").json["state"]?["emailVerified"] == true)
            #expect(try await server.get("/v1/entities/user/1").json["asOf"] == .null, "current reads say null")
            let before = try await server.get("/v1/entities/user/2?asOf=\(created)")
            #expect(before.status == 404 && before.json["code"] == "entity-not-found", "not yet created then")
            #expect(try await server.get("/v1/entities/user/2?asOf=\(deleted)").json["code"] == "entity-deleted")
            #expect(try await server.get("/v1/entities/user/2?asOf=\(deleted)&includeDeleted=true").json["deleted"] == true)
            guard case .string(let movedAt)? = try await server.get("/v1/entities/user/1?asOf=\(moved)").json["updatedAt"] else {
                Issue.record("no updatedAt")
                return
            }
            let byInstant = try await server.get("/v1/entities/user/1?asOf=\(movedAt)")
            #expect(byInstant.json["state"]?["email"] == "ada@lovelace.org", "\(byInstant.body)")
            #expect(byInstant.json["asOf"].flatMap { if case .integer(let p) = $0 { p } else { nil } }.map { $0 >= moved && $0 < verified } == true, "the last position recorded at that instant")

            // A list as of a moment: one cut, deleted hidden unless asked.
            let list = try await server.get("/v1/entities/user?asOf=\(other)")
            #expect(list.json["asOf"] == .integer(other))
            #expect(list.json["documents"]?.arrayCount == 2)
            #expect(try await server.get("/v1/entities/user?asOf=\(deleted)").json["documents"]?.arrayCount == 1)
            #expect(try await server.get("/v1/entities/user?asOf=\(deleted)&includeDeleted=true").json["documents"]?.arrayCount == 2)
            let page = try await server.get("/v1/entities/user?asOf=\(other)&limit=1")
            #expect(page.header("Link")?.contains("asOf=\(other)") == true, "the next page keeps the cut")

            // Changes between two moments.
            let changes = try await server.get("/v1/changes?from=\(created)&to=\(deleted)")
            #expect(changes.status == 200, "\(changes.body)")
            #expect(changes.json["from"] == .integer(created) && changes.json["to"] == .integer(deleted))
            guard case .array(let items)? = changes.json["changes"] else { Issue.record("\(changes.body)"); return }
            #expect(items.map { $0["id"] } == ["1", "2"], "in position order of the last change")
            #expect(items.map { $0["kind"] } == ["changed", "deleted"], "user 2 was created and soft-deleted inside the range: deleted at its end")
            #expect(items.first?["before"]?["state"]?["email"] == "ada@example.com" && items.first?["after"]?["state"]?["emailVerified"] == true)
            let paged = try await server.get("/v1/changes?from=0&to=\(deleted)&limit=1")
            #expect(paged.json["changes"]?.arrayCount == 1 && paged.json["next"] != .null && paged.header("Link") != nil)
            #expect(try await server.get("/v1/changes?from=\(verified)&to=\(deleted)&entity=user").json["changes"]?.arrayCount == 1)

            // Blame: which event set each field.
            let blame = try await server.get("/v1/entities/user/1/blame")
            #expect(blame.status == 200, "\(blame.body)")
            guard case .array(let fields)? = blame.json["fields"] else { Issue.record("\(blame.body)"); return }
            let byPointer = Dictionary(uniqueKeysWithValues: fields.compactMap { field -> (String, JSONValue)? in
                guard case .string(let pointer)? = field["pointer"] else { return nil }
                return (pointer, field)
            })
            #expect(byPointer["/name"]?["position"] == .integer(created) && byPointer["/name"]?["actor"] == "ada")
            #expect(byPointer["/email"]?["position"] == .integer(moved) && byPointer["/email"]?["type"] == "UserUpdatedEmailAddress" && byPointer["/email"]?["actor"] == "support")
            #expect(byPointer["/emailVerified"]?["position"] == .integer(verified) && byPointer["/emailVerified"]?["actor"] == .null)
            let oldBlame = try await server.get("/v1/entities/user/1/blame?asOf=\(created)")
            #expect(oldBlame.json["fields"]?.arrayCount == 2 && oldBlame.json["asOf"] == .integer(created))

            // Bad moments say which and what the valid range is.
            let head = deleted
            let beyond = try await server.get("/v1/entities/user/1?asOf=\(head + 5)")
            #expect(beyond.status == 400 && beyond.json["code"] == "moment-out-of-range" && beyond.json["head"] == .integer(head), "\(beyond.body)")
            #expect(beyond.header("Content-Type")?.hasPrefix("application/problem+json") == true)
            let future = try await server.get("/v1/entities/user?asOf=2999-01-01T00:00:00Z")
            #expect(future.status == 400 && future.json["code"] == "moment-out-of-range")
            let early = try await server.get("/v1/entities/user/1?asOf=2000-01-01T00:00:00Z")
            #expect(early.status == 404 && early.json["code"] == "moment-out-of-range" && early.json["first"] != nil, "\(early.body)")
            let garbled = try await server.get("/v1/entities/user/1?asOf=yesterday")
            #expect(garbled.status == 400 && garbled.json["code"] == "invalid-input" && (garbled.json["detail"].map { "\($0)" } ?? "").contains("asOf"))
            let both = try await server.get("/v1/entities/user/1?asOf=1&version=0")
            #expect(both.status == 400 && both.json["code"] == "invalid-input" && both.body.contains("asOf and version"), "asOf with version is ambiguous: \(both.body)")
            #expect(try await server.get("/v1/entities/user/1?version=0&at=2026-01-01T00:00:00Z").status == 400)
            let reversed = try await server.get("/v1/changes?from=\(deleted)&to=\(created)")
            #expect(reversed.status == 400 && reversed.json["code"] == "moment-out-of-range" && reversed.json["from"] == .integer(deleted))
            #expect(try await server.get("/v1/changes?from=1").status == 400)
            #expect(try await server.get("/v1/changes?from=0&to=\(head)&cursor=nonsense").json["code"] == "invalid-input")
            #expect(try await server.get("/v1/entities/user/9/blame").status == 404)
        }
    }
}

extension JSONValue {
    /// The number of elements of an array (`nil` for anything else).
    var arrayCount: Int? {
        if case .array(let elements) = self { return elements.count }
        return nil
    }
}
