import Foundation

/// What an export carries of the reactors: each reactor's checkpoint and its parked events.
///
/// Without it, a restored store would have no checkpoints, and a reactor that starts from
/// the beginning of the log (`from: beginning`) would call its webhook again for every event
/// — every welcome email sent twice. With it, each reactor carries on where it stood when
/// the export was written, and its parked events can still be retried or skipped.
///
/// In the NDJSON export these are lines of their own kinds, after the log entries:
/// `{"reactorCheckpoint":{"reactor":"welcome-email","position":42}}` and
/// `{"parkedEvent":{"reactor":…,"position":…,"eventId":…,"attempts":…,"error":…,"parkedAt":…}}`
/// (see ``ArchiveRecord``). An importer from before they existed refuses such a line (it is
/// not an event), so it never imports the log while silently losing the checkpoints.
public struct ReactorArchive: Sendable, Hashable {
    /// Each reactor's checkpoint: the position of the last event it is done with.
    public var checkpoints: [String: Int64]
    /// The parked events of every reactor, by reactor then position.
    public var parked: [ParkedEvent]

    /// Creates reactor state; empty by default (no reactor has run).
    public init(checkpoints: [String: Int64] = [:], parked: [ParkedEvent] = []) {
        self.checkpoints = checkpoints
        self.parked = parked.sorted { ($0.reactor, $0.position) < ($1.reactor, $1.position) }
    }

    /// Whether no reactor has any state.
    public var isEmpty: Bool { checkpoints.isEmpty && parked.isEmpty }

    /// The state as of a log exported up to `head`: reactors may have moved on while the log
    /// was written out, and what they did after `head` concerns events the export lacks.
    public func cut(at head: Int64) -> ReactorArchive {
        ReactorArchive(checkpoints: checkpoints.mapValues { min($0, head) }, parked: parked.filter { $0.position <= head })
    }

    /// The records of this state, reactors in name order.
    public var records: [ArchiveRecord] {
        checkpoints.sorted { $0.key < $1.key }.map { ArchiveRecord.reactorCheckpoint(reactor: $0.key, position: $0.value) }
            + parked.map(ArchiveRecord.parkedEvent)
    }

    /// Checks the state against the log it is imported with, before anything is stored:
    /// checkpoints within the log, and each parked event the event stored at its position
    /// (or a purged one: its stream was hard-deleted after it was parked).
    ///
    /// - Throws: ``ChronicleError/Code/invalidInput`` naming the record.
    package func check(against entries: [LogEntry]) throws {
        let head = entries.last?.position ?? 0
        for (reactor, position) in checkpoints.sorted(by: { $0.key < $1.key }) where position < 0 || position > head {
            throw ChronicleError(.invalidInput, "The checkpoint of reactor \(reactor) is position \(position), outside the imported log (positions 1 to \(head)). Nothing was imported.")
        }
        var byPosition: [Int64: LogEntry] = [:]
        for entry in entries { byPosition[entry.position] = entry }
        var seen: Set<String> = []
        for parked in parked {
            guard seen.insert("\(parked.reactor)\u{0}\(parked.position)").inserted else {
                throw ChronicleError(.invalidInput, "Reactor \(parked.reactor) has two parked events at position \(parked.position). Nothing was imported.")
            }
            switch byPosition[parked.position] {
            case .purged?:
                continue
            case .event(let event)?:
                guard event.id != parked.eventID else { continue }
                throw ChronicleError(.invalidInput, "The event parked by reactor \(parked.reactor) at position \(parked.position) is \(parked.eventID.uuidString.lowercased()), but the log holds \(event.id.uuidString.lowercased()) there. Nothing was imported.")
            case nil:
                throw ChronicleError(.invalidInput, "Reactor \(parked.reactor) has an event parked at position \(parked.position), outside the imported log (positions 1 to \(head)). Nothing was imported.")
            }
        }
    }
}

/// One line of an NDJSON export: a log entry, a reactor's checkpoint, a parked event, or the
/// closing line.
///
/// An export made by `chronicle export` is the log entries in position order, then the
/// reactors' state (``ReactorArchive``), then one closing line
/// `{"exportEnd":{"entries":N,"headPosition":H,"reactorCheckpoints":R,"parkedEvents":P}}`
/// that says how many of each came before it, so that a file cut short is refused rather
/// than imported as a shorter log.
public enum ArchiveRecord: Sendable, Hashable {
    /// An event or a purged position.
    case entry(LogEntry)
    /// A reactor's checkpoint.
    case reactorCheckpoint(reactor: String, position: Int64)
    /// A reactor's parked event.
    case parkedEvent(ParkedEvent)
    /// The closing line.
    case end(ArchiveSummary)

    /// The record as one NDJSON line (without the newline).
    public var jsonText: String {
        switch self {
        case .entry(let entry):
            return entry.jsonText
        case .reactorCheckpoint(let reactor, let position):
            let value: JSONValue = ["reactorCheckpoint": ["reactor": .string(reactor), "position": .integer(position)]]
            return value.canonicalText
        case .parkedEvent(let parked):
            let value: JSONValue = ["parkedEvent": [
                "reactor": .string(parked.reactor), "position": .integer(parked.position), "eventId": .string(parked.eventID.uuidString.lowercased()),
                "attempts": .integer(Int64(parked.attempts)), "error": .string(parked.error), "parkedAt": .integer(parked.parkedAtMicroseconds),
            ]]
            return value.canonicalText
        case .end(let summary):
            let value: JSONValue = ["exportEnd": [
                "entries": .integer(Int64(summary.entries)), "headPosition": .integer(summary.headPosition),
                "reactorCheckpoints": .integer(Int64(summary.reactorCheckpoints)), "parkedEvents": .integer(Int64(summary.parkedEvents)),
            ]]
            return value.canonicalText
        }
    }

    /// Reads a line written by ``jsonText`` (or by an export from before reactor records:
    /// log entries only).
    ///
    /// - Throws: ``ChronicleError`` (``ChronicleError/Code/invalidInput``) saying what is wrong.
    public init(line: String) throws {
        let value = try JSONValue(parsing: line)
        func integer(_ object: JSONValue, _ name: String, _ kind: String) throws -> Int64 {
            guard case .integer(let number)? = object[name] else {
                throw ChronicleError(.invalidInput, "A \(kind) record needs an integer `\(name)`.")
            }
            return number
        }
        func string(_ object: JSONValue, _ name: String, _ kind: String) throws -> String {
            guard case .string(let text)? = object[name] else {
                throw ChronicleError(.invalidInput, "A \(kind) record needs a string `\(name)`.")
            }
            return text
        }
        if let checkpoint = value["reactorCheckpoint"] {
            self = .reactorCheckpoint(reactor: try string(checkpoint, "reactor", "reactorCheckpoint"), position: try integer(checkpoint, "position", "reactorCheckpoint"))
        } else if let parked = value["parkedEvent"] {
            guard let id = UUID(uuidString: try string(parked, "eventId", "parkedEvent")) else {
                throw ChronicleError(.invalidInput, "A parkedEvent record's `eventId` is not a UUID.")
            }
            self = .parkedEvent(ParkedEvent(
                reactor: try string(parked, "reactor", "parkedEvent"), position: try integer(parked, "position", "parkedEvent"), eventID: id,
                attempts: Int(try integer(parked, "attempts", "parkedEvent")), error: try string(parked, "error", "parkedEvent"),
                parkedAtMicroseconds: try integer(parked, "parkedAt", "parkedEvent")
            ))
        } else if let end = value["exportEnd"] {
            self = .end(ArchiveSummary(
                entries: Int(try integer(end, "entries", "exportEnd")), headPosition: try integer(end, "headPosition", "exportEnd"),
                reactorCheckpoints: Int(try integer(end, "reactorCheckpoints", "exportEnd")), parkedEvents: Int(try integer(end, "parkedEvents", "exportEnd"))
            ))
        } else {
            self = .entry(try LogEntry(line: line))
        }
    }
}

/// The closing line of an export: how many records of each kind came before it.
public struct ArchiveSummary: Sendable, Hashable {
    /// Log entries (events and purged positions).
    public var entries: Int
    /// The position of the last entry (0 for an empty log).
    public var headPosition: Int64
    /// Reactor checkpoint records.
    public var reactorCheckpoints: Int
    /// Parked event records.
    public var parkedEvents: Int

    /// Creates a summary.
    public init(entries: Int, headPosition: Int64, reactorCheckpoints: Int, parkedEvents: Int) {
        self.entries = entries
        self.headPosition = headPosition
        self.reactorCheckpoints = reactorCheckpoints
        self.parkedEvents = parkedEvents
    }
}

/// A whole export, read back: the log entries and, if the export carries them, the
/// reactors' state (`nil` for an export written before reactor records existed).
public struct ArchiveContents: Sendable, Hashable {
    /// The log entries, in position order.
    public var entries: [LogEntry] = []
    /// The reactors' state, or `nil` if the export has no closing line (an older export).
    public var reactors: ReactorArchive?

    /// Creates empty contents.
    public init(entries: [LogEntry] = [], reactors: ReactorArchive? = nil) {
        self.entries = entries
        self.reactors = reactors
    }

    /// Collects records in file order, checking their order and the closing line's counts.
    /// `line` numbers each record for the error messages (1-based).
    public struct Reader: Sendable {
        private var contents = ArchiveContents()
        private var checkpoints: [String: Int64] = [:]
        private var parked: [ParkedEvent] = []
        private var reactorRecords = 0
        private var ended = false

        /// Creates an empty reader.
        public init() {}

        /// Adds the next record.
        ///
        /// - Throws: ``ChronicleError/Code/invalidInput`` if it is out of place.
        public mutating func add(_ record: ArchiveRecord) throws {
            if ended {
                throw ChronicleError(.invalidInput, "A record follows the exportEnd line, which must be the last.")
            }
            switch record {
            case .entry(let entry):
                if reactorRecords > 0 {
                    throw ChronicleError(.invalidInput, "A log entry follows the reactor records, which come after the whole log.")
                }
                contents.entries.append(entry)
            case .reactorCheckpoint(let reactor, let position):
                reactorRecords += 1
                if checkpoints.updateValue(position, forKey: reactor) != nil {
                    throw ChronicleError(.invalidInput, "Reactor \(reactor) has two checkpoint records.")
                }
            case .parkedEvent(let event):
                reactorRecords += 1
                parked.append(event)
            case .end(let summary):
                ended = true
                let head = contents.entries.last?.position ?? 0
                guard summary.entries == contents.entries.count, summary.headPosition == head,
                      summary.reactorCheckpoints == checkpoints.count, summary.parkedEvents == parked.count else {
                    throw ChronicleError(.invalidInput, "The exportEnd line counts \(summary.entries) entries up to position \(summary.headPosition), \(summary.reactorCheckpoints) reactor checkpoints and \(summary.parkedEvents) parked events, but the file holds \(contents.entries.count) entries up to position \(head), \(checkpoints.count) checkpoints and \(parked.count) parked events: it was changed or spliced.")
                }
                contents.reactors = ReactorArchive(checkpoints: checkpoints, parked: parked)
            }
        }

        /// The contents read.
        ///
        /// - Throws: ``ChronicleError/Code/invalidInput`` if reactor records came without
        ///   the closing line (the file is cut short).
        public func finish() throws -> ArchiveContents {
            if reactorRecords > 0 && !ended {
                throw ChronicleError(.invalidInput, "The export has reactor records but no exportEnd line: it is cut short.")
            }
            return contents
        }
    }
}
