import ChronicleCore
import Foundation
import HTTPTypes

/// Decoding of request bodies into appends: pure functions over JSON values, so every bad
/// shape gets a precise `400` before anything reaches the store.
public enum EventRequests {
    /// Parses one event object: `{"type", "data"?, "metadata"?, "id"?, "tags"?}`.
    public static func event(_ value: JSONValue, at path: String) throws -> EventData {
        guard let object = value.objectValue else {
            throw Problem.invalid("\(path) is a JSON \(value.kindName); an event is an object such as {\"type\": \"UserCreated\", \"data\": {}}.", ["pointer": .string(path)])
        }
        try rejectUnknown(object, allowed: ["id", "type", "data", "metadata", "tags"], at: path)
        guard case .string(let type)? = object["type"] else {
            throw Problem.invalid("\(path)/type is missing or not a string; every event needs a type such as \"UserCreated\".", ["pointer": .string(path + "/type")])
        }
        var id = UUID.timeOrdered()
        if let raw = object["id"] {
            guard case .string(let text) = raw, let parsed = UUID(uuidString: text) else {
                throw Problem.invalid("\(path)/id must be a UUID string, such as \"3f2b8c1e-5d4a-4e2f-9b7c-1a2b3c4d5e6f\".", ["pointer": .string(path + "/id")])
            }
            id = parsed
        }
        let tags = try object["tags"].map { try strings($0, at: path + "/tags", what: "tags") } ?? []
        return EventData(id: id, type: type, data: object["data"] ?? [:], metadata: object["metadata"] ?? [:], tags: tags)
    }

    /// Parses an array of strings.
    static func strings(_ value: JSONValue, at path: String, what: String) throws -> [String] {
        guard case .array(let items) = value else {
            throw Problem.invalid("\(path) must be an array of strings (\(what)).", ["pointer": .string(path)])
        }
        return try items.enumerated().map { index, item in
            guard case .string(let text) = item else {
                throw Problem.invalid("\(path)/\(index) must be a string (\(what)).", ["pointer": .string("\(path)/\(index)")])
            }
            return text
        }
    }

    /// Parses a DCB query: `{"items": [{"types"?: [...], "tags"?: [...]}]}`.
    public static func query(_ value: JSONValue, at path: String) throws -> DCBQuery {
        guard let object = value.objectValue else {
            throw Problem.invalid("\(path) must be a query object such as {\"items\": [{\"types\": [\"UserEmailVerified\"], \"tags\": [\"user:ada\"]}]}.", ["pointer": .string(path)])
        }
        try rejectUnknown(object, allowed: ["items"], at: path)
        guard let raw = object["items"] else { return DCBQuery() }
        guard case .array(let items) = raw else {
            throw Problem.invalid("\(path)/items must be an array of items.", ["pointer": .string(path + "/items")])
        }
        let query = DCBQuery(try items.enumerated().map { index, item in
            let itemPath = "\(path)/items/\(index)"
            guard let fields = item.objectValue else {
                throw Problem.invalid("\(itemPath) must be an object with types and tags.", ["pointer": .string(itemPath)])
            }
            try rejectUnknown(fields, allowed: ["types", "tags"], at: itemPath)
            let types = try fields["types"].map { try strings($0, at: itemPath + "/types", what: "event types") } ?? []
            let tags = try fields["tags"].map { try strings($0, at: itemPath + "/tags", what: "tags") } ?? []
            return DCBQuery.Item(types: Set(types), tags: Set(tags))
        })
        do {
            try query.validate(what: "The query at \(path)")
        } catch let error as ChronicleError {
            throw Problem.invalid(error.message, ["pointer": .string(path)])
        }
        return query
    }

    /// Parses an append condition: `{"failIfEventsMatch": query, "after"?: position}`.
    public static func condition(_ value: JSONValue, at path: String) throws -> AppendCondition {
        guard let object = value.objectValue else {
            throw Problem.invalid("\(path) must be an object such as {\"failIfEventsMatch\": {\"items\": […]}, \"after\": 42}.", ["pointer": .string(path)])
        }
        try rejectUnknown(object, allowed: ["failIfEventsMatch", "after"], at: path)
        guard let query = object["failIfEventsMatch"] else {
            throw Problem.invalid("\(path)/failIfEventsMatch is missing: the query whose events must not exist after the position.", ["pointer": .string(path + "/failIfEventsMatch")])
        }
        return AppendCondition(failIfEventsMatch: try self.query(query, at: path + "/failIfEventsMatch"), after: try object["after"].map { try position($0, at: path + "/after") })
    }

    /// Parses a log position (0 or more).
    static func position(_ value: JSONValue, at path: String) throws -> Int64 {
        guard let position = value.integralValue, position >= 0 else {
            throw Problem.invalid("\(path) must be a log position (0 or more).", ["pointer": .string(path)])
        }
        return position
    }

    /// Parses the body of `POST /v1/streams/{stream}`: an event, an array of events, or
    /// `{"expectedRevision"?, "condition"?, "events": [...]}`. Returns the events, the body's
    /// expectation and its condition.
    public static func streamAppend(_ body: JSONValue) throws -> (events: [EventData], expected: ExpectedRevision?, condition: AppendCondition?) {
        switch body {
        case .array(let items):
            return (try events(items, at: ""), nil, nil)
        case .object(let object) where object["events"] != nil:
            try rejectUnknown(object, allowed: ["events", "expectedRevision", "condition"], at: "")
            guard case .array(let items)? = object["events"] else {
                throw Problem.invalid("/events must be an array of events.", ["pointer": "/events"])
            }
            return (
                try events(items, at: "/events"), try object["expectedRevision"].map { try expectedRevision($0, at: "/expectedRevision") },
                try object["condition"].map { try condition($0, at: "/condition") }
            )
        case .object:
            return ([try event(body, at: "")], nil, nil)
        default:
            throw Problem.invalid("The body is a JSON \(body.kindName); send an event object, an array of events, or {\"expectedRevision\": …, \"events\": […]}.")
        }
    }

    /// Parses the body of `POST /v1/append`: `{"streams": [{"stream", "expectedRevision"?, "events"}]}`.
    public static func multiStreamAppend(_ body: JSONValue) throws -> AppendRequest {
        guard let object = body.objectValue else {
            throw Problem.invalid("The body is a JSON \(body.kindName); send {\"streams\": [{\"stream\": \"…\", \"expectedRevision\": …, \"events\": […]}]}.")
        }
        try rejectUnknown(object, allowed: ["streams", "condition"], at: "")
        guard case .array(let parts)? = object["streams"] else {
            throw Problem.invalid("/streams is missing or not an array.", ["pointer": "/streams"])
        }
        var streams: [AppendRequest.StreamAppend] = []
        for (index, part) in parts.enumerated() {
            let path = "/streams/\(index)"
            guard let fields = part.objectValue else {
                throw Problem.invalid("\(path) must be an object with stream, expectedRevision and events.", ["pointer": .string(path)])
            }
            try rejectUnknown(fields, allowed: ["stream", "expectedRevision", "events"], at: path)
            guard case .string(let name)? = fields["stream"] else {
                throw Problem.invalid("\(path)/stream is missing or not a string.", ["pointer": .string(path + "/stream")])
            }
            guard case .array(let items)? = fields["events"] else {
                throw Problem.invalid("\(path)/events is missing or not an array.", ["pointer": .string(path + "/events")])
            }
            let expected = try fields["expectedRevision"].map { try expectedRevision($0, at: path + "/expectedRevision") } ?? .any
            streams.append(.init(stream: try StreamName(name), expected: expected, events: try events(items, at: path + "/events")))
        }
        return AppendRequest(streams, condition: try object["condition"].map { try condition($0, at: "/condition") })
    }

    /// Parses an expected revision: `"any"`, `"noStream"`, `"streamExists"`, or a revision number.
    public static func expectedRevision(_ value: JSONValue, at path: String) throws -> ExpectedRevision {
        if let revision = value.integralValue, revision >= -1 {
            return revision == -1 ? .noStream : .exact(revision)
        }
        if case .string(let text) = value, let expected = ExpectedRevision(parsing: text) { return expected }
        throw Problem.invalid("\(path) must be \"any\", \"noStream\", \"streamExists\" or a revision number (0 or more).", ["pointer": .string(path)])
    }

    /// Parses an `If-Match` header: `"7"` (the stream's ETag) means exactly revision 7, `*`
    /// means the stream exists.
    public static func ifMatch(_ header: String) throws -> ExpectedRevision {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        if trimmed == "*" { return .streamExists }
        if trimmed.hasPrefix("\""), trimmed.hasSuffix("\""), trimmed.count >= 3,
           let revision = Int64(trimmed.dropFirst().dropLast()), revision >= 0 {
            return .exact(revision)
        }
        throw Problem.invalid("If-Match \(trimmed.debugDescription) is not a stream ETag: send the revision in quotes, such as \"7\", or *.")
    }

    /// The expectation an append's headers state: `If-Match` (see ``ifMatch(_:)``), or
    /// `If-None-Match: *`, "only if the stream does not exist yet".
    static func headerExpectation(_ headers: HTTPFields) throws -> (header: String, expected: ExpectedRevision)? {
        let ifMatch = try headers[.ifMatch].map(ifMatch)
        guard let none = headers[.ifNoneMatch] else { return ifMatch.map { ("If-Match", $0) } }
        guard none.trimmingCharacters(in: .whitespaces) == "*" else {
            throw Problem.invalid("If-None-Match on an append takes * only (append only if the stream does not exist); to expect a revision send If-Match: \"7\".")
        }
        if ifMatch != nil { throw Problem.invalid("If-Match and If-None-Match contradict each other; send one of them.") }
        return ("If-None-Match", .noStream)
    }

    /// Runs an append whose expectation came from `header`: a failed `If-None-Match: *` is
    /// HTTP's `412 Precondition Failed` (an `If-Match` or body expectation stays a `409`).
    static func preconditioned<T>(_ header: (header: String, expected: ExpectedRevision)?, _ append: () async throws -> T) async throws -> T {
        do {
            return try await append()
        } catch let error as ChronicleError where error.code == .wrongExpectedRevision && header?.header == "If-None-Match" {
            var problem = Problem(error)
            problem.status = .preconditionFailed
            problem.code = "precondition-failed"
            problem.title = "Precondition failed"
            problem.detail = "If-None-Match: * asks for a new stream, and \(error.stream?.rawValue ?? "the stream") exists (revision \(error.actualRevision.map(String.init) ?? "?")). " + error.message
            throw problem
        }
    }

    /// The ETag of a stream at a revision.
    public static func eTag(_ revision: Int64) -> String { "\"\(revision)\"" }

    static func events(_ items: [JSONValue], at path: String) throws -> [EventData] {
        try items.enumerated().map { index, item in try event(item, at: "\(path)/\(index)") }
    }

    static func rejectUnknown(_ object: [String: JSONValue], allowed: Set<String>, at path: String) throws {
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw Problem.invalid("\(path)/\(unknown) is not a known field here; the fields are \(allowed.sorted().joined(separator: ", ")).", ["pointer": .string("\(path)/\(unknown)")])
        }
    }
}
