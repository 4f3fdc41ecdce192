import ChronicleCore

/// JSON text embedded in an answer as it is: the canonical JSON a store keeps for an event's
/// data and metadata or a document's state.
///
/// ``WireEncoder`` copies the text verbatim, so a page of events is never parsed and encoded
/// again on its way out. Any other encoder (`JSONEncoder`) gets the parsed value, so the
/// encoding is the same JSON either way, only slower. Decoding reads any JSON value and
/// keeps its canonical text.
///
/// The text must be one valid JSON value: nothing checks it when it is written, because it
/// comes from the store, which only keeps canonical JSON.
public struct RawJSON: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The JSON text.
    public var text: String

    /// Text that is already one valid JSON value (canonical text read from a store).
    public init(canonical text: String) {
        self.text = text
    }

    /// The canonical text of a value.
    public init(_ value: JSONValue) {
        self.text = value.canonicalText
    }

    /// The value, parsed (`null` if the text is not JSON).
    public var value: JSONValue { (try? JSONValue(parsing: text)) ?? .null }

    /// The text.
    public var description: String { text }

    /// Reads any JSON value.
    public init(from decoder: any Decoder) throws {
        self.text = try JSONValue(from: decoder).canonicalText
    }

    /// Writes the text verbatim with ``WireEncoder``, else the parsed value.
    public func encode(to encoder: any Encoder) throws {
        if let wire = encoder as? WireValueEncoder {
            wire.writer.writeRaw(text)
        } else {
            try value.encode(to: encoder)
        }
    }
}
