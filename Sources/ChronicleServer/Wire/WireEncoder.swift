import ChronicleCore
import Foundation

/// Encodes the server's wire types into JSON text: the one encoder behind every JSON answer.
///
/// Foundation's `JSONEncoder` cannot embed text it did not write, so every stored event would
/// be parsed and encoded again on its way out. This encoder writes straight into a string and
/// copies ``RawJSON`` fragments (the canonical JSON the stores keep) verbatim, which keeps
/// `GET /v1/streams`, `/v1/log` and the live feeds as fast as gluing strings together was.
///
/// What it writes, and why it differs from `JSONEncoder`'s defaults:
/// - members in the order the type encodes them (declaration order for synthesized
///   conformances), no whitespace;
/// - `nil` as `null`, never as an absent member: every optional member of Chronicle's
///   answers is always present. A type that must leave a member out encodes it only when
///   it has a value (`HealthResponse`);
/// - numbers as the canonical form writes them: integers without a fraction, doubles with
///   one (`0.0`), so a client that tells integers from doubles sees the same kinds as ever;
/// - `UUID`s in lower case, as Chronicle writes ids everywhere; `/` unescaped.
///
/// ```swift
/// let text = try WireEncoder.text(AppendResponse(result.streams[0]))
/// ```
public enum WireEncoder {
    /// The JSON text of a value.
    ///
    /// - Throws: the error the value's `encode(to:)` throws, or `EncodingError` for a value
    ///   that is not finite.
    public static func text(_ value: some Encodable) throws -> String {
        let writer = WireWriter()
        try writer.write(value)
        return writer.output
    }
}

/// Where the encoder writes; one per top-level value.
final class WireWriter {
    var output = ""
    /// The open containers: whether each is an object, and how many members it has so far.
    private var open: [(object: Bool, count: Int)] = []

    init() {
        output.reserveCapacity(256)
    }

    /// Writes one value at the current place, closing whatever containers it opened.
    func write(_ value: some Encodable) throws {
        let depth = open.count
        let start = output.utf8.count
        switch value {
        case let uuid as UUID:
            output += "\""
            output += uuid.uuidString.lowercased()
            output += "\""
        default:
            try value.encode(to: WireValueEncoder(writer: self, depth: depth))
        }
        close(above: depth)
        if output.utf8.count == start { output += "{}" }
    }

    /// Writes text that is already JSON.
    func writeRaw(_ text: String) {
        output += text
    }

    func writeNull() { output += "null" }
    func writeBool(_ value: Bool) { output += value ? "true" : "false" }
    func writeString(_ value: String) { output += value.jsonQuoted }
    func writeInteger(_ value: some BinaryInteger) { output += String(value) }

    func writeDouble(_ value: Double, path: [any CodingKey]) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: path, debugDescription: "JSON has no NaN or infinity."))
        }
        output += value.description
    }

    /// Opens an object or an array at `depth` (the container's own level).
    func openContainer(object: Bool, depth: Int) {
        close(above: depth)
        output += object ? "{" : "["
        open.append((object, 0))
    }

    /// Starts the next member of the container at `level` (an index into the open
    /// containers), closing containers nested in it that are done.
    func startMember(level: Int, key: String?) {
        close(above: level + 1)
        if open[level].count > 0 { output += "," }
        open[level].count += 1
        if let key {
            output += key.jsonQuoted
            output += ":"
        }
    }

    func count(level: Int) -> Int { open[level].count }

    private func close(above depth: Int) {
        while open.count > depth {
            output += open.removeLast().object ? "}" : "]"
        }
    }
}

/// The `Encoder` handed to `encode(to:)`; ``RawJSON`` and ``EventResponse`` look for it to
/// write their text verbatim.
struct WireValueEncoder: Encoder {
    let writer: WireWriter
    /// How many containers were open when this value started.
    let depth: Int
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        writer.openContainer(object: true, depth: depth)
        return KeyedEncodingContainer(WireKeyedContainer<Key>(writer: writer, level: depth, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        writer.openContainer(object: false, depth: depth)
        return WireUnkeyedContainer(writer: writer, level: depth, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        WireSingleValueContainer(writer: writer, depth: depth, codingPath: codingPath)
    }
}

private struct WireSingleValueContainer: SingleValueEncodingContainer {
    let writer: WireWriter
    let depth: Int
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { writer.writeNull() }
    mutating func encode(_ value: Bool) throws { writer.writeBool(value) }
    mutating func encode(_ value: String) throws { writer.writeString(value) }
    mutating func encode(_ value: Double) throws { try writer.writeDouble(value, path: codingPath) }
    mutating func encode(_ value: Float) throws { try writer.writeDouble(Double(value), path: codingPath) }
    mutating func encode(_ value: Int) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try writer.write(value) }
}

private struct WireUnkeyedContainer: UnkeyedEncodingContainer {
    let writer: WireWriter
    let level: Int
    var codingPath: [any CodingKey]
    var count: Int { writer.count(level: level) }

    private func next() { writer.startMember(level: level, key: nil) }

    mutating func encodeNil() throws { next(); writer.writeNull() }
    mutating func encode(_ value: Bool) throws { next(); writer.writeBool(value) }
    mutating func encode(_ value: String) throws { next(); writer.writeString(value) }
    mutating func encode(_ value: Double) throws { next(); try writer.writeDouble(value, path: codingPath) }
    mutating func encode(_ value: Float) throws { next(); try writer.writeDouble(Double(value), path: codingPath) }
    mutating func encode(_ value: Int) throws { next(); writer.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { next(); writer.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { next(); writer.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { next(); writer.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { next(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { next(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { next(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { next(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { next(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { next(); writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { next(); try writer.write(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        next()
        return WireValueEncoder(writer: writer, depth: level + 1, codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        next()
        return WireValueEncoder(writer: writer, depth: level + 1, codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        next()
        return WireValueEncoder(writer: writer, depth: level + 1, codingPath: codingPath)
    }
}

private struct WireKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: WireWriter
    let level: Int
    var codingPath: [any CodingKey]

    private func member(_ key: Key) { writer.startMember(level: level, key: key.stringValue) }

    mutating func encodeNil(forKey key: Key) throws { member(key); writer.writeNull() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { member(key); writer.writeBool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { member(key); writer.writeString(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { member(key); try writer.writeDouble(value, path: codingPath + [key]) }
    mutating func encode(_ value: Float, forKey key: Key) throws { member(key); try writer.writeDouble(Double(value), path: codingPath + [key]) }
    mutating func encode(_ value: Int, forKey key: Key) throws { member(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { member(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { member(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { member(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { member(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { member(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { member(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { member(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { member(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { member(key); writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { member(key); try writer.write(value) }

    // `nil` is written as `null` (the default implementations would leave the member out).
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try encodeOrNull(value, key) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try encodeOrNull(value, key) }

    private mutating func encodeOrNull<T: Encodable>(_ value: T?, _ key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        member(key)
        return WireValueEncoder(writer: writer, depth: level + 1, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        member(key)
        return WireValueEncoder(writer: writer, depth: level + 1, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        writer.startMember(level: level, key: "super")
        return WireValueEncoder(writer: writer, depth: level + 1, codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        member(key)
        return WireValueEncoder(writer: writer, depth: level + 1, codingPath: codingPath + [key])
    }
}
