/// What an append or delete expects of a stream's current revision (optimistic concurrency).
///
/// Revisions are 0-based: a stream with one event is at revision 0.
public enum ExpectedRevision: Sendable, Hashable, CustomStringConvertible {
    /// No check.
    case any
    /// The stream must have no live events (never written, or soft-deleted).
    case noStream
    /// The stream must exist and not be deleted.
    case streamExists
    /// The stream's last revision must be exactly this.
    case exact(Int64)

    /// `any`, `noStream`, `streamExists` or the number.
    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "noStream"
        case .streamExists: "streamExists"
        case .exact(let revision): String(revision)
        }
    }

    /// Parses `any`, `noStream` (or `no-stream`), `streamExists` (or `stream-exists`), or a
    /// revision number (`-1` means `noStream`).
    public init?(parsing text: String) {
        switch text {
        case "any": self = .any
        case "noStream", "no-stream", "-1": self = .noStream
        case "streamExists", "stream-exists": self = .streamExists
        default:
            guard let revision = Int64(text), revision >= 0 else { return nil }
            self = .exact(revision)
        }
    }
}
