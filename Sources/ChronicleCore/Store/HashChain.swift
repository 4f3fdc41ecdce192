import Crypto
import Foundation

/// The hash chain that makes tampering with the log detectable.
///
/// Each event stores `sha256(previous hash ‖ canonical encoding of the event)`; the first
/// event's previous hash is 32 zero bytes. When a stream is hard-deleted its events are
/// purged but their hashes are kept, so the chain still verifies across the gap.
public enum HashChain {
    /// The "previous hash" of the first event.
    public static let genesis = [UInt8](repeating: 0, count: 32)

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
    public static func hash(previous: [UInt8], event: RecordedEvent) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: Data(canonicalEncoding(of: event).utf8))
        return Array(hasher.finalize())
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
    public mutating func skipPurged(position: Int64, hash: [UInt8]) {
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
