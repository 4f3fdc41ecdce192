import ChronicleClient
import ChronicleCore
import Foundation
import Testing

/// Every call of the client, against a real server on loopback (SQLite in a fresh directory).
@Suite("ChronicleClient: every call against a real server")
struct ClientCallTests {
    @Test("streams: append with expectations, a replayed retry, multi-stream append, reads, the log, correlations, delete")
    func streams() async throws {
        try await withClient { chronicle, _ in
            let user = try StreamName("user-1")
            let created = EventData(type: "UserCreated", data: ["email": "ada@example.com"])
            let first = try await chronicle.append(created, to: user, expected: .noStream)
            #expect(first.stream.firstRevision == 0 && first.stream.lastRevision == 0 && first.position == 1)
            #expect(!first.replayed && first.eventIds == [created.id] && !first.correlationId.isEmpty)

            // The same event again (a retry): nothing stored, the original answer.
            let again = try await chronicle.append(created, to: user, expected: .noStream)
            #expect(again.replayed && again.position == 1 && again.stream == first.stream)

            let renamed = try await chronicle.append([EventData(type: "UserRenamed", data: ["name": "Ada"])], to: user, expected: .exact(0), correlationId: "rename-1")
            #expect(renamed.stream.lastRevision == 1 && renamed.position == 2 && renamed.correlationId == "rename-1")

            let transfer = try await chronicle.append(request: AppendRequest([
                .init(stream: try StreamName("account-1"), expected: .noStream, events: [EventData(type: "Debited", data: ["amount": 10])]),
                .init(stream: try StreamName("account-2"), expected: .any, events: [EventData(type: "Credited", data: ["amount": 10])]),
            ]))
            #expect(transfer.streams.map(\.stream.rawValue) == ["account-1", "account-2"] && transfer.position == 4 && !transfer.replayed)

            let events = try await chronicle.read(user)
            #expect(events.map(\.type) == ["UserCreated", "UserRenamed"] && events[0].id == created.id && events[0].data["email"] == "ada@example.com")
            let last = try await chronicle.read(user, from: .end, direction: .backwards, limit: 1)
            #expect(last.map(\.type) == ["UserRenamed"])
            let paged = try await chronicle.read(user, from: .revision(1))
            #expect(paged.map(\.revision) == [1])

            let page = try await chronicle.readLog(after: 0, limit: 3)
            #expect(page.events.map(\.position) == [1, 2, 3] && page.scannedThrough == 3)
            let accounts = try await chronicle.readLog(filter: LogFilter(categories: ["account"]))
            #expect(accounts.events.map(\.type) == ["Debited", "Credited"])

            let caused = try await chronicle.correlation("rename-1")
            #expect(caused.events.map(\.type) == ["UserRenamed"])

            let deleted = try await chronicle.delete(try StreamName("account-1"), mode: .soft, expected: .exact(0))
            #expect(deleted.revision == 0 && deleted.position == 5)

            let ready: JSONValue = try await chronicle.get("/health/ready")
            #expect(ready != .null)
        }
    }

    @Test("DCB: query what a decision depends on, then append on the condition that nothing new matches")
    func query() async throws {
        try await withClient { chronicle, _ in
            let verified = EventData(type: "EmailVerified", data: [:], tags: ["user:ada"])
            try await chronicle.append(verified, to: try StreamName("user-ada"))
            try await chronicle.append(EventData(type: "EmailVerified", tags: ["user:bob"]), to: try StreamName("user-bob"))
            let question = DCBQuery([.init(types: ["EmailVerified", "EmailUnverified"], tags: ["user:ada"])])
            let answer = try await chronicle.query(question)
            #expect(answer.events.map(\.id) == [verified.id] && answer.events[0].tags == ["user:ada"] && answer.head == 2)

            let posted = try await chronicle.append(request: AppendRequest(
                [.init(stream: try StreamName("ad-1"), events: [EventData(type: "AdPosted", tags: ["user:ada"])])],
                condition: AppendCondition(failIfEventsMatch: question, after: answer.head)
            ))
            #expect(posted.position == 3)
            let single = try await chronicle.append(EventData(type: "AdPosted", tags: ["user:ada"]), to: try StreamName("ad-2"), condition: AppendCondition(failIfEventsMatch: question, after: answer.head))
            #expect(single.position == 4)
        }
    }

    @Test("entities: declarative posts, the document now and in the past, read your write, list, history, diff")
    func entities() async throws {
        try await withClient(ServerSetup(schema: appSchema())) { chronicle, _ in
            let signup = try await chronicle.post(eventType: "UserCreated", payload: ["id": "ada", "email": "ada@example.com"])
            #expect(signup.entity == "user" && signup.id == "ada" && signup.stream == "user-ada" && signup.revision == 0 && !signup.correlationId.isEmpty && signup.eventId != nil)
            let verified = try await chronicle.post(eventType: "UserEmailVerified", payload: ["id": "ada"], correlationId: "verify-ada")
            #expect(verified.revision == 1 && verified.correlationId == "verify-ada")
            try await chronicle.post(eventType: "UserCreated", payload: ["id": "bob", "email": "bob@example.com"])

            let ada = try await chronicle.entity("user", "ada")
            #expect(ada.version == 1 && ada.state["emailVerified"] == true && ada.state["email"] == "ada@example.com" && !ada.deleted)
            let before = try await chronicle.entity("user", "ada", version: 0)
            #expect(before.version == 0 && before.state["emailVerified"] == nil)
            let atPoint = try await chronicle.entity("user", "ada", at: "0")
            #expect(atPoint == before)
            let fresh = try await chronicle.readYourWrite("user", "ada", after: verified.position, wait: .seconds(5))
            #expect(fresh.version == 1 && fresh.position == verified.position)

            let onlyVerified = try await chronicle.list("user", filters: [EntityFilter("emailVerified", .eq, true)])
            #expect(onlyVerified.documents.map(\.id) == ["ada"] && onlyVerified.next == nil)
            let firstPage = try await chronicle.list("user", sort: "-email", limit: 1)
            #expect(firstPage.documents.map(\.id) == ["bob"])
            let next = try #require(firstPage.next)
            let secondPage = try await chronicle.list("user", sort: "-email", limit: 1, cursor: next)
            #expect(secondPage.documents.map(\.id) == ["ada"])
            let byEmail = try await chronicle.list("user", filters: [EntityFilter("email", .eq, "bob@example.com")])
            #expect(byEmail.documents.map(\.id) == ["bob"])

            let history = try await chronicle.history("user", "ada")
            #expect(history.history.map(\.type) == ["UserCreated", "UserEmailVerified"] && history.history.map(\.version) == [0, 1])
            #expect(history.history[1].patch == [["op": "add", "path": "/emailVerified", "value": true]])
            let diff = try await chronicle.diff("user", "ada", from: "0", to: "1")
            #expect(diff.from == 0 && diff.to == 1 && diff.patch == [["op": "add", "path": "/emailVerified", "value": true]])

            // If-Match: the entity's version.
            let renamed = try await chronicle.post(eventType: "UserRenamed", payload: ["id": "ada", "name": "Ada"], ifMatch: 1)
            #expect(renamed.revision == 2)

            let ad = try await chronicle.post(eventType: "AdvertisementPosted", payload: ["userId": "ada", "title": "Bike"])
            #expect(ad.entity == "advertisement" && !ad.id.isEmpty)
            let posted = try await chronicle.entity("advertisement", ad.id)
            #expect(posted.state["title"] == "Bike")
        }
    }

    @Test("read your write on asynchronous read models: each read after a post sees that post")
    func readYourWriteAsync() async throws {
        let schema = """
            entities:
              user:
                events:
                  UserCreated: create
                  UserRenamed: merge
            """
        try await withClient(ServerSetup(schema: schema, lifecycle: .async)) { chronicle, _ in
            let created = try await chronicle.post(eventType: "UserCreated", payload: ["id": "ada", "name": "Ada 0"])
            #expect(try await chronicle.readYourWrite("user", "ada", after: created.position).version == 0)
            for index in 1...20 {
                let renamed = try await chronicle.post(eventType: "UserRenamed", payload: ["id": "ada", "name": .string("Ada \(index)")])
                let read = try await chronicle.readYourWrite("user", "ada", after: renamed.position, wait: .seconds(10))
                #expect(read.version == renamed.revision && read.state["name"] == .string("Ada \(index)"))
            }
        }
    }
}
