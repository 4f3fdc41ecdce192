import ChronicleCore
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import Testing

@Suite("HTTP: tags, queries and conditional appends (DCB)")
struct DCBTests {
    @Test("the seed's story DCB-style: read the verification events by query, decide, append on the condition; a later verification change fails it (SQLite)")
    func seedStoryOnSQLite() async throws { try await seedStory(backend: .sqlite) }

    @Test("the seed's story DCB-style: read the verification events by query, decide, append on the condition; a later verification change fails it (PostgreSQL)", TestPostgres.enabled)
    func seedStoryOnPostgres() async throws { try await seedStory(backend: .postgres) }

    func seedStory(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            #expect(try await server.post("/v1/streams/user-ada", #"{"type":"UserRegistered","data":{"email":"ada@example.com"},"tags":["user:ada"]}"#).status == 201)
            #expect(try await server.post("/v1/streams/user-ada", #"{"type":"UserEmailVerified","tags":["user:ada"]}"#).status == 201)
            let query = #"{"items":[{"types":["UserEmailVerified","UserEmailUnverified"],"tags":["user:ada"]}]}"#
            let read = try await server.post("/v1/query", #"{"query":\#(query)}"#)
            #expect(read.status == 200, "\(read.body)")
            guard case .array(let events)? = read.json["events"], case .integer(let head)? = read.json["head"] else { Issue.record("\(read.body)"); return }
            #expect(events.map { $0["type"] } == ["UserEmailVerified"] && head == 2)
            #expect(events.first?["tags"] == ["user:ada"], "events carry their tags: \(read.body)")

            let post = #"{"streams":[{"stream":"advertisement-1","events":[{"type":"AdvertisementPosted","data":{"title":"Bike"},"tags":["user:ada"]}]}],"condition":{"failIfEventsMatch":\#(query),"after":\#(head)}}"#
            let posted = try await server.post("/v1/append", post)
            #expect(posted.status == 201, "nothing changed since the read: \(posted.body)")

            #expect(try await server.post("/v1/streams/user-ada", #"{"type":"UserEmailUnverified","tags":["user:ada"]}"#).status == 201)
            let stale = try await server.post("/v1/append", post.replacingOccurrences(of: "advertisement-1", with: "advertisement-2"))
            #expect(stale.status == 409 && stale.json["code"] == "append-condition-failed", "\(stale.body)")
            #expect(stale.json["position"] == 4, "the problem names the first matching event: \(stale.body)")
            #expect(stale.header("Content-Type")?.hasPrefix("application/problem+json") == true)
            let log = try await server.get("/v1/log")
            guard case .array(let stored)? = log.json["events"] else { Issue.record("\(log.body)"); return }
            #expect(stored.count == 4, "the refused append stored nothing")
        }
    }

    @Test("a unique username with tags: the second claim of a name is refused, on /v1/streams too; bad tags and conditions are 400s that say where (SQLite)")
    func uniqueUsernameOnSQLite() async throws { try await uniqueUsername(backend: .sqlite) }

    @Test("a unique username with tags: the second claim of a name is refused, on /v1/streams too; bad tags and conditions are 400s that say where (PostgreSQL)", TestPostgres.enabled)
    func uniqueUsernameOnPostgres() async throws { try await uniqueUsername(backend: .postgres) }

    func uniqueUsername(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            func claim(_ user: String, _ name: String) async throws -> TestResponse {
                try await server.post("/v1/streams/user-\(user)", #"{"events":[{"type":"UsernameClaimed","data":{"username":"\#(name)"},"tags":["username:\#(name)"]}],"condition":{"failIfEventsMatch":{"items":[{"tags":["username:\#(name)"]}]}}}"#)
            }
            #expect(try await claim("ada", "ada").status == 201)
            let taken = try await claim("eve", "ada")
            #expect(taken.status == 409 && taken.json["code"] == "append-condition-failed", "\(taken.body)")
            #expect(try await claim("eve", "eve").status == 201)

            let badTag = try await server.post("/v1/streams/user-x", #"{"type":"UsernameClaimed","tags":["has space"]}"#)
            #expect(badTag.status == 400 && badTag.body.contains("UsernameClaimed") && badTag.body.contains("has space"), "\(badTag.body)")
            let notStrings = try await server.post("/v1/streams/user-x", #"{"type":"UsernameClaimed","tags":[1]}"#)
            #expect(notStrings.status == 400 && notStrings.json["pointer"] == "/tags/0", "\(notStrings.body)")
            let badCondition = try await server.post("/v1/append", #"{"streams":[{"stream":"user-x","events":[{"type":"A"}]}],"condition":{"after":3}}"#)
            #expect(badCondition.status == 400 && badCondition.json["pointer"] == "/condition/failIfEventsMatch", "\(badCondition.body)")
            let badQuery = try await server.post("/v1/query", #"{"query":{"items":[{"kinds":["A"]}]}}"#)
            #expect(badQuery.status == 400 && badQuery.json["pointer"] == "/query/items/0/kinds", "\(badQuery.body)")
            let badQueryTag = try await server.post("/v1/query", #"{"query":{"items":[{"tags":["user:ada","has\nnewline"]}]}}"#)
            #expect(badQueryTag.status == 400 && badQueryTag.body.contains("item 0 tag") && badQueryTag.json["pointer"] == "/query", "a tag no event can carry matches nothing, so it is refused: \(badQueryTag.body)")
            let page = try await server.post("/v1/query", #"{"query":{"items":[{"tags":["username:eve"]}]},"after":0,"limit":1}"#)
            #expect(page.json["head"] == 2, "a full page's head is its last event: \(page.body)")
            // JSON Schema calls 1.0 an integer, and clients holding numbers as doubles send it so
            // (a schemathesis finding): integral numbers are whole numbers, a fraction is not.
            let integralFloats = try await server.post("/v1/query", #"{"query":{"items":[{"tags":["username:eve"]}]},"after":0.0,"limit":1.0}"#)
            #expect(integralFloats.status == 200 && integralFloats.json["head"] == 2, "\(integralFloats.body)")
            let fraction = try await server.post("/v1/query", #"{"after":0,"limit":1.5}"#)
            #expect(fraction.status == 400 && fraction.json["pointer"] == "/limit", "\(fraction.body)")
            let revision = try await server.post("/v1/streams/user-floats", #"{"expectedRevision":-1.0,"events":[{"type":"A"}]}"#)
            #expect(revision.status == 201, "an expected revision of -1.0 is noStream: \(revision.body)")
        }
    }

    @Test("SSE with ?query= sends the stored matches, then live ones, and nothing else; a bad query is a 400 (SQLite)")
    func subscribeByQueryOnSQLite() async throws { try await subscribeByQuery(backend: .sqlite) }

    @Test("SSE with ?query= sends the stored matches, then live ones, and nothing else; a bad query is a 400 (PostgreSQL)", TestPostgres.enabled)
    func subscribeByQueryOnPostgres() async throws { try await subscribeByQuery(backend: .postgres) }

    func subscribeByQuery(backend: TestBackend) async throws {
        try await withServer(.init(heartbeatInterval: .milliseconds(100)), backend: backend) { server in
            _ = try await server.post("/v1/streams/user-ada", #"{"type":"UserRegistered","tags":["user:ada"]}"#)
            _ = try await server.post("/v1/streams/user-bob", #"{"type":"UserRegistered","tags":["user:bob"]}"#)
            let query = #"{"items":[{"tags":["user:ada"]}]}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let caughtUp = Flag()
            let received = try await withThrowingTaskGroup(of: [ServerSentEvent].self) { group in
                group.addTask {
                    try await readEventStream(server, "/v1/subscribe?query=\(query)") { events in
                        if events.contains(where: \.isEvent) { caughtUp.set() }
                        return events.filter(\.isEvent).count >= 2
                    }
                }
                group.addTask {
                    try await withDeadline(seconds: 60, "the subscriber to catch up") {
                        while !caughtUp.isSet { try await Task.sleep(for: .milliseconds(10)) }
                    }
                    _ = try await server.post("/v1/streams/user-bob", #"{"type":"UserRenamed","tags":["user:bob"]}"#)
                    _ = try await server.post("/v1/streams/user-ada", #"{"type":"UserRenamed","tags":["user:ada"]}"#)
                    return []
                }
                var all: [ServerSentEvent] = []
                for try await events in group { all += events }
                return all
            }
            let events = received.filter(\.isEvent)
            #expect(events.map(\.event) == ["UserRegistered", "UserRenamed"], "the stored match, then the live one; bob's are not sent")
            #expect(events.allSatisfy { $0.json["tags"] == ["user:ada"] })
            let bad = try await server.get("/v1/subscribe?query=nonsense")
            #expect(bad.status == 400 && bad.body.contains("DCB query"), "\(bad.body)")
        }
    }
}
