import ChronicleCore
import Crypto
import Foundation
import HTTPTypes

/// `Idempotency-Key` on `POST /v1/events/{type}`: it names the id of the event the write
/// stores, so sending the same request again (after a lost answer) stores nothing twice and
/// gets the original answer (`200`, `replayed: true`). The key is the event id itself when it
/// is a UUID, else a UUID made from its SHA-256. A `create` without an id in its payload takes
/// the event id as the entity id, and a request without `X-Correlation-ID` takes it as its
/// correlation id, so a retry is the same write, not a new entity.
enum IdempotencyKey {
    static let header = HTTPField.Name("Idempotency-Key")!

    /// The event id a request's key names, `nil` without one.
    ///
    /// - Throws: `400 invalid-input` for a key that is empty, longer than 200 characters, or
    ///   holds anything but printable ASCII.
    static func eventId(_ headers: HTTPFields) throws -> UUID? {
        guard let key = headers[header] else { return nil }
        guard let id = eventId(key) else {
            throw Problem.invalid("Idempotency-Key must be 1–200 printable ASCII characters, such as a UUID the client made for this write; got \(key.prefix(60).debugDescription).")
        }
        return id
    }

    /// The event id of a key, or `nil` if the key is not usable.
    static func eventId(_ key: String) -> UUID? {
        guard !key.isEmpty, key.count <= 200, key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return nil }
        if let id = UUID(uuidString: key) { return id }
        var bytes = Array(SHA256.hash(data: Data("chronicle.idempotency-key\u{0}\(key)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80 // version 8: custom (RFC 9562)
        bytes[8] = (bytes[8] & 0x3F) | 0x80 // the RFC variant
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
