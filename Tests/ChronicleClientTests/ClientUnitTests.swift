@testable import ChronicleClient
import ChronicleCore
import Testing

/// The client's pure parts: the SSE parser, the backoff, the problem fields.
@Suite("ChronicleClient: parsing and backoff")
struct ClientUnitTests {
    @Test("SSE: messages split across chunks of any size, comments, multi-line data, CRLF")
    func serverSentEvents() {
        let text = "retry: 1000\n: following the log after position 7\n\nid: 8\nevent: UserCreated\ndata: {\"a\":\ndata: 1}\n\n: heartbeat 8\n\nid: 9\r\ndata: é\r\n\r\n"
        let expected: [ServerSentEventParser.Message] = [
            .init(comment: "following the log after position 7"),
            .init(id: "8", event: "UserCreated", data: "{\"a\":\n1}"),
            .init(comment: "heartbeat 8"),
            .init(id: "9", data: "é"),
        ]
        // `retry:` alone makes a message without id or data; the iterator ignores it.
        for size in [1, 2, 3, 7, 1000] {
            var parser = ServerSentEventParser()
            var messages: [ServerSentEventParser.Message] = []
            let bytes = Array(text.utf8)
            var start = 0
            while start < bytes.count {
                messages += parser.feed(bytes[start..<min(start + size, bytes.count)])
                start += size
            }
            #expect(messages.filter { $0.id != nil || $0.comment != nil } == expected, "chunks of \(size) bytes")
        }
    }

    @Test("backoff: exponential from the initial delay, capped; Retry-After replaces it, capped too")
    func backoff() {
        let policy = RetryPolicy(maximumAttempts: 8, initialDelay: .milliseconds(100), maximumDelay: .seconds(1), multiplier: 2)
        #expect((1...6).map { policy.delay(beforeRetry: $0) } == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        #expect(policy.delay(beforeRetry: 1, retryAfter: 0) == .zero)
        #expect(policy.delay(beforeRetry: 1, retryAfter: 30) == .seconds(1))
        #expect(RetryPolicy.none.maximumAttempts == 1)
    }

    @Test("a problem's typed fields, and an unknown code kept as it is")
    func problemFields() throws {
        let problem = try JSONValue(parsing: #"{"type":"urn:chronicle:problem:rule-violated","code":"rule-violated","status":403,"title":"Rule violated","detail":"Verify first.","rule":"email-unverified","entity":"user","id":"bob","actualRevision":null}"#)
        let error = ChronicleClientError(status: 403, problem: problem, retryAfter: nil, correlationId: "c-1")
        #expect(error.code == .ruleViolated && error.rule == "email-unverified" && error.entity == "user" && error.id == "bob")
        #expect(error.status == 403 && error.detail == "Verify first." && error.title == "Rule violated" && error.actualRevision == nil && error.correlationId == "c-1")
        let future = ChronicleClientError(status: 418, problem: ["code": "something-new", "detail": "later"], retryAfter: 2, correlationId: nil)
        #expect(future.code == ChronicleClientError.Code("something-new") && future.retryAfter == 2)
    }
}
