import ChronicleClient
import ChronicleCore
import Foundation
import Testing

@Suite("ChronicleClient: the read model across time")
struct ClientTemporalTests {
    @Test("entity and list as of a moment, changes between two, blame, and the out-of-range problem with its fields")
    func acrossTime() async throws {
        try await withClient(ServerSetup(schema: appSchema())) { chronicle, _ in
            let ada = try await chronicle.post(eventType: "UserCreated", payload: ["id": "ada", "email": "ada@example.com"])
            let bob = try await chronicle.post(eventType: "UserCreated", payload: ["id": "bob", "email": "bob@example.com"])
            let verified = try await chronicle.post(eventType: "UserEmailVerified", payload: ["id": "ada"])

            let then = try await chronicle.entity("user", "ada", asOf: String(ada.position))
            #expect(then.state == ["id": "ada", "email": "ada@example.com"] && then.asOf == ada.position, "\(then)")
            #expect(try await chronicle.entity("user", "ada").asOf == nil)
            let early = try await chronicle.list("user", asOf: String(ada.position))
            #expect(early.documents.map(\.id) == ["ada"] && early.asOf == ada.position)
            #expect(try await chronicle.list("user", asOf: String(bob.position)).documents.map(\.id) == ["ada", "bob"])

            let changes = try await chronicle.changes(from: String(bob.position), to: String(verified.position))
            #expect(changes.changes.map(\.id) == ["ada"] && changes.changes.first?.kind == "changed" && changes.next == nil)
            #expect(changes.changes.first?.before?.state["emailVerified"] == nil && changes.changes.first?.after?.state["emailVerified"] == true)
            let paged = try await chronicle.changes(from: "0", to: String(verified.position), limit: 1)
            #expect(paged.changes.count == 1 && paged.next != nil)
            let rest = try await chronicle.changes(from: "0", to: String(verified.position), limit: 10, cursor: paged.next)
            #expect((paged.changes + rest.changes).map(\.id).sorted() == ["ada", "bob"])

            let blame = try await chronicle.blame("user", "ada")
            #expect(blame.fields.first { $0.pointer == "/emailVerified" }?.position == verified.position)
            #expect(blame.fields.first { $0.pointer == "/email" }?.type == "UserCreated")
            #expect(try await chronicle.blame("user", "ada", asOf: String(ada.position)).fields.count == 2)

            let effects = try await chronicle.effects(ofEventAt: verified.position)
            #expect(effects.event.type == "UserEmailVerified" && effects.event.position == verified.position && effects.projection == "entities")
            #expect(effects.effects.map(\.id) == ["ada"] && effects.effects.first?.change == "updated" && effects.effects.first?.patch == [["op": "add", "path": "/emailVerified", "value": true]], "\(effects)")
            #expect(try await chronicle.effects(ofEventAt: ada.position).effects.first?.change == "created")
            do {
                _ = try await chronicle.effects(ofEventAt: verified.position + 10)
                Issue.record("the effects of a position beyond the head were answered")
            } catch let error as ChronicleClientError {
                #expect(error.code == .momentOutOfRange && error.status == 400, "\(error)")
            }

            do {
                _ = try await chronicle.entity("user", "ada", asOf: String(verified.position + 10))
                Issue.record("a position beyond the head was answered")
            } catch let error as ChronicleClientError {
                #expect(error.code == .momentOutOfRange && error.status == 400 && error.problem?["head"] == .integer(verified.position), "\(error)")
            }
        }
    }
}
