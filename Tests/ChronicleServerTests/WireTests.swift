import ChronicleCore
import ChronicleServer
import ChronicleTestSupport
import Foundation
import Testing

/// The wire types and their encoder: the JSON every answer is made of, without a server.
@Suite("Wire: the answers' types encode as the API promises and decode back")
struct WireTests {
    static let event = RecordedEvent(
        id: UUID(uuidString: "0190F3C2-0000-7000-8000-00000000002A")!, stream: StreamName(stored: "user-1"), type: "UserCreated",
        revision: 0, position: 7, recordedAtMicroseconds: 1_767_225_600_123_456,
        dataJSON: #"{"email":"ada@example.com","tags":["a","b"]}"#, metadataJSON: #"{"correlationId":"c-1"}"#,
        hash: EventHash(hex: String(repeating: "ab", count: 32))!
    )

    @Test("An event is written as RecordedEvent.jsonText, by any encoder, and decodes back to the same event")
    func event() throws {
        let wire = try WireEncoder.text(EventResponse(Self.event))
        #expect(wire == Self.event.jsonText)
        let foreign = try JSONEncoder().encode(EventResponse(Self.event))
        #expect(try JSONValue(parsing: foreign) == JSONValue(parsing: wire), "JSONEncoder writes the same members")
        #expect(try JSONDecoder().decode(EventResponse.self, from: Data(wire.utf8)).event == Self.event)
    }

    @Test("A page embeds the stored JSON verbatim and writes nil as null")
    func page() throws {
        let text = try WireEncoder.text(StreamPage(stream: "user-1", revision: 0, events: [Self.event], next: nil))
        #expect(text == #"{"stream":"user-1","revision":0,"events":["# + Self.event.jsonText + #"],"next":null}"#)
        let decoded = try JSONDecoder().decode(StreamPage.self, from: Data(text.utf8))
        #expect(decoded.events.map(\.event) == [Self.event] && decoded.next == nil)
    }

    @Test("Raw fragments: verbatim with the wire encoder, parsed and re-encoded with JSONEncoder")
    func raw() throws {
        let raw = RawJSON(canonical: #"{"a":[1,2.5,"x"],"b":null}"#)
        #expect(try WireEncoder.text([raw, raw]) == #"[{"a":[1,2.5,"x"],"b":null},{"a":[1,2.5,"x"],"b":null}]"#)
        #expect(try JSONValue(parsing: JSONEncoder().encode(raw)) == raw.value)
        #expect(try JSONDecoder().decode(RawJSON.self, from: Data(#"{ "b" : null, "a" : [1, 2.5, "x"] }"#.utf8)) == raw)
    }

    @Test("Doubles keep their fraction, integers do not; UUIDs are lower case")
    func numbers() throws {
        #expect(try WireEncoder.text(Lag(events: 0, seconds: 0)) == #"{"events":0,"seconds":0.0}"#)
        #expect(try WireEncoder.text(Lag(events: 3, seconds: 1.25)) == #"{"events":3,"seconds":1.25}"#)
        #expect(try WireEncoder.text(ParkedEventRetryResponse(reactor: "r", retried: Self.event.id, delivered: true))
            == #"{"reactor":"r","retried":"0190f3c2-0000-7000-8000-00000000002a","delivered":true}"#)
        #expect(throws: EncodingError.self) { try WireEncoder.text([Double.nan]) }
    }

    @Test("Liveness has no position; readiness has one")
    func health() throws {
        #expect(try WireEncoder.text(HealthResponse.live) == #"{"status":"live"}"#)
        #expect(try WireEncoder.text(HealthResponse.ready(position: 4)) == #"{"status":"ready","position":4}"#)
    }

    @Test("Nested containers, arrays of arrays, dictionaries and empty values are valid JSON")
    func nesting() throws {
        struct Nested: Encodable {
            var matrix: [[Int]] = [[1, 2], [], [3]]
            var names: [String: [String]] = ["k": ["v\"w"]]
            var empty: [Int] = []
            var optional: [Int?] = [1, nil]
            var child = Child()
            struct Child: Encodable {
                var flag = false
                func encode(to encoder: any Encoder) throws {
                    var container = encoder.container(keyedBy: Key.self)
                    var nested = container.nestedContainer(keyedBy: Key.self, forKey: .inner)
                    try nested.encode(flag, forKey: .flag)
                    var list = container.nestedUnkeyedContainer(forKey: .list)
                    try list.encode("a")
                    var deeper = list.nestedUnkeyedContainer()
                    try deeper.encode(1)
                    try container.encode(2, forKey: .after)
                }
                enum Key: String, CodingKey { case inner, flag, list, after }
            }
        }
        let text = try WireEncoder.text(Nested())
        #expect(text == #"{"matrix":[[1,2],[],[3]],"names":{"k":["v\"w"]},"empty":[],"optional":[1,null],"child":{"inner":{"flag":false},"list":["a",[1]],"after":2}}"#)
        #expect(try JSONValue(parsing: text) == JSONValue(parsing: JSONEncoder().encode(Nested())))
    }

    @Test("The WebSocket feed's messages")
    func feed() throws {
        #expect(try WireEncoder.text(FeedMessage.event(EventResponse(Self.event))) == #"{"type":"event","event":"# + Self.event.jsonText + "}")
        #expect(try WireEncoder.text(FeedMessage.heartbeat(position: 9)) == #"{"type":"heartbeat","position":9}"#)
        #expect(try WireEncoder.text(FeedMessage.shutdown(resumeAfter: 9)) == #"{"type":"shutdown","resumeAfter":9}"#)
        for message in [FeedMessage.event(EventResponse(Self.event)), .heartbeat(position: 9), .shutdown(resumeAfter: 9)] {
            #expect(try JSONDecoder().decode(FeedMessage.self, from: Data(WireEncoder.text(message).utf8)) == message)
        }
        #expect(try WireEncoder.text(FeedShutdown(resumeAfter: 9)) == #"{"reason":"the server is shutting down","resumeAfter":9}"#)
    }
}

@Suite("Wire: every answer of a real server decodes as its type and encodes back to the same JSON")
struct WireRoundTripTests {
    /// Decodes the body as `T`, and checks that encoding the value gives the body's JSON again:
    /// the type holds every member, with its kind (integer or double, null or absent).
    func roundTrip<T: Codable>(_ response: TestResponse, as type: T.Type, sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
        #expect((200..<300).contains(response.status), "\(response.body)", sourceLocation: sourceLocation)
        let value = try JSONDecoder().decode(T.self, from: Data(response.body.utf8))
        #expect(try JSONValue(parsing: WireEncoder.text(value)) == response.json, "\(response.body)", sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
        return value
    }

    @Test("streams, log, correlations, entities, projections, reactors, health, index (SQLite)")
    func everyAnswerOnSQLite() async throws { try await everyAnswer(backend: .sqlite) }

    @Test("streams, log, correlations, entities, projections, reactors, health, index (PostgreSQL)", TestPostgres.enabled)
    func everyAnswerOnPostgres() async throws { try await everyAnswer(backend: .postgres) }

    func everyAnswer(backend: TestBackend) async throws {
        try await withServer(projection: try seedProjection(), backend: backend) { server in
            let created = try await server.post("/v1/streams/user-1", #"{"type":"UserCreated","data":{"email":"ada@example.com","score":1.5}}"#, headers: [("X-Correlation-ID", "wire-1")])
            #expect(try roundTrip(created, as: AppendResponse.self).lastPosition == 1)
            let multi = try await server.post("/v1/append", #"{"streams":[{"stream":"user-1","events":[{"type":"UserUpdatedEmailAddress","data":{"email":"b@x.org"}}]},{"stream":"user-2","events":[{"type":"UserCreated","data":{"email":"c@x.org"}}]}]}"#)
            #expect(try roundTrip(multi, as: MultiStreamAppendResponse.self).streams.count == 2)
            let declared = try await server.post("/v1/events/UserCreated", #"{"id":"3","email":"d@x.org"}"#)
            #expect(try roundTrip(declared, as: DeclarativeWriteResponse.self).stream == "user-3")

            let page = try roundTrip(try await server.get("/v1/streams/user-1?limit=1"), as: StreamPage.self)
            #expect(page.next == 1 && page.events.first?.event.data["score"] == 1.5)
            #expect(try roundTrip(try await server.get("/v1/streams/user-1?from=1"), as: StreamPage.self).next == nil)
            #expect(try roundTrip(try await server.get("/v1/log"), as: LogPageResponse.self).events.count == 4)
            #expect(try roundTrip(try await server.get("/v1/correlations/wire-1"), as: CorrelationResponse.self).events.count == 1)

            #expect(try roundTrip(try await server.get("/v1/entities/user/1"), as: DocumentResponse.self).version == 1)
            #expect(try roundTrip(try await server.get("/v1/entities/user/1?version=0"), as: DocumentResponse.self).state.value["email"] == "ada@example.com")
            #expect(try roundTrip(try await server.get("/v1/entities/user?limit=1"), as: DocumentListResponse.self).next != nil)
            #expect(try roundTrip(try await server.get("/v1/entities/user/1/history"), as: EntityHistoryResponse.self).history.count == 2)
            #expect(try roundTrip(try await server.get("/v1/entities/user/1/diff?from=0&to=1"), as: EntityDiffResponse.self).to == 1)

            let projections = try roundTrip(try await server.get("/v1/projections"), as: ProjectionList.self)
            let name = try #require(projections.projections.first?.name)
            let rebuilt = try roundTrip(try await server.post("/v1/projections/\(name)/rebuild", "{}"), as: RebuildResponse.self)
            #expect(rebuilt.replayedEvents == 4 && rebuilt.uniqueViolations.isEmpty)
            let status = try roundTrip(try await server.get("/v1/projections/\(name)"), as: ProjectionStatus.self)
            #expect(status.rebuild.lastReplayedEvents == 4 && status.rebuild.lastFinishedAt != nil)
            #expect(try roundTrip(try await server.get("/v1/reactors"), as: ReactorList.self).reactors.isEmpty)

            #expect(try roundTrip(try await server.request(.DELETE, "/v1/streams/user-2"), as: StreamDeleteResponse.self).mode == "soft")
            #expect(try roundTrip(try await server.get("/health/live"), as: HealthResponse.self).position == nil)
            #expect(try roundTrip(try await server.get("/health/ready"), as: HealthResponse.self).position == 5)
            #expect(try roundTrip(try await server.get("/", headers: [("Accept", "application/json")]), as: IndexResponse.self).api == "/v1")
        }
    }
}
