import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An event to append: its id, type, data and metadata.
///
/// The id makes retries safe: sending the same event (same id, same content) again returns
/// the original result and stores nothing twice. Leave it out and a new time-ordered UUID
/// (``Foundation/UUID/timeOrdered()``) is made.
///
/// ```swift
/// let event = EventData(type: "UserCreated", data: ["email": "ada@example.com"])
/// ```
public struct EventData: Sendable, Hashable {
    /// The event's id, unique across the store.
    public var id: UUID
    /// The event's type, such as `UserCreated`. Same rules as a stream name.
    public var type: String
    /// The event's payload. Must be a JSON object.
    public var data: JSONValue
    /// Metadata (`correlationId`, `causationId`, `actor`…). Must be a JSON object.
    public var metadata: JSONValue
    /// Tags (0–32, each 1–200 printable characters, conventionally `key:value` such as
    /// `user:ada`) that queries and append conditions select events by (see ``DCBQuery``).
    /// Stored as a set: sorted, without repeats.
    public var tags: [String]

    /// Creates an event to append.
    public init(id: UUID = .timeOrdered(), type: String, data: JSONValue = [:], metadata: JSONValue = [:], tags: [String] = []) {
        self.id = id
        self.type = type
        self.data = data
        self.metadata = metadata
        self.tags = tags
    }
}

/// An event checked against the rules and the limits, with its JSON in canonical form,
/// ready for a backend to store.
public struct PreparedEvent: Sendable, Hashable {
    /// The event's id.
    public var id: UUID
    /// The event's type.
    public var type: String
    /// Canonical JSON text of the data object.
    public var data: String
    /// Canonical JSON text of the metadata object.
    public var metadata: String
    /// The tags, sorted, without repeats.
    public var tags: [String] = []

    /// The most tags an event may carry.
    public static let maximumTags = 32

    /// Checks `event` and makes its canonical form.
    ///
    /// - Throws: ``ChronicleError`` with ``ChronicleError/Code/invalidInput`` or
    ///   ``ChronicleError/Code/payloadTooLarge``.
    public init(_ event: EventData, limits: EventStoreLimits, allowReservedType: Bool = false) throws {
        try StreamName.validate(event.type, what: "Event type", allowReserved: allowReservedType)
        guard case .object = event.data else {
            throw ChronicleError(.invalidInput, "The data of event \(event.id) (\(event.type)) is a JSON \(event.data.kindName); it must be a JSON object, such as {\"email\": \"ada@example.com\"}.")
        }
        guard case .object = event.metadata else {
            throw ChronicleError(.invalidInput, "The metadata of event \(event.id) (\(event.type)) is a JSON \(event.metadata.kindName); it must be a JSON object.")
        }
        guard event.data.isFinite, event.metadata.isFinite else {
            throw ChronicleError(.invalidInput, "Event \(event.id) (\(event.type)) holds a number that is not finite; JSON has no NaN or infinity.")
        }
        let data = event.data.canonicalText
        try PersonalData.refuseImitation(data, eventID: event.id, type: event.type)
        let metadata = event.metadata.canonicalText
        let size = data.utf8.count + metadata.utf8.count
        if size > limits.maximumEventSize {
            throw ChronicleError(.payloadTooLarge, "Event \(event.id) (\(event.type)) is \(size) bytes of data and metadata; the limit is \(limits.maximumEventSize). Store large content elsewhere and reference it from the event.")
        }
        if event.tags.count > Self.maximumTags {
            throw ChronicleError(.invalidInput, "Event \(event.id) (\(event.type)) has \(event.tags.count) tags; the limit is \(Self.maximumTags).")
        }
        for tag in event.tags {
            do {
                try StreamName.validate(tag, what: "Tag", allowReserved: true)
            } catch let error as ChronicleError {
                throw ChronicleError(.invalidInput, "Event \(event.id) (\(event.type)): \(error.message)", stream: nil)
            }
        }
        self.id = event.id
        self.type = event.type
        self.data = data
        self.metadata = metadata
        self.tags = Array(Set(event.tags)).sorted()
    }

    /// Whether this event has the same content as a stored one: type and data. Metadata is
    /// not compared, since it carries the context of each request (correlation ids, actor,
    /// times) and a retry is a new request.
    public func hasSameContent(as recorded: RecordedEvent) -> Bool {
        type == recorded.type && tags == recorded.tags && (data == recorded.dataJSON || PersonalData.sameSealedData(data, recorded.dataJSON))
    }
}

/// Limits that every store enforces on appends.
public struct EventStoreLimits: Sendable, Hashable {
    /// The largest event, as bytes of canonical JSON data plus metadata. Default 1 MiB.
    public var maximumEventSize: Int
    /// The most events in one append, across all its streams. Default 10,000.
    public var maximumEventsPerAppend: Int

    /// Creates limits; the defaults suit most uses.
    public init(maximumEventSize: Int = 1 << 20, maximumEventsPerAppend: Int = 10_000) {
        self.maximumEventSize = maximumEventSize
        self.maximumEventsPerAppend = maximumEventsPerAppend
    }
}

extension UUID {
    /// A new time-ordered (version 7, RFC 9562) UUID: 48 bits of Unix milliseconds, then
    /// 74 random bits from the system's secure generator.
    ///
    /// Chronicle makes event ids this way because ids that grow with time keep the store's
    /// id index append-only; random (version 4) ids scatter every insert across the index
    /// and cost write throughput on large logs. Client-supplied ids of any version work.
    /// (It also avoids `UUID()`, which on Linux opens `/dev/urandom` for every id.)
    public static func timeOrdered() -> UUID {
        var bytes = RandomBytes.shared.next16()
        let milliseconds = UInt64(max(0, Timestamp.now() / 1000))
        return withUnsafeMutableBytes(of: &bytes) { raw in
            for index in 0..<6 {
                raw[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index)))
            }
            raw[6] = (raw[6] & 0x0F) | 0x70
            raw[8] = (raw[8] & 0x3F) | 0x80
            return UUID(uuid: raw.loadUnaligned(as: uuid_t.self))
        }
    }
}

/// Random bytes from the system's secure generator, fetched 4 KiB at a time (one system
/// call per 256 ids instead of two per id).
final class RandomBytes: Sendable {
    static let shared = RandomBytes()

    private struct Pool {
        var bytes = [UInt8](repeating: 0, count: 4096)
        var used = 4096
    }

    private let pool = Mutex(Pool())

    func next16() -> (UInt64, UInt64) {
        pool.withLock { pool in
            if pool.used + 16 > pool.bytes.count {
                pool.bytes.withUnsafeMutableBytes { raw in
                    arc4random_buf(raw.baseAddress!, raw.count)
                }
                pool.used = 0
            }
            defer { pool.used += 16 }
            return pool.bytes.withUnsafeBytes { raw in
                (raw.loadUnaligned(fromByteOffset: pool.used, as: UInt64.self), raw.loadUnaligned(fromByteOffset: pool.used + 8, as: UInt64.self))
            }
        }
    }
}
