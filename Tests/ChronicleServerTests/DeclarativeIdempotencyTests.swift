import ChronicleCore
import ChronicleTestSupport
import Foundation
import Testing

@Suite("HTTP: Idempotency-Key on declarative writes")
struct DeclarativeIdempotencyTests {
    @Test("the same key stores one event and answers the original result; a create without an id keeps its entity; bad keys and changed payloads are refused (SQLite)")
    func onSQLite() async throws { try await idempotency(backend: .sqlite) }

    @Test("the same key stores one event and answers the original result; a create without an id keeps its entity; bad keys and changed payloads are refused (PostgreSQL)", TestPostgres.enabled)
    func onPostgres() async throws { try await idempotency(backend: .postgres) }

    func idempotency(backend: TestBackend) async throws {
        try await withServer(projection: try adProjection(), backend: backend) { server in
            let key = [("Idempotency-Key", "signup-ada-1")]
            let first = try await server.post("/v1/events/UserCreated", #"{"email":"ada@example.com"}"#, headers: key)
            #expect(first.status == 201 && first.json["replayed"] == false, "\(first.body)")
            let again = try await server.post("/v1/events/UserCreated", #"{"email":"ada@example.com"}"#, headers: key)
            #expect(again.status == 200 && again.json["replayed"] == true, "\(again.body)")
            for field in ["id", "stream", "position", "revision", "eventId", "correlationId"] {
                #expect(again.json[field] == first.json[field], "the resend's \(field) is the original's")
            }
            #expect(first.json["eventId"] == first.json["id"] && first.json["correlationId"] == first.json["id"], "a create without an id takes the key's event id, and so does the correlation")
            #expect(try await server.store.headPosition() == 1, "stored once")

            let uuid = UUID().uuidString.lowercased()
            let named = try await server.post("/v1/events/UserCreated", #"{"id":"bob","email":"bob@example.com"}"#, headers: [("Idempotency-Key", uuid), ("X-Correlation-ID", "signup-bob")])
            #expect(named.status == 201 && named.json["eventId"] == .string(uuid) && named.json["correlationId"] == "signup-bob", "a UUID key is the event id itself: \(named.body)")
            let changed = try await server.post("/v1/events/UserCreated", #"{"id":"bob","email":"robert@example.com"}"#, headers: [("Idempotency-Key", uuid), ("X-Correlation-ID", "signup-bob")])
            #expect(changed.status == 409 && changed.json["code"] == "idempotency-conflict", "the same key with another payload: \(changed.body)")
            for bad in ["", String(repeating: "k", count: 201), "tab\there"] {
                let refused = try await server.post("/v1/events/UserCreated", #"{"email":"eve@example.com"}"#, headers: [("Idempotency-Key", bad)])
                #expect(refused.status == 400 && refused.json["code"] == "invalid-input" && refused.body.contains("Idempotency-Key"), "\(bad.debugDescription): \(refused.body)")
            }
            #expect(try await server.store.headPosition() == 2, "refused writes store nothing")
            let other = try await server.post("/v1/events/UserCreated", #"{"email":"ada@example.com"}"#, headers: [("Idempotency-Key", "signup-ada-2")])
            #expect(other.status == 409 && other.json["rule"] == "user.unique.email", "another key is another write, which the rules judge: \(other.body)")
        }
    }
}
