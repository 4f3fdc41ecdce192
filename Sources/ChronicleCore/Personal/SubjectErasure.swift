import Foundation

/// The outcome of erasing a subject: its receipt, and whether it was erased before (then
/// the receipt is the first one and nothing changed).
public struct SubjectErasure: Sendable, Hashable, Codable {
    /// The `$subjectErased` receipt.
    public var receipt: ErasureReceipt
    /// Whether the subject was already erased: nothing was written.
    public var replayed: Bool

    /// Creates an outcome.
    public init(receipt: ErasureReceipt, replayed: Bool) {
        self.receipt = receipt
        self.replayed = replayed
    }

    /// The receipt's event type.
    public static let eventType = "$subjectErased"
    /// The stream of receipts.
    public static let stream = StreamName(stored: "$erasures")

    /// Refuses a subject that names nobody: 1–200 characters, no control characters.
    public static func validate(subject: String) throws {
        guard !subject.isEmpty, subject.unicodeScalars.count <= 200, !subject.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ChronicleError(.invalidInput, "The subject \(subject.debugDescription) is not usable: give the id of the person whose data to forget (1–200 characters, no control characters), such as the entity id of their user.")
        }
    }
}

/// What an erasure recorded: who asked, when, whose data, and how much was affected. The
/// wire record of `POST /v1/erasures` and `GET /v1/erasures/{id}`, shared by the server and
/// the Swift client.
public struct ErasureReceipt: Sendable, Hashable, Codable {
    /// The receipt's id (the id of its `$subjectErased` event).
    public var id: UUID
    /// Whose data was forgotten.
    public var subject: String
    /// Who asked (the API key's name, or the CLI's user), if known.
    public var actor: String?
    /// When, as an RFC 3339 instant.
    public var erasedAt: String
    /// The receipt's position in the log.
    public var position: Int64
    /// How many stored events had fields sealed with the subject's key.
    public var events: Int64
    /// How many read-model documents those events changed (rewritten without the fields).
    public var documents: Int64

    private enum CodingKeys: String, CodingKey {
        case id, subject, actor, erasedAt, position, events, documents
    }

    /// Encodes the receipt, its id in lower case as every id of the API.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.uuidString.lowercased(), forKey: .id)
        try container.encode(subject, forKey: .subject)
        try container.encode(actor, forKey: .actor)
        try container.encode(erasedAt, forKey: .erasedAt)
        try container.encode(position, forKey: .position)
        try container.encode(events, forKey: .events)
        try container.encode(documents, forKey: .documents)
    }

    /// Creates a receipt.
    public init(id: UUID, subject: String, actor: String?, erasedAt: String, position: Int64, events: Int64, documents: Int64) {
        self.id = id
        self.subject = subject
        self.actor = actor
        self.erasedAt = erasedAt
        self.position = position
        self.events = events
        self.documents = documents
    }

    /// The receipt a `$subjectErased` event records.
    ///
    /// - Throws: ``ChronicleError/Code/erasureNotFound`` if `event` is not a receipt.
    public init(event: RecordedEvent) throws {
        let data = event.data
        guard event.type == SubjectErasure.eventType, event.stream == SubjectErasure.stream, case .string(let subject)? = data["subject"] else {
            throw ChronicleError(.erasureNotFound, "Event \(event.id) is not an erasure receipt.")
        }
        var actor: String?
        if case .string(let name)? = data["actor"] { actor = name }
        func count(_ name: String) -> Int64 {
            if case .integer(let value)? = data[name] { return value }
            return 0
        }
        self.init(id: event.id, subject: subject, actor: actor, erasedAt: Timestamp.iso8601(microseconds: event.recordedAtMicroseconds), position: event.position, events: count("events"), documents: count("documents"))
    }
}
