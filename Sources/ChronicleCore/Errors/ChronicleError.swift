/// The error every Chronicle API throws.
///
/// Match on ``code`` (stable across releases; new codes may be added) and show ``message``
/// to people: it says what went wrong and what to do about it. Conflicts carry the fields a
/// caller needs to act, such as ``actualRevision``.
///
/// ```swift
/// do {
///     try await store.append(to: stream, [event], expected: .exact(3))
/// } catch let error as ChronicleError where error.code == .wrongExpectedRevision {
///     print("someone else wrote first; the stream is now at", error.actualRevision ?? -1)
/// }
/// ```
public struct ChronicleError: Error, Sendable, CustomStringConvertible {
    /// A stable error code. Compare with the static members (`.streamNotFound`…).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidInput = "invalid-input"
            case wrongExpectedRevision = "wrong-expected-revision"
            case streamNotFound = "stream-not-found"
            case streamDeleted = "stream-deleted"
            case idempotencyConflict = "idempotency-conflict"
            case payloadTooLarge = "payload-too-large"
            case storageFull = "storage-full"
            case storageFailure = "storage-failure"
            case incompatibleStorage = "incompatible-storage"
            case ruleViolated = "rule-violated"
            case entityNotFound = "entity-not-found"
            case undeclaredEventType = "undeclared-event-type"
            case invalidPayload = "invalid-payload"
            case projectionNotFound = "projection-not-found"
            case appendConditionFailed = "append-condition-failed"
            case momentOutOfRange = "moment-out-of-range"
            case notCaughtUp = "not-caught-up"
            case eventNotFound = "event-not-found"
            case masterKeyMissing = "master-key-missing"
            case masterKeyMismatch = "master-key-mismatch"
            case erasureNotFound = "erasure-not-found"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code as a stable, kebab-case string (`"wrong-expected-revision"`), used in
        /// `--json` output and as the last part of HTTP problem types.
        public var description: String { base.rawValue }

        /// The input is malformed or breaks a rule: invalid stream name, non-object data,
        /// empty append… Nothing was written.
        public static let invalidInput = Code(.invalidInput)
        /// An append's condition failed: an event matching its query is stored after its
        /// position (`position` in ``ChronicleError/details`` is the first one).
        public static let appendConditionFailed = Code(.appendConditionFailed)
        /// A moment (`asOf`, `from`, `to`) names no point of the log: beyond its head, in the
        /// future, before its first event, or a range that ends before it starts;
        /// ``ChronicleError/details`` holds the valid range (`head`, `first`…) and
        /// ``ChronicleError/status`` 400 or 404.
        public static let momentOutOfRange = Code(.momentOutOfRange)
        /// An asynchronous projection has not applied the position asked for yet;
        /// ``ChronicleError/details`` holds where it is (`position`) and the `lag`. Retry.
        public static let notCaughtUp = Code(.notCaughtUp)
        /// No event is stored at that position (its stream was hard-deleted).
        public static let eventNotFound = Code(.eventNotFound)
        /// A store that keeps personal data (``PersonalData``) has no usable master key: none
        /// was given, or it is not 32 bytes of base64.
        public static let masterKeyMissing = Code(.masterKeyMissing)
        /// The master key given is not the one the store's subject keys were made with.
        public static let masterKeyMismatch = Code(.masterKeyMismatch)
        /// No erasure receipt has that id.
        public static let erasureNotFound = Code(.erasureNotFound)
        /// The store keeps no projection of that name.
        public static let projectionNotFound = Code(.projectionNotFound)
        /// The stream's revision is not the one the append or delete expected.
        /// ``ChronicleError/actualRevision`` holds the revision found.
        public static let wrongExpectedRevision = Code(.wrongExpectedRevision)
        /// The stream has no events, or it was soft-deleted.
        public static let streamNotFound = Code(.streamNotFound)
        /// The stream was hard-deleted (tombstoned): it can never be read or written again.
        public static let streamDeleted = Code(.streamDeleted)
        /// An event id is already stored with different content, in another stream, or only
        /// part of a retried append was stored.
        public static let idempotencyConflict = Code(.idempotencyConflict)
        /// An event or an append is larger than the configured limit.
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// The disk (or the configured size limit) is full. Nothing from the failed append was stored.
        public static let storageFull = Code(.storageFull)
        /// The storage failed: I/O error, unreadable file, permissions.
        public static let storageFailure = Code(.storageFailure)
        /// The file is not a Chronicle data file, or was written by a newer version.
        public static let incompatibleStorage = Code(.incompatibleStorage)
        /// A rule of the append (a precondition or a uniqueness constraint) does not hold;
        /// ``ChronicleError/status`` is the HTTP status the rule asks for. Nothing was written.
        public static let ruleViolated = Code(.ruleViolated)
        /// An event changes an entity (`merge`, `set`, `delete`) that does not exist or was
        /// deleted, and its type may not create it. ``ChronicleError/details`` names the
        /// `entity` and `id`. Nothing was written.
        public static let entityNotFound = Code(.entityNotFound)
        /// An event's type is not one the schema declares for the entity of its stream (or
        /// it belongs to another entity). Nothing was written.
        public static let undeclaredEventType = Code(.undeclaredEventType)
        /// An event's data breaks the JSON Schema its type declares; ``ChronicleError/details``
        /// holds the `violations`. Nothing was written.
        public static let invalidPayload = Code(.invalidPayload)
    }

    /// What kind of error this is.
    public var code: Code
    /// What went wrong and what to do about it, for people.
    public var message: String
    /// The stream concerned, when there is one.
    public var stream: StreamName?
    /// For ``Code/wrongExpectedRevision``: what the caller expected.
    public var expectedRevision: ExpectedRevision?
    /// For ``Code/wrongExpectedRevision``: the stream's last revision, or `nil` if it has no events.
    public var actualRevision: Int64?
    /// The lower-level error that caused this one, if any.
    public var cause: (any Error)?
    /// For ``Code/ruleViolated``: the HTTP status the rule asks for (403, 409 or 422).
    public var status: Int?
    /// Extra facts a caller can act on, as JSON members: for rules, `rule` (the schema's code
    /// or a generated name such as `AdvertisementPosted.require[0]`), `entity` and `id`; for
    /// payloads, `violations`. The HTTP layer adds them to the problem body.
    public var details: [String: JSONValue] = [:]
    /// Where the error was thrown.
    public var location: String

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        stream: StreamName? = nil,
        expectedRevision: ExpectedRevision? = nil,
        actualRevision: Int64? = nil,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.stream = stream
        self.expectedRevision = expectedRevision
        self.actualRevision = actualRevision
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
