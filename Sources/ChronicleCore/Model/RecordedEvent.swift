import Foundation

/// An event as stored: the appended event plus its stream, revision, global position,
/// time of recording and hash.
///
/// The data and metadata are kept as canonical JSON text (``dataJSON``, ``metadataJSON``),
/// so that servers can pass them through without decoding; ``data`` and ``metadata`` decode
/// them on demand.
public struct RecordedEvent: Sendable, Hashable, Identifiable {
    /// The event's id.
    public var id: UUID
    /// The stream the event belongs to.
    public var stream: StreamName
    /// The event's type.
    public var type: String
    /// 0-based index of the event within its stream.
    public var revision: Int64
    /// Position in the global log: starts at 1, increases in commit order.
    public var position: Int64
    /// When the event was recorded, as microseconds since 1970-01-01T00:00:00Z (UTC).
    public var recordedAtMicroseconds: Int64
    /// Canonical JSON text of the data object.
    public var dataJSON: String
    /// Canonical JSON text of the metadata object.
    public var metadataJSON: String
    /// SHA-256 of the previous event's hash followed by this event's canonical encoding.
    public var hash: EventHash
    /// The event's tags, sorted, without repeats (see ``EventData/tags``).
    public var tags: [String]

    /// Creates a recorded event (backends use this when reading).
    public init(
        id: UUID, stream: StreamName, type: String, revision: Int64, position: Int64,
        recordedAtMicroseconds: Int64, dataJSON: String, metadataJSON: String, hash: EventHash, tags: [String] = []
    ) {
        self.tags = tags
        self.id = id
        self.stream = stream
        self.type = type
        self.revision = revision
        self.position = position
        self.recordedAtMicroseconds = recordedAtMicroseconds
        self.dataJSON = dataJSON
        self.metadataJSON = metadataJSON
        self.hash = hash
    }

    /// The data object, decoded.
    public var data: JSONValue { (try? JSONValue(parsing: dataJSON)) ?? [:] }
    /// The metadata object, decoded.
    public var metadata: JSONValue { (try? JSONValue(parsing: metadataJSON)) ?? [:] }
    /// When the event was recorded.
    public var recordedAt: Date { Date(timeIntervalSince1970: Double(recordedAtMicroseconds) / 1_000_000) }
    /// The stream's category (the part of its name before the first `-`).
    public var category: String { stream.category }

    /// The event as one JSON object (the form `chronicle … --json` and the HTTP API use).
    public var jsonText: String {
        var output = "{\"id\":\"\(id.uuidString.lowercased())\",\"stream\":"
        output += stream.rawValue.jsonQuoted
        output += ",\"type\":" + type.jsonQuoted
        output += ",\"revision\":\(revision),\"position\":\(position),\"recordedAt\":\""
        output += Timestamp.iso8601(microseconds: recordedAtMicroseconds)
        output += "\",\"data\":" + dataJSON + ",\"metadata\":" + metadataJSON
        if !tags.isEmpty { output += ",\"tags\":" + JSONValue.array(tags.map(JSONValue.string)).canonicalText }
        output += ",\"hash\":\"" + hash.hex + "\"}"
        return output
    }
}

extension RecordedEvent {
    /// Reads an event in the JSON form of ``jsonText`` (the form the HTTP API sends).
    ///
    /// - Throws: ``ChronicleError`` (``ChronicleError/Code/invalidInput``) naming the missing
    ///   or malformed member.
    public init(json value: JSONValue) throws {
        func member(_ name: String) throws -> JSONValue {
            guard let member = value[name] else {
                throw ChronicleError(.invalidInput, "The event has no \(name); expected the form of RecordedEvent.jsonText.")
            }
            return member
        }
        guard case .string(let idText) = try member("id"), let id = UUID(uuidString: idText) else {
            throw ChronicleError(.invalidInput, "The event's id is not a UUID.")
        }
        guard case .string(let stream) = try member("stream"), case .string(let type) = try member("type") else {
            throw ChronicleError(.invalidInput, "The event's stream and type must be strings.")
        }
        guard case .integer(let revision) = try member("revision"), case .integer(let position) = try member("position") else {
            throw ChronicleError(.invalidInput, "The event's revision and position must be integers.")
        }
        guard case .string(let instant) = try member("recordedAt"), let recordedAt = Timestamp.microseconds(parsing: instant) else {
            throw ChronicleError(.invalidInput, "The event's recordedAt is not an RFC 3339 instant.")
        }
        guard case .string(let hashText) = try member("hash"), let hash = EventHash(hex: hashText) else {
            throw ChronicleError(.invalidInput, "The event's hash is not 64 hexadecimal digits.")
        }
        var tags: [String] = []
        if let value = value["tags"] {
            guard case .array(let items) = value else { throw ChronicleError(.invalidInput, "The event's tags must be an array of strings.") }
            for item in items {
                guard case .string(let tag) = item else { throw ChronicleError(.invalidInput, "The event's tags must be an array of strings.") }
                tags.append(tag)
            }
        }
        let data = try member("data"), metadata = try member("metadata")
        guard case .object = data, case .object = metadata else {
            throw ChronicleError(.invalidInput, "The event's data and metadata must be objects.")
        }
        self.init(
            id: id, stream: StreamName(stored: stream), type: type, revision: revision, position: position,
            recordedAtMicroseconds: recordedAt, dataJSON: data.canonicalText, metadataJSON: metadata.canonicalText, hash: hash, tags: tags
        )
    }
}
