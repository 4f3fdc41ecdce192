import ChronicleCore
import Foundation

/// Decoding of request bodies into appends: pure functions over JSON values, so every bad
/// shape gets a precise `400` before anything reaches the store.
public enum EventRequests {
    /// Parses one event object: `{"type", "data"?, "metadata"?, "id"?}`.
    public static func event(_ value: JSONValue, at path: String) throws -> EventData {
        guard let object = value.objectValue else {
            throw Problem.invalid("\(path) is a JSON \(value.kindName); an event is an object such as {\"type\": \"UserCreated\", \"data\": {}}.", ["pointer": .string(path)])
        }
        try rejectUnknown(object, allowed: ["id", "type", "data", "metadata"], at: path)
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
        return EventData(id: id, type: type, data: object["data"] ?? [:], metadata: object["metadata"] ?? [:])
    }

    /// Parses the body of `POST /v1/streams/{stream}`: an event, an array of events, or
    /// `{"expectedRevision"?, "events": [...]}`. Returns the events and the body's expectation.
    public static func streamAppend(_ body: JSONValue) throws -> (events: [EventData], expected: ExpectedRevision?) {
        switch body {
        case .array(let items):
            return (try events(items, at: ""), nil)
        case .object(let object) where object["events"] != nil:
            try rejectUnknown(object, allowed: ["events", "expectedRevision"], at: "")
            guard case .array(let items)? = object["events"] else {
                throw Problem.invalid("/events must be an array of events.", ["pointer": "/events"])
            }
            return (try events(items, at: "/events"), try object["expectedRevision"].map { try expectedRevision($0, at: "/expectedRevision") })
        case .object:
            return ([try event(body, at: "")], nil)
        default:
            throw Problem.invalid("The body is a JSON \(body.kindName); send an event object, an array of events, or {\"expectedRevision\": …, \"events\": […]}.")
        }
    }

    /// Parses the body of `POST /v1/append`: `{"streams": [{"stream", "expectedRevision"?, "events"}]}`.
    public static func multiStreamAppend(_ body: JSONValue) throws -> AppendRequest {
        guard let object = body.objectValue else {
            throw Problem.invalid("The body is a JSON \(body.kindName); send {\"streams\": [{\"stream\": \"…\", \"expectedRevision\": …, \"events\": […]}]}.")
        }
        try rejectUnknown(object, allowed: ["streams"], at: "")
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
        return AppendRequest(streams)
    }

    /// Parses an expected revision: `"any"`, `"noStream"`, `"streamExists"`, or a revision number.
    public static func expectedRevision(_ value: JSONValue, at path: String) throws -> ExpectedRevision {
        switch value {
        case .integer(let revision) where revision >= -1:
            return revision == -1 ? .noStream : .exact(revision)
        case .string(let text):
            if let expected = ExpectedRevision(parsing: text) { return expected }
        default:
            break
        }
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
