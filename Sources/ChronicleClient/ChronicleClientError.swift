import ChronicleCore

/// An error of a ``ChronicleClient`` call: the server's problem (RFC 9457), or a failure
/// to reach it or to read its answer.
///
/// ``code`` is the problem's stable code (`wrong-expected-revision`, `rule-violated`,
/// `not-caught-up`…) or one of the client's own (`connection-failed`, `timeout`…). A refused
/// rule carries the schema's name for it in ``rule``, so an app branches on what it means:
///
/// ```swift
/// do {
///     try await chronicle.post(eventType: "AdvertisementPosted", payload: ad)
/// } catch let error as ChronicleClientError where error.rule == "email-unverified" {
///     showVerifyEmailBanner(error.detail)
/// }
/// ```
public struct ChronicleClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code: the server's problem codes, and the client's own.
    public struct Code: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The code's text, as the server's problem `code` spells it.
        public let rawValue: String

        /// A code by its text.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// A code by its text.
        public init(stringLiteral value: String) { self.rawValue = value }

        /// The code's text.
        public var description: String { rawValue }

        /// `400`: the request is malformed; ``ChronicleClientError/pointer`` says where.
        public static let invalidInput: Code = "invalid-input"
        /// `401`: no valid API key.
        public static let unauthorized: Code = "unauthorized"
        /// `403`: the key lacks the role the call needs.
        public static let forbidden: Code = "forbidden"
        /// `404`: no such stream.
        public static let streamNotFound: Code = "stream-not-found"
        /// `404`: no such entity.
        public static let entityNotFound: Code = "entity-not-found"
        /// `404`: the entity was soft-deleted.
        public static let entityDeleted: Code = "entity-deleted"
        /// `404`: the entity has no such version.
        public static let versionNotFound: Code = "version-not-found"
        /// `404`: the server has no schema.
        public static let noSchema: Code = "no-schema"
        /// `404`: the schema declares no such event type.
        public static let unknownEventType: Code = "unknown-event-type"
        /// `404`: no route at that path.
        public static let routeNotFound: Code = "route-not-found"
        /// `409`: the stream is not at the expected revision; see ``ChronicleClientError/actualRevision``.
        public static let wrongExpectedRevision: Code = "wrong-expected-revision"
        /// `409`: an event id was stored before with other content.
        public static let idempotencyConflict: Code = "idempotency-conflict"
        /// `409`: an event matching the append's condition exists after its position; see
        /// ``ChronicleClientError/position``.
        public static let appendConditionFailed: Code = "append-condition-failed"
        /// `410`: the stream was hard-deleted.
        public static let streamDeleted: Code = "stream-deleted"
        /// `403`, `409` or `422`: a rule of the schema refused the write; see ``ChronicleClientError/rule``.
        public static let ruleViolated: Code = "rule-violated"
        /// `422`: the payload does not match the event type's schema.
        public static let invalidPayload: Code = "invalid-payload"
        /// `422`: the schema does not declare the event type for the entity.
        public static let undeclaredEventType: Code = "undeclared-event-type"
        /// `503`: the read models did not reach the position in time.
        public static let notCaughtUp: Code = "not-caught-up"
        /// A moment (`asOf`, `from`, `to`) names no point of the log: beyond its head, in the
        /// future, before its first event or its recorded past; ``ChronicleClientError/problem``
        /// holds the valid range (`head`, `first`, `historyFrom`).
        public static let momentOutOfRange: Code = "moment-out-of-range"
        /// `404`: no event is stored at that position (its stream was hard-deleted).
        public static let eventNotFound: Code = "event-not-found"
        /// `503`: the server is starting or stopping.
        public static let notReady: Code = "not-ready"
        /// `503`: the storage failed; nothing was stored.
        public static let storageFailure: Code = "storage-failure"

        /// The client could not reach the server, or lost the connection (after its retries).
        public static let connectionFailed: Code = "connection-failed"
        /// The server's answer is not what this client reads.
        public static let invalidResponse: Code = "invalid-response"
        /// A wait (``ChronicleClient/outcome(of:matching:after:timeout:)``) ran out of time.
        public static let timeout: Code = "timeout"
        /// The client's configuration is not usable (a URL that is not http(s)).
        public static let invalidConfiguration: Code = "invalid-configuration"
    }

    /// The stable code.
    public var code: Code
    /// The HTTP status of the server's answer; `nil` for the client's own errors.
    public var status: Int?
    /// What went wrong and what to do about it (the problem's `detail`).
    public var detail: String
    /// The problem's `title`.
    public var title: String?
    /// Every member of the problem object, for the fields this type does not name.
    public var problem: JSONValue?
    /// The `Retry-After` the server sent, in seconds.
    public var retryAfter: Int?
    /// The request's correlation id (`X-Correlation-ID`).
    public var correlationId: String?
    /// The underlying error (a transport failure), described.
    public var cause: String?

    /// Creates an error of the client's own.
    public init(_ code: Code, _ detail: String, status: Int? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.detail = detail
        self.status = status
        self.cause = cause.map { String(describing: $0) }
    }

    /// The error for a problem answer (`application/problem+json`).
    init(status: Int, problem: JSONValue, retryAfter: Int?, correlationId: String?) {
        let code = problem["code"].flatMap { if case .string(let text) = $0 { text } else { nil } }
        self.init(Code(code ?? "http-\(status)"), problem["detail"].flatMap(Self.string) ?? "The server answered \(status).", status: status)
        self.title = problem["title"].flatMap(Self.string)
        self.problem = problem
        self.retryAfter = retryAfter
        self.correlationId = correlationId
    }

    private static func string(_ value: JSONValue) -> String? {
        if case .string(let text) = value { text } else { nil }
    }

    private func member(_ name: String) -> String? { problem?[name].flatMap(Self.string) }

    private func integer(_ name: String) -> Int64? {
        if case .integer(let value)? = problem?[name] { value } else { nil }
    }

    /// For `rule-violated`: the rule that refused the write, the schema's `code` for it
    /// (`email-unverified`) or a generated name (`AdvertisementPosted.require[0]`).
    public var rule: String? { member("rule") }
    /// For `wrong-expected-revision`: the stream's revision when the append was refused
    /// (`nil` for a stream with no events).
    public var actualRevision: Int64? { integer("actualRevision") }
    /// For `wrong-expected-revision`: what the append expected (`noStream`, `3`…).
    public var expectedRevision: String? { member("expectedRevision") }
    /// The stream the problem is about.
    public var stream: String? { member("stream") }
    /// For `append-condition-failed`: the position of the first event matching the
    /// condition; for `not-caught-up`: where the read models are.
    public var position: Int64? { integer("position") }
    /// For `rule-violated`, `entity-not-found`, `undeclared-event-type`: the entity kind.
    public var entity: String? { member("entity") }
    /// For `rule-violated` and `entity-not-found`: the entity id.
    public var id: String? { member("id") }
    /// For `invalid-input` and `invalid-payload`: the JSON Pointer of the offending member.
    public var pointer: String? { member("pointer") }

    /// The code, status, detail and rule, for logs.
    public var description: String {
        var text = "\(code)"
        if let status { text += " (\(status))" }
        text += ": \(detail)"
        if let rule { text += " [rule \(rule)]" }
        if let cause { text += " (\(cause))" }
        return text
    }
}
