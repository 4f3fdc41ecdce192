import Crypto
import Foundation

/// The hash chain that makes tampering with the log detectable.
///
/// Each event stores `sha256(previous hash ‖ canonical encoding of the event)`; the first
/// event's previous hash is 32 zero bytes. When a stream is hard-deleted its events are
/// purged but their hashes are kept, so the chain still verifies across the gap.
public enum HashChain {
    /// The "previous hash" of the first event: 32 zero bytes.
    public static let genesis = EventHash.zero

    /// The canonical encoding of an event: a JSON object with sorted keys `data`, `id`,
    /// `metadata`, `position`, `recordedAt`, `revision`, `stream`, `type`.
    public static func canonicalEncoding(of event: RecordedEvent) -> String {
        var output = "{\"data\":"
        output += event.dataJSON
        output += ",\"id\":\""
        output += event.id.uuidString.lowercased()
        output += "\",\"metadata\":"
        output += event.metadataJSON
        output += ",\"position\":\(event.position),\"recordedAt\":\""
        output += Timestamp.iso8601(microseconds: event.recordedAtMicroseconds)
        output += "\",\"revision\":\(event.revision),\"stream\":"
        output += event.stream.rawValue.jsonQuoted
        output += ",\"type\":"
        output += event.type.jsonQuoted
        output += "}"
        return output
    }

    /// `sha256(previous ‖ canonicalEncoding(event))`. The event's own `hash` is ignored.
    public static func hash(previous: EventHash, event: RecordedEvent) -> EventHash {
        var encoder = CanonicalEventEncoder()
        return encoder.hash(previous: previous, event: event)
    }
}

/// Writes the canonical encoding of events into a reusable byte buffer and hashes it; the
/// write path keeps one per batch so that hashing allocates almost nothing per event.
struct CanonicalEventEncoder {
    private var bytes: [UInt8] = []
    private var cachedTimestamp: (microseconds: Int64, text: [UInt8])?

    init() {
        bytes.reserveCapacity(1024)
    }

    mutating func hash(previous: EventHash, event: RecordedEvent) -> EventHash {
        bytes.removeAll(keepingCapacity: true)
        previous.withUnsafeBytes { bytes.append(contentsOf: $0) }
        append("{\"data\":")
        append(event.dataJSON)
        append(",\"id\":\"")
        appendLowercaseUUID(event.id)
        append("\",\"metadata\":")
        append(event.metadataJSON)
        append(",\"position\":")
        appendInteger(event.position)
        append(",\"recordedAt\":\"")
        if cachedTimestamp?.microseconds != event.recordedAtMicroseconds {
            cachedTimestamp = (event.recordedAtMicroseconds, Array(Timestamp.iso8601(microseconds: event.recordedAtMicroseconds).utf8))
        }
        bytes.append(contentsOf: cachedTimestamp!.text)
        append("\",\"revision\":")
        appendInteger(event.revision)
        append(",\"stream\":")
        appendQuoted(event.stream.rawValue)
        if !event.tags.isEmpty {
            // Only with tags, so that the hashes of events without any are as they were.
            append(",\"tags\":[")
            for (index, tag) in event.tags.enumerated() {
                if index > 0 { bytes.append(0x2C) }
                appendQuoted(tag)
            }
            append("]")
        }
        append(",\"type\":")
        appendQuoted(event.type)
        append("}")
        return SHA256.hash(data: bytes).withUnsafeBytes { EventHash(bytes: $0)! }
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    private mutating func appendQuoted(_ text: String) {
        if text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            append(text.jsonQuoted)
        } else {
            bytes.append(0x22)
            append(text)
            bytes.append(0x22)
        }
    }

    private mutating func appendInteger(_ value: Int64) {
        if value < 0 {
            append(String(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var remaining = UInt64(value)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
                count += 1
            } while remaining > 0
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }

    private mutating func appendLowercaseUUID(_ id: UUID) {
        let hex: StaticString = "0123456789abcdef"
        withUnsafeBytes(of: id.uuid) { raw in
            hex.withUTF8Buffer { digits in
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 { bytes.append(UInt8(ascii: "-")) }
                    bytes.append(digits[Int(byte >> 4)])
                    bytes.append(digits[Int(byte & 0x0F)])
                }
            }
        }
    }
}

/// Walks the log in position order and checks the hash chain; backends feed it and read
/// the ``report``.
public struct HashChainVerifier: Sendable {
    private var previous = HashChain.genesis
    private var expectedPosition: Int64 = 1
    private var verified: Int64 = 0
    private var purged: Int64 = 0
    private var broken: (position: Int64, problem: String)?

    /// Starts at position 1.
    public init() {}

    /// Whether a break was found (the rest need not be fed).
    public var isBroken: Bool { broken != nil }

    /// Checks the next stored event.
    public mutating func check(_ event: RecordedEvent) {
        guard broken == nil else { return }
        guard event.position == expectedPosition else {
            broken = (expectedPosition, "position \(expectedPosition) is missing from the log (next found: \(event.position))")
            return
        }
        let expected = HashChain.hash(previous: previous, event: event)
        if expected != event.hash {
            broken = (event.position, "event \(event.id) in \(event.stream) at position \(event.position) does not match its hash: it was changed after it was written, or an earlier event was")
            return
        }
        previous = event.hash
        verified += 1
        expectedPosition += 1
    }

    /// Carries over the recorded hash of a purged (hard-deleted) event.
    public mutating func skipPurged(position: Int64, hash: EventHash) {
        guard broken == nil else { return }
        guard position == expectedPosition else {
            broken = (expectedPosition, "position \(expectedPosition) is missing from the log (next found: purged \(position))")
            return
        }
        previous = hash
        purged += 1
        expectedPosition += 1
    }

    /// The result, given the head position the backend reports.
    public func report(headPosition: Int64) -> VerificationReport {
        if let broken {
            return VerificationReport(verifiedEvents: verified, purgedEvents: purged, headPosition: headPosition, firstBrokenPosition: broken.position, problem: broken.problem)
        }
        if expectedPosition - 1 != headPosition {
            return VerificationReport(verifiedEvents: verified, purgedEvents: purged, headPosition: headPosition, firstBrokenPosition: expectedPosition, problem: "the log ends at position \(expectedPosition - 1) but the head is \(headPosition)")
        }
        return VerificationReport(verifiedEvents: verified, purgedEvents: purged, headPosition: headPosition)
    }
}
