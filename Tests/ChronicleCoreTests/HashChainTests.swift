import ChronicleCore
import Crypto
import Foundation
import Testing

@Suite("Hash chain and ids")
struct HashChainTests {
    func event(stream: String = "user-1", type: String = "UserCreated", data: String = #"{"email":"a@example.com"}"#, position: Int64 = 1) -> RecordedEvent {
        RecordedEvent(
            id: UUID(uuidString: "0192F3A4-5B6C-7D8E-9FA0-B1C2D3E4F5A6")!, stream: StreamName(stored: stream), type: type,
            revision: 0, position: position, recordedAtMicroseconds: 1_795_755_089_123_456,
            dataJSON: data, metadataJSON: "{}", hash: .zero
        )
    }

    @Test("the canonical encoding is the documented JSON object")
    func canonicalEncoding() {
        #expect(HashChain.canonicalEncoding(of: event()) == #"{"data":{"email":"a@example.com"},"id":"0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6","metadata":{},"position":1,"recordedAt":"2026-11-27T04:51:29.123456Z","revision":0,"stream":"user-1","type":"UserCreated"}"#)
    }

    @Test("the hash is sha256(previous ‖ canonical encoding), for plain and escaped names", arguments: [
        ("user-1", "UserCreated"), ("quote\"d-1", "Back\\slash"), ("ünï-çødé", "Tÿpe"),
    ])
    func hashMatchesDefinition(stream: String, type: String) {
        let previous = EventHash(bytes: [UInt8](repeating: 7, count: 32))!
        let subject = event(stream: stream, type: type, position: 12_345_678_901)
        var hasher = SHA256()
        hasher.update(data: previous.bytes)
        hasher.update(data: Data(HashChain.canonicalEncoding(of: subject).utf8))
        #expect(HashChain.hash(previous: previous, event: subject).bytes == Array(hasher.finalize()))
    }

    @Test("verification stops at the first changed, missing or reordered event")
    func verifier() {
        var chain: [RecordedEvent] = []
        var previous = HashChain.genesis
        for position in 1...4 {
            var next = event(data: #"{"n":\#(position)}"#, position: Int64(position))
            next.hash = HashChain.hash(previous: previous, event: next)
            previous = next.hash
            chain.append(next)
        }
        var intact = HashChainVerifier()
        chain.forEach { intact.check($0) }
        #expect(intact.report(headPosition: 4).isIntact)

        var purged = HashChainVerifier()
        purged.check(chain[0])
        purged.skipPurged(position: 2, hash: chain[1].hash)
        purged.check(chain[2])
        purged.check(chain[3])
        #expect(purged.report(headPosition: 4) == VerificationReport(verifiedEvents: 3, purgedEvents: 1, headPosition: 4))

        var changed = HashChainVerifier()
        var tampered = chain
        tampered[2].dataJSON = #"{"n":999}"#
        tampered.forEach { changed.check($0) }
        #expect(changed.report(headPosition: 4).firstBrokenPosition == 3)

        var missing = HashChainVerifier()
        [chain[0], chain[2], chain[3]].forEach { missing.check($0) }
        #expect(missing.report(headPosition: 4).firstBrokenPosition == 2)

        var truncated = HashChainVerifier()
        chain.prefix(3).forEach { truncated.check($0) }
        #expect(truncated.report(headPosition: 4).firstBrokenPosition == 4, "a log shorter than its head is broken")
    }

    @Test("generated ids are version 7 and ordered by time")
    func timeOrderedIDs() async throws {
        let first = UUID.timeOrdered()
        try await Task.sleep(for: .milliseconds(3))
        let second = UUID.timeOrdered()
        for id in [first, second] {
            let text = id.uuidString
            #expect(Array(text)[14] == "7", "version nibble of \(text)")
            #expect("89AB".contains(Array(text)[19]), "variant of \(text)")
        }
        #expect(first.uuidString.prefix(13) < second.uuidString.prefix(13), "the first 48 bits are the time")
        let many = Set((0..<10_000).map { _ in UUID.timeOrdered() })
        #expect(many.count == 10_000)
    }
}

@Suite("Event hashes")
struct EventHashTests {
    @Test("an event hash holds exactly 32 bytes and prints as 64 hex digits")
    func bytesAndHex() {
        #expect(EventHash(bytes: [1, 2, 3]) == nil)
        let bytes = (0..<32).map { UInt8($0 * 7 % 256) }
        let hash = EventHash(bytes: bytes)!
        #expect(hash.bytes == bytes)
        #expect(hash.hex == bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined())
        #expect(hash.hex.count == 64)
        #expect(hash != .zero && EventHash.zero.hex == String(repeating: "0", count: 64))
        #expect(Set([hash, EventHash(bytes: bytes)!, .zero]).count == 2)
    }
}
