/// One line of a log export: a stored event, or the position and hash of a purged one.
///
/// An export is NDJSON: one ``RecordedEvent/jsonText`` per event, and
/// `{"purged":<position>,"hash":"<hex>"}` for each hard-deleted event, in position order.
/// It is a complete backup: read models are rebuilt from it, and the hash chain verifies.
public enum LogEntry: Sendable, Hashable {
    /// A stored event.
    case event(RecordedEvent)
    /// A hard-deleted event: only its position and hash remain.
    case purged(position: Int64, hash: EventHash)

    /// The entry's position in the log.
    public var position: Int64 {
        switch self {
        case .event(let event): event.position
        case .purged(let position, _): position
        }
    }

    /// The entry as one NDJSON line (without the newline).
    public var jsonText: String {
        switch self {
        case .event(let event): event.jsonText
        case .purged(let position, let hash): "{\"purged\":\(position),\"hash\":\"\(hash.hex)\"}"
        }
    }

    /// Reads a line written by ``jsonText``.
    ///
    /// - Throws: ``ChronicleError`` (``ChronicleError/Code/invalidInput``) saying what is wrong.
    public init(line: String) throws {
        let value = try JSONValue(parsing: line)
        if let purged = value["purged"] {
            guard case .integer(let position) = purged, case .string(let hex)? = value["hash"], let hash = EventHash(hex: hex) else {
                throw ChronicleError(.invalidInput, "A purged entry needs an integer `purged` position and a 64-digit `hash`.")
            }
            self = .purged(position: position, hash: hash)
        } else {
            self = .event(try RecordedEvent(json: value))
        }
    }
}

/// A store that can write and load whole logs (backup and restore).
public protocol LogArchive: Sendable {
    /// Up to `limit` entries after `position`, in position order (an empty page ends the log).
    func exportLog(after position: Int64, limit: Int) async throws -> [LogEntry]
    /// Loads entries into an empty store, exactly as they were (positions, revisions, times,
    /// hashes), verifying the hash chain as it goes; all or nothing.
    ///
    /// - Throws: ``ChronicleError`` if the store is not empty, an entry is out of order, or the
    ///   chain does not verify; nothing is stored then.
    ///
    /// `reactors` (checkpoints and parked events from the same export, see
    /// ``ReactorArchive``) are stored in the same transaction, after
    /// ``ReactorArchive/check(against:)``.
    func importLog(_ entries: [LogEntry], reactors: ReactorArchive, progress: @Sendable (Int) -> Void) async throws
    /// The reactors' checkpoints and parked events, for an export (written after the log,
    /// cut at the exported head with ``ReactorArchive/cut(at:)``).
    func exportReactors() async throws -> ReactorArchive
}

extension LogArchive {
    /// Loads entries into an empty store, with no reactor state; see
    /// ``importLog(_:reactors:progress:)``.
    public func importLog(_ entries: [LogEntry], progress: @Sendable (Int) -> Void) async throws {
        try await importLog(entries, reactors: ReactorArchive(), progress: progress)
    }
}

/// The checks every backend makes on an import, entry by entry, before it stores anything:
/// the hash chain, and revisions that follow each other within each stream.
package struct LogImportCheck {
    private var verifier = HashChainVerifier()
    private var revisions: [StreamName: Int64] = [:]

    package init() {}

    /// Checks the entry at `index` (0-based); returns the stream state a `$streamDeleted`
    /// event records, for the backend to save.
    ///
    /// - Throws: ``ChronicleError/Code/invalidInput`` naming the entry.
    package mutating func check(_ entry: LogEntry, index: Int) throws -> StreamInfo? {
        switch entry {
        case .event(let event):
            verifier.check(event)
            if !verifier.isBroken {
                if !event.stream.isReserved, let previous = revisions[event.stream], previous + 1 != event.revision {
                    throw ChronicleError(.invalidInput, "Entry \(index + 1): event \(event.id) has revision \(event.revision) in \(event.stream), after revision \(previous). Nothing was imported.")
                }
                revisions[event.stream] = event.revision
            }
        case .purged(let position, let hash):
            verifier.skipPurged(position: position, hash: hash)
        }
        if verifier.isBroken {
            let report = verifier.report(headPosition: entry.position)
            throw ChronicleError(.invalidInput, "Entry \(index + 1) breaks the hash chain: \(report.problem ?? "unknown problem"). Nothing was imported.")
        }
        guard case .event(let event) = entry else { return nil }
        return StreamDeletion.record(of: event)?.info
    }
}
