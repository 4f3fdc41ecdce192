import ChronicleClient
import ChronicleCore
import Foundation
import Testing

/// Each kind of refusal reaches the app as a `ChronicleClientError` with the problem's code,
/// status, detail and the typed fields to act on.
@Suite("ChronicleClient: problems become typed errors")
struct ClientErrorTests {
    /// The error `body` throws.
    func error(_ body: () async throws -> some Any) async throws -> ChronicleClientError {
        do {
            _ = try await body()
        } catch let error as ChronicleClientError {
            return error
        }
        Issue.record("no ChronicleClientError was thrown")
        throw CancellationError()
    }

    @Test("409 wrong-expected-revision with actualRevision; 409 append-condition-failed with position; 404; 400")
    func conflictsAndBadRequests() async throws {
        try await withClient { chronicle, _ in
            let user = try StreamName("user-1")
            try await chronicle.append(EventData(type: "UserCreated"), to: user, expected: .noStream)

            let stale = try await error { try await chronicle.append(EventData(type: "UserRenamed"), to: user, expected: .noStream) }
            #expect(stale.code == .wrongExpectedRevision && stale.status == 409)
            #expect(stale.actualRevision == 0 && stale.expectedRevision == "noStream" && stale.stream == "user-1" && !stale.detail.isEmpty)
            let ahead = try await error { try await chronicle.append(EventData(type: "UserRenamed"), to: user, expected: .exact(5)) }
            #expect(ahead.code == .wrongExpectedRevision && ahead.actualRevision == 0)

            try await chronicle.append(EventData(type: "EmailUnverified", tags: ["user:1"]), to: user)
            let question = DCBQuery([.init(types: ["EmailUnverified"], tags: ["user:1"])])
            let refused = try await error {
                try await chronicle.append(EventData(type: "AdPosted", tags: ["user:1"]), to: try StreamName("ad-1"), condition: AppendCondition(failIfEventsMatch: question, after: 1))
            }
            #expect(refused.code == .appendConditionFailed && refused.status == 409 && refused.position == 2)
            let multi = try await error {
                try await chronicle.append(request: AppendRequest([.init(stream: try StreamName("ad-2"), events: [EventData(type: "AdPosted")])], condition: AppendCondition(failIfEventsMatch: question, after: 0)))
            }
            #expect(multi.code == .appendConditionFailed && multi.position == 2)
            #expect(try await chronicle.readLog().events.count == 2, "nothing refused was stored")

            let missing = try await error { try await chronicle.read(try StreamName("nobody-1")) }
            #expect(missing.code == .streamNotFound && missing.status == 404 && missing.stream == "nobody-1")
            let noSchema = try await error { try await chronicle.entity("user", "1") }
            #expect(noSchema.code == .noSchema && noSchema.status == 404)

            let beyond = try await error { try await chronicle.readLog(after: -5) }
            #expect(beyond.code == .invalidInput && beyond.status == 400)
        }
    }

    @Test("a rule refusal carries its rule (email-unverified), status and entity; 404 entity-not-found; 400 with a pointer-less detail")
    func rules() async throws {
        try await withClient(ServerSetup(schema: appSchema())) { chronicle, _ in
            try await chronicle.post(eventType: "UserCreated", payload: ["id": "bob", "email": "bob@example.com"])
            let refused = try await error { try await chronicle.post(eventType: "AdvertisementPosted", payload: ["userId": "bob", "title": "Bike"]) }
            #expect(refused.code == .ruleViolated && refused.rule == "email-unverified" && refused.status == 403)
            #expect(refused.detail == "Verify your email address before posting." && refused.entity == "user" && refused.id == "bob")
            // The same rule on a plain append: the rule belongs to the event type.
            let direct = try await error { try await chronicle.append(EventData(type: "AdvertisementPosted", data: ["userId": "bob"]), to: try StreamName("advertisement-x")) }
            #expect(direct.rule == "email-unverified")

            let nobody = try await error { try await chronicle.entity("user", "nobody") }
            #expect(nobody.code == .entityNotFound && nobody.status == 404)
            let unknownType = try await error { try await chronicle.post(eventType: "NoSuchEvent", payload: [:]) }
            #expect(unknownType.code == .unknownEventType && unknownType.status == 404)
            let badFilter = try await error { try await chronicle.list("user", filters: [EntityFilter("no-such-field!", .eq, 1)]) }
            #expect(badFilter.code == .invalidInput && badFilter.status == 400)
            let future = try await error { try await chronicle.readYourWrite("user", "bob", after: 1000) }
            #expect(future.code == .invalidInput && future.status == 400)
            let moved = try await error { try await chronicle.post(eventType: "UserRenamed", payload: ["id": "bob", "name": "Bob"], ifMatch: 7) }
            #expect(moved.status == 409)
        }
    }

    @Test("API keys as Bearer: 401 without a valid key, 403 without the role, accepted with it")
    func authentication() async throws {
        let writer = "writer-key-0123456789abcdef", reader = "reader-key-0123456789abcdef"
        try await withClient(ServerSetup(keys: [(writer, .write), (reader, .read)])) { _, port in
            let stream = try StreamName("user-1")
            let anonymous = try client(port: port)
            let unauthorized = try await error { try await anonymous.read(stream) }
            #expect(unauthorized.code == .unauthorized && unauthorized.status == 401)
            let wrongKey = try await error { try await client(port: port, apiKey: "not-a-key-of-this-server").readLog() }
            #expect(wrongKey.code == .unauthorized && wrongKey.status == 401)

            let readOnly = try client(port: port, apiKey: reader)
            let forbidden = try await error { try await readOnly.append(EventData(type: "UserCreated"), to: stream) }
            #expect(forbidden.code == .forbidden && forbidden.status == 403)

            let receipt = try await client(port: port, apiKey: writer).append(EventData(type: "UserCreated"), to: stream)
            #expect(receipt.position == 1)
            #expect(try await readOnly.read(stream).count == 1)
        }
    }

    @Test("a server that is not there: connection-failed after the bounded retries; a URL that is not http(s) is refused")
    func unreachable() async throws {
        let port = try await freePort()
        let chronicle = try client(port: port, retry: RetryPolicy(maximumAttempts: 3, initialDelay: .milliseconds(10)))
        let start = ContinuousClock.now
        let failed = try await error { try await chronicle.readLog() }
        #expect(failed.code == .connectionFailed && failed.status == nil && failed.cause != nil)
        #expect(ContinuousClock.now - start < .seconds(30), "a refused connection fails at once, then the client's own backoff")
        #expect(throws: ChronicleClientError.self) { try ChronicleClient(configuration: .init(url: "ftp://example"), logger: clientTestLogger) }
    }
}
