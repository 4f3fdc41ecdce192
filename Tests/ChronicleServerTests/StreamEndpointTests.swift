import ChronicleCore
import ChronicleReactors
import ChronicleServer
import ChronicleTestSupport
import Foundation
import NIOHTTP1
import Testing

@Suite("HTTP: streams, append, log")
struct StreamEndpointTests {
    @Test("append one event, an array, or an envelope; read back with ETag, paging and 304 (SQLite)")
    func appendAndReadOnSQLite() async throws { try await appendAndRead(backend: .sqlite) }

    @Test("append one event, an array, or an envelope; read back with ETag, paging and 304 (PostgreSQL)", TestPostgres.enabled)
    func appendAndReadOnPostgres() async throws { try await appendAndRead(backend: .postgres) }

    func appendAndRead(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            let one = try await server.post("/v1/streams/user-1", #"{"type":"UserCreated","data":{"email":"ada@example.com"},"metadata":{"actor":"test"}}"#)
            #expect(one.status == 201, "\(one.body)")
            #expect(one.header("ETag") == "\"0\"")
            #expect(one.header("Location") == "/v1/streams/user-1")
            #expect(one.json["firstPosition"] == 1 && one.json["lastRevision"] == 0)
            let many = try await server.post("/v1/streams/user-1", #"[{"type":"A"},{"type":"B","data":{"n":2}}]"#)
            #expect(many.status == 201 && many.json["firstRevision"] == 1 && many.json["lastRevision"] == 2)
            let envelope = try await server.post("/v1/streams/user-1", #"{"expectedRevision":2,"events":[{"type":"C"}]}"#)
            #expect(envelope.status == 201 && envelope.json["lastRevision"] == 3)

            let read = try await server.get("/v1/streams/user-1")
            #expect(read.status == 200)
            #expect(read.header("ETag") == "\"3\"")
            guard case .array(let events)? = read.json["events"] else { Issue.record("no events: \(read.body)"); return }
            #expect(events.map { $0["type"] } == ["UserCreated", "A", "B", "C"])
            #expect(events[0]["data"] == ["email": "ada@example.com"] && events[0]["metadata"]?["actor"] == "test")
            #expect(read.json["next"] == .null)

            let page = try await server.get("/v1/streams/user-1?limit=2")
            #expect(page.json["next"] == 2)
            let backwards = try await server.get("/v1/streams/user-1?direction=backwards&from=end&limit=3")
            guard case .array(let reversed)? = backwards.json["events"] else { Issue.record("\(backwards.body)"); return }
            #expect(reversed.map { $0["revision"] } == [3, 2, 1])
            #expect(backwards.json["next"] == 0)

            let cached = try await server.get("/v1/streams/user-1", headers: [("If-None-Match", "\"3\"")])
            #expect(cached.status == 304)
            let missing = try await server.get("/v1/streams/user-404")
            #expect(missing.status == 404 && missing.json["code"] == "stream-not-found")
            #expect(missing.header("Content-Type") == "application/problem+json")
        }
    }

    @Test("expectations from If-Match or the body; conflicts report the actual revision (SQLite)")
    func expectationsOnSQLite() async throws { try await expectations(backend: .sqlite) }

    @Test("expectations from If-Match or the body; conflicts report the actual revision (PostgreSQL)", TestPostgres.enabled)
    func expectationsOnPostgres() async throws { try await expectations(backend: .postgres) }

    func expectations(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            #expect(try await server.post("/v1/streams/order-1", #"{"type":"Placed"}"#, headers: [("If-Match", "*")]).status == 409)
            #expect(try await server.post("/v1/streams/order-1", #"{"expectedRevision":"noStream","events":[{"type":"Placed"}]}"#).status == 201)
            let stale = try await server.post("/v1/streams/order-1", #"{"type":"Paid"}"#, headers: [("If-Match", "\"5\"")])
            #expect(stale.status == 409)
            #expect(stale.json["code"] == "wrong-expected-revision")
            #expect(stale.json["type"] == "urn:chronicle:problem:wrong-expected-revision")
            #expect(stale.json["actualRevision"] == 0 && stale.json["expectedRevision"] == "5")
            #expect(try await server.post("/v1/streams/order-1", #"{"type":"Paid"}"#, headers: [("If-Match", "\"0\"")]).status == 201)
            let disagree = try await server.post("/v1/streams/order-1", #"{"expectedRevision":1,"events":[{"type":"X"}]}"#, headers: [("If-Match", "\"0\"")])
            #expect(disagree.status == 400 && disagree.body.contains("disagree"))
            let retried = #"{"id":"0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6","type":"Shipped"}"#
            let first = try await server.post("/v1/streams/order-1", retried)
            let again = try await server.post("/v1/streams/order-1", retried)
            #expect(first.status == 201 && again.status == 200, "an idempotent retry answers 200, the first append 201")
            #expect(again.json["replayed"] == true && first.json["replayed"] == false)
            for field in ["stream", "firstRevision", "lastRevision", "firstPosition", "lastPosition", "eventIds"] {
                #expect(first.json[field] == again.json[field], "an idempotent retry answers the original result (\(field))")
            }
            #expect(try await server.store.read(StreamName("order-1")).count == 3)
        }
    }

    @Test("multi-stream append is all or nothing (SQLite)")
    func multiStreamOnSQLite() async throws { try await multiStream(backend: .sqlite) }

    @Test("multi-stream append is all or nothing (PostgreSQL)", TestPostgres.enabled)
    func multiStreamOnPostgres() async throws { try await multiStream(backend: .postgres) }

    func multiStream(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            let refused = try await server.post("/v1/append", #"{"streams":[{"stream":"account-a","events":[{"type":"Debited"}]},{"stream":"account-b","expectedRevision":4,"events":[{"type":"Credited"}]}]}"#)
            #expect(refused.status == 409 && refused.json["stream"] == "account-b")
            #expect(try await server.store.headPosition() == 0)
            let done = try await server.post("/v1/append", #"{"streams":[{"stream":"account-a","events":[{"type":"Debited"}]},{"stream":"account-b","expectedRevision":"noStream","events":[{"type":"Credited"}]}]}"#)
            #expect(done.status == 201 && done.json["position"] == 2)
        }
    }

    static let badRequestCases: [(String, String, Int, String)] = [
        ("/v1/streams/user-1", #"{"type":"X","#, 400, "line 1, column"),
        ("/v1/streams/user-1", #"{"type":"X","data":[1]}"#, 400, "must be a JSON object"),
        ("/v1/streams/user-1", #"{"type":"X","dta":{}}"#, 400, "/dta is not a known field"),
        ("/v1/streams/user-1", #"{"data":{}}"#, 400, "/type is missing"),
        ("/v1/streams/user-1", #"{"type":"X","id":"nope"}"#, 400, "must be a UUID"),
        ("/v1/streams/user-1", #"[]"#, 400, "no events"),
        ("/v1/streams/user-1", #""text""#, 400, "JSON string"),
        ("/v1/streams/user%201", #"{"type":"X"}"#, 400, "whitespace"),
        ("/v1/streams/%24streams", #"{"type":"X"}"#, 400, "reserved"),
        ("/v1/streams/user-1", #"{"expectedRevision":"later","events":[{"type":"X"}]}"#, 400, "expectedRevision"),
        ("/v1/streams/user-1", #"[{"type":"A"},{"type":"B"},{"type":"C"},{"type":"D"},{"type":"E"},{"type":"F"}]"#, 413, "limit is 5"),
        ("/v1/streams/user-1", #"{"type":"X","data":{"blob":""# + String(repeating: "x", count: 5000) + #""}}"#, 413, "larger than"),
        ("/v1/append", #"{"streams":{}}"#, 400, "/streams"),
        ("/v1/append", #"{"streams":[{"stream":"a-1","events":[{"type":"X"}],"extra":1}]}"#, 400, "extra"),
    ]

    @Test("bad requests get a 4xx problem that says what to fix, and store nothing (SQLite)", arguments: badRequestCases)
    func badRequestsOnSQLite(path: String, body: String, status: Int, fragment: String) async throws {
        try await badRequests(path: path, body: body, status: status, fragment: fragment, backend: .sqlite)
    }

    @Test("bad requests get a 4xx problem that says what to fix, and store nothing (PostgreSQL)", TestPostgres.enabled, arguments: badRequestCases)
    func badRequestsOnPostgres(path: String, body: String, status: Int, fragment: String) async throws {
        try await badRequests(path: path, body: body, status: status, fragment: fragment, backend: .postgres)
    }

    func badRequests(path: String, body: String, status: Int, fragment: String, backend: TestBackend) async throws {
        try await withServer(.init(maximumRequestBytes: 4096, maximumEventsPerRequest: 5), backend: backend) { server in
            let response = try await server.post(path, body)
            #expect(response.status == status, "\(response.body)")
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.json["detail"].map { "\($0)" }?.contains(fragment) == true, "\(response.body)")
            #expect(response.json["type"] != nil && response.json["status"] == .integer(Int64(status)))
            #expect(try await server.store.headPosition() == 0)
        }
    }

    @Test("other bad requests: media type, headers, query parameters, unknown routes (SQLite)")
    func otherBadRequestsOnSQLite() async throws { try await otherBadRequests(backend: .sqlite) }

    @Test("other bad requests: media type, headers, query parameters, unknown routes (PostgreSQL)", TestPostgres.enabled)
    func otherBadRequestsOnPostgres() async throws { try await otherBadRequests(backend: .postgres) }

    func otherBadRequests(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            let form = try await server.request(.POST, "/v1/streams/user-1", body: "type=X", contentType: "application/x-www-form-urlencoded")
            #expect(form.status == 415)
            #expect(try await server.post("/v1/streams/user-1", #"{"type":"X"}"#, headers: [("If-Match", "W/\"1\"")]).status == 400)
            #expect(try await server.get("/v1/streams/user-1?limit=0").status == 400)
            #expect(try await server.get("/v1/streams/user-1?direction=sideways").status == 400)
            #expect(try await server.get("/v1/log?after=-3").status == 400)
            #expect(try await server.get("/v1/log?limit=5000").status == 400)
            #expect(try await server.request(.DELETE, "/v1/streams/user-1?mode=shred").status == 400)
            let unknown = try await server.get("/v1/nothing-here")
            #expect(unknown.status == 404 && unknown.json["code"] == "route-not-found")
            #expect(try await server.store.headPosition() == 0)
        }
    }

    @Test("soft and hard delete over HTTP, honouring If-Match (SQLite)")
    func deletesOnSQLite() async throws { try await deletes(backend: .sqlite) }

    @Test("soft and hard delete over HTTP, honouring If-Match (PostgreSQL)", TestPostgres.enabled)
    func deletesOnPostgres() async throws { try await deletes(backend: .postgres) }

    func deletes(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            _ = try await server.post("/v1/streams/cart-1", #"[{"type":"Added"},{"type":"Added"}]"#)
            #expect(try await server.request(.DELETE, "/v1/streams/cart-1", headers: [("If-Match", "\"0\"")]).status == 409)
            let soft = try await server.request(.DELETE, "/v1/streams/cart-1", headers: [("If-Match", "\"1\"")])
            #expect(soft.status == 200 && soft.json["mode"] == "soft")
            let hidden = try await server.get("/v1/streams/cart-1")
            #expect(hidden.status == 404 && hidden.body.contains("deleted"))
            #expect(try await server.post("/v1/streams/cart-1", #"{"type":"Added"}"#).json["firstRevision"] == 2)
            let hard = try await server.request(.DELETE, "/v1/streams/cart-1?mode=hard")
            #expect(hard.status == 200)
            #expect(try await server.get("/v1/streams/cart-1").status == 410)
            let write = try await server.post("/v1/streams/cart-1", #"{"type":"Added"}"#)
            #expect(write.status == 410 && write.json["code"] == "stream-deleted")
            #expect(try await server.request(.DELETE, "/v1/streams/cart-9").status == 404)
        }
    }

    @Test("the global log pages with a cursor and filters by type and category (SQLite)")
    func logOnSQLite() async throws { try await log(backend: .sqlite) }

    @Test("the global log pages with a cursor and filters by type and category (PostgreSQL)", TestPostgres.enabled)
    func logOnPostgres() async throws { try await log(backend: .postgres) }

    func log(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            for index in 0..<5 {
                _ = try await server.post("/v1/streams/user-\(index)", #"{"type":"UserCreated"}"#)
                _ = try await server.post("/v1/streams/order-\(index)", #"[{"type":"OrderPlaced"},{"type":"OrderPaid"}]"#)
            }
            let first = try await server.get("/v1/log?limit=4")
            guard case .array(let events)? = first.json["events"] else { Issue.record("\(first.body)"); return }
            #expect(events.map { $0["position"] } == [1, 2, 3, 4])
            #expect(first.json["next"] == 4)
            let rest = try await server.get("/v1/log?after=4&limit=100")
            guard case .array(let more)? = rest.json["events"] else { Issue.record("\(rest.body)"); return }
            #expect(more.count == 11 && rest.json["next"] == 15)
            let paid = try await server.get("/v1/log?type=OrderPaid&category=order")
            guard case .array(let filtered)? = paid.json["events"] else { Issue.record("\(paid.body)"); return }
            #expect(filtered.count == 5 && filtered.allSatisfy { $0["type"] == "OrderPaid" })
            let two = try await server.get("/v1/log?type=UserCreated,OrderPaid")
            guard case .array(let both)? = two.json["events"] else { Issue.record("\(two.body)"); return }
            #expect(both.count == 10)
        }
    }
}

@Suite("HTTP: correlation")
struct CorrelationTests {
    @Test("every request gets a correlation id; its events carry it; /v1/correlations and the correlation filter find them (SQLite)")
    func correlationOnSQLite() async throws { try await correlation(backend: .sqlite) }

    @Test("every request gets a correlation id; its events carry it; /v1/correlations and the correlation filter find them (PostgreSQL)", TestPostgres.enabled)
    func correlationOnPostgres() async throws { try await correlation(backend: .postgres) }

    func correlation(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            let first = try await server.post("/v1/streams/user-1", #"[{"type":"A"},{"type":"B"}]"#, headers: [("X-Correlation-ID", "req-42")])
            #expect(first.header("X-Correlation-ID") == "req-42")
            let other = try await server.post("/v1/streams/user-2", #"{"type":"C","metadata":{"causationId":"evt-1"}}"#)
            let generated = try #require(other.header("X-Correlation-ID"))
            #expect(generated.count == 36, "a new id when none is sent")
            _ = try await server.post("/v1/append", #"{"streams":[{"stream":"order-1","events":[{"type":"D"}]}]}"#, headers: [("X-Correlation-ID", "req-42")])

            let correlated = try await server.get("/v1/correlations/req-42")
            guard case .array(let events)? = correlated.json["events"] else { Issue.record("\(correlated.body)"); return }
            #expect(events.map { $0["type"] } == ["A", "B", "D"])
            #expect(events.allSatisfy { $0["metadata"]?["correlationId"] == "req-42" && $0["metadata"]?["causationId"] == "req-42" })
            let mine = try await server.get("/v1/correlations/\(generated)")
            guard case .array(let single)? = mine.json["events"] else { Issue.record("\(mine.body)"); return }
            #expect(single.first?["metadata"]?["causationId"] == "evt-1", "a causation id sent by the client is kept")
            #expect(try await server.get("/v1/log?correlation=req-42").json["events"].map { if case .array(let items) = $0 { items.count } else { 0 } } == 3)
            let stream = try await readEventStream(server, "/v1/subscribe?after=0&correlation=req-42") { $0.filter(\.isEvent).count >= 3 }
            #expect(stream.filter(\.isEvent).map(\.event) == ["A", "B", "D"])
            let problem = try await server.get("/v1/nothing", headers: [("X-Correlation-ID", "req-99")])
            #expect(problem.header("X-Correlation-ID") == "req-99", "errors carry the correlation id too")
            let retried = #"{"id":"0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a7","type":"Paid"}"#
            let once = try await server.post("/v1/streams/order-2", retried)
            let twice = try await server.post("/v1/streams/order-2", retried)
            #expect(once.status == 201 && twice.status == 200, "a retry is a new request with a new correlation id, and still idempotent")
            #expect(once.json["lastPosition"] == twice.json["lastPosition"] && twice.json["replayed"] == true)
        }
    }
}

@Suite("HTTP: reactors")
struct ReactorEndpointTests {
    struct Broken: Error {}

    @Test("reactor status, metrics, parked events, and skipping one (SQLite)")
    func reactorsOnSQLite() async throws { try await reactors(backend: .sqlite) }

    @Test("reactor status, metrics, parked events, and skipping one (PostgreSQL)", TestPostgres.enabled)
    func reactorsOnPostgres() async throws { try await reactors(backend: .postgres) }

    func reactors(backend: TestBackend) async throws {
        let reactor = Reactor(name: "hook", startsAtBeginning: true, maximumAttempts: 2, backoff: .milliseconds(1)) { delivery in
            if delivery.event.type == "Broken" { throw Broken() }
            return []
        }
        try await withServer(reactors: [reactor], backend: backend) { server in
            _ = try await server.post("/v1/streams/job-1", #"[{"type":"Fine"},{"type":"Broken"},{"type":"Fine"}]"#, headers: [("X-Correlation-ID", "req-7")])
            // A client following the request's correlation is pushed the failure.
            let pushed = try await readEventStream(server, "/v1/subscribe?after=0&correlation=req-7") { events in
                events.contains { $0.data?.contains("$reactorParked") == true }
            }
            #expect(pushed.compactMap(\.data).filter { $0.contains(#""type":"#) }.count == 4, "the three events and the parked record")
            // Three events, then the $reactorParked record of the broken one: the reactor passes all four.
            try await poll { try await server.get("/v1/reactors").json["reactors"]?.canonicalText.contains(#""checkpoint":4"#) == true }
            let status = try await server.get("/v1/reactors")
            let one = try await server.get("/v1/reactors/hook")
            #expect(status.json["reactors"] == .array([one.json]), "the list holds each reactor's status: \(status.body)")
            #expect(one.json["name"] == "hook" && one.json["checkpoint"] == 4 && one.json["lag"] == ["events": 0, "seconds": 0.0] && one.json["parked"] == 1, "\(one.body)")
            #expect(one.json["delivered"] == 2 && one.json["failures"] == 2 && one.json["inFlight"] == 0 && one.json["concurrency"] == 8, "\(one.body)")
            #expect(one.json["lastDeliveredAt"] != nil && one.json["lastDeliveredAt"] != .null)
            #expect(one.json["runningOn"] == .string(LeaseOwner.current), "this node holds the lease")
            #expect(try await server.get("/v1/reactors/nothing").status == 404)
            let metrics = try await server.get("/metrics").body
            #expect(metrics.contains(#"chronicle_reactor_deliveries_total{reactor="hook"} 2"#), "\(metrics)")
            #expect(metrics.contains(#"chronicle_reactor_failures_total{reactor="hook"} 2"#))
            #expect(metrics.contains(#"chronicle_reactor_parked_total{reactor="hook"} 1"#))
            #expect(metrics.contains(#"chronicle_reactor_in_flight{reactor="hook"} 0"#))
            #expect(metrics.contains(#"chronicle_reactor_checkpoint_position{reactor="hook"} 4"#), "\(metrics)")
            #expect(metrics.contains(#"chronicle_reactor_lag_events{reactor="hook"} 0"#))
            #expect(metrics.contains(#"chronicle_reactor_parked_events{reactor="hook"} 1"#))
            let parked = try await server.get("/v1/reactors/hook/parked")
            guard case .array(let events)? = parked.json["parked"], case .string(let id)? = events.first?["eventId"] else { Issue.record("\(parked.body)"); return }
            #expect(events.first?["attempts"] == 2 && events.first?["position"] == 2)
            let retried = try await server.request(.POST, "/v1/reactors/hook/parked/\(id)/retry")
            #expect(retried.status == 200 && retried.json["delivered"] == false, "still broken: parked again")
            #expect(try await server.request(.POST, "/v1/reactors/hook/parked/\(id)/skip").status == 200)
            #expect(try await server.request(.POST, "/v1/reactors/hook/parked/\(id)/skip").status == 404)
            #expect(try await server.get("/v1/reactors/hook/parked").json["parked"] == [])
            #expect(try await server.get("/metrics").body.contains(#"chronicle_reactor_parked_events{reactor="hook"} 0"#))
            #expect(try await server.get("/v1/reactors/nothing/parked").status == 404)
        }
    }
}
