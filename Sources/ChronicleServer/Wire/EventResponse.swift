import ChronicleCore
import Foundation

/// An event as every answer and live feed carries it: `id`, `stream`, `type`, `revision`,
/// `position`, `recordedAt`, `data`, `metadata`, `hash`.
///
/// The fields are those of ``RecordedEvent/jsonText``, the form the export and webhooks also
/// use. ``WireEncoder`` writes that text directly (one event's answer is built by string
/// appends over the stored canonical JSON, the hottest path of the server: `GET /v1/streams`,
/// `/v1/log` and the feeds); other encoders write the same members one by one. The CLI reads
/// it back with `JSONDecoder` into ``event``.
public struct EventResponse: Codable, Sendable, Hashable {
    /// The event.
    public var event: RecordedEvent

    /// The answer for an event.
    public init(_ event: RecordedEvent) {
        self.event = event
    }

    enum CodingKeys: String, CodingKey {
        case id, stream, type, revision, position, recordedAt, data, metadata, tags, hash
    }

    /// Reads an event; data and metadata must be objects.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let instant = try container.decode(String.self, forKey: .recordedAt)
        guard let recordedAt = Timestamp.microseconds(parsing: instant) else {
            throw DecodingError.dataCorruptedError(forKey: .recordedAt, in: container, debugDescription: "recordedAt is not an RFC 3339 instant.")
        }
        guard let hash = EventHash(hex: try container.decode(String.self, forKey: .hash)) else {
            throw DecodingError.dataCorruptedError(forKey: .hash, in: container, debugDescription: "hash is not 64 hexadecimal digits.")
        }
        let data = try container.decode(JSONValue.self, forKey: .data), metadata = try container.decode(JSONValue.self, forKey: .metadata)
        guard case .object = data, case .object = metadata else {
            throw DecodingError.dataCorruptedError(forKey: .data, in: container, debugDescription: "data and metadata must be objects.")
        }
        self.event = RecordedEvent(
            id: try container.decode(UUID.self, forKey: .id), stream: StreamName(stored: try container.decode(String.self, forKey: .stream)),
            type: try container.decode(String.self, forKey: .type), revision: try container.decode(Int64.self, forKey: .revision),
            position: try container.decode(Int64.self, forKey: .position), recordedAtMicroseconds: recordedAt,
            dataJSON: data.canonicalText, metadataJSON: metadata.canonicalText, hash: hash,
            tags: try container.decodeIfPresent([String].self, forKey: .tags) ?? []
        )
    }

    /// Writes ``RecordedEvent/jsonText`` with ``WireEncoder``, else member by member.
    public func encode(to encoder: any Encoder) throws {
        if let wire = encoder as? WireValueEncoder {
            wire.writer.writeRaw(event.jsonText)
            return
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(event.id.uuidString.lowercased(), forKey: .id)
        try container.encode(event.stream.rawValue, forKey: .stream)
        try container.encode(event.type, forKey: .type)
        try container.encode(event.revision, forKey: .revision)
        try container.encode(event.position, forKey: .position)
        try container.encode(Timestamp.iso8601(microseconds: event.recordedAtMicroseconds), forKey: .recordedAt)
        try container.encode(RawJSON(canonical: event.dataJSON), forKey: .data)
        try container.encode(RawJSON(canonical: event.metadataJSON), forKey: .metadata)
        if !event.tags.isEmpty { try container.encode(event.tags, forKey: .tags) }
        try container.encode(event.hash.hex, forKey: .hash)
    }
}
