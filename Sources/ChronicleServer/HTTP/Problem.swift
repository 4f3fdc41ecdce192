import ChronicleCore
import HTTPTypes

/// An RFC 9457 problem: the body of every error response (`application/problem+json`).
///
/// `type` is stable per error code (`urn:chronicle:problem:<code>`), `detail` says what to
/// fix, and extra members carry what a client needs to act (`actualRevision`…).
public struct Problem: Error, Sendable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The stable code, such as `wrong-expected-revision`.
    public var code: String
    /// A short, fixed summary of the code.
    public var title: String
    /// What went wrong and what to do about it.
    public var detail: String
    /// Extra members of the problem object.
    public var extensions: [String: JSONValue]
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`…).
    public var headers: HTTPFields

    /// Creates a problem.
    public init(_ status: HTTPResponse.Status, code: String, title: String, detail: String, extensions: [String: JSONValue] = [:], headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.extensions = extensions
        self.headers = headers
    }

    /// The problem `type` URI of a code.
    public static func type(of code: String) -> String { "urn:chronicle:problem:\(code)" }

    /// The JSON body.
    public var json: JSONValue {
        var members = extensions
        members["type"] = .string(Self.type(of: code))
        members["title"] = .string(title)
        members["status"] = .integer(Int64(status.code))
        members["detail"] = .string(detail)
        members["code"] = .string(code)
        return .object(members)
    }

    /// The problem for a store error: one status and type per code.
    public init(_ error: ChronicleError) {
        var extensions = error.details
        if let stream = error.stream { extensions["stream"] = .string(stream.rawValue) }
        if let expected = error.expectedRevision { extensions["expectedRevision"] = .string(expected.description) }
        if error.code == .wrongExpectedRevision || error.actualRevision != nil {
            extensions["actualRevision"] = error.actualRevision.map { .integer($0) } ?? .null
        }
        var headers: HTTPFields = [:]
        let (status, title): (HTTPResponse.Status, String)
        switch error.code {
        case .invalidInput: (status, title) = (.badRequest, "Invalid input")
        case .wrongExpectedRevision: (status, title) = (.conflict, "Wrong expected revision")
        case .streamNotFound: (status, title) = (.notFound, "Stream not found")
        case .streamDeleted: (status, title) = (.gone, "Stream deleted")
        case .idempotencyConflict: (status, title) = (.conflict, "Idempotency conflict")
        case .payloadTooLarge: (status, title) = (.contentTooLarge, "Payload too large")
        case .storageFull: (status, title) = (HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), "Storage full")
        case .storageFailure:
            (status, title) = (.serviceUnavailable, "Storage unavailable")
            headers[.retryAfter] = "1"
        case .ruleViolated:
            (status, title) = (HTTPResponse.Status(code: error.status ?? 422), "Rule violated")
        case .entityNotFound: (status, title) = (.notFound, "Entity not found")
        case .eventNotFound: (status, title) = (.notFound, "Event not found")
        case .erasureNotFound: (status, title) = (.notFound, "Erasure not found")
        case .masterKeyMissing, .masterKeyMismatch: (status, title) = (.internalServerError, "Master key")
        case .projectionNotFound: (status, title) = (.notFound, "Projection not found")
        case .appendConditionFailed: (status, title) = (.conflict, "Append condition failed")
        case .momentOutOfRange: (status, title) = (HTTPResponse.Status(code: error.status ?? 400), "Moment out of range")
        case .notCaughtUp:
            (status, title) = (.serviceUnavailable, "Not caught up")
            headers[.retryAfter] = "1"
        case .undeclaredEventType: (status, title) = (.unprocessableContent, "Undeclared event type")
        case .invalidPayload: (status, title) = (.unprocessableContent, "Invalid payload")
        default: (status, title) = (.internalServerError, "Incompatible storage")
        }
        self.init(status, code: error.code.description, title: title, detail: error.message, extensions: extensions, headers: headers)
    }

    /// `400 invalid-input`.
    public static func invalid(_ detail: String, _ extensions: [String: JSONValue] = [:]) -> Problem {
        Problem(.badRequest, code: "invalid-input", title: "Invalid input", detail: detail, extensions: extensions)
    }
}
