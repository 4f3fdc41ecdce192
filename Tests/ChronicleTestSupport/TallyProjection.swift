import ChronicleCore
import Foundation

/// A projection that shows an event applied twice or skipped, for the crash and takeover
/// tests: `tally-<id>` streams, whose `Tallied` events each add one to `count` and append
/// their id to `events`. Unlike `merge` or `set`, applying an event again changes the
/// document, so a fold that ran twice over a page, or missed one, differs from a rebuild.
///
/// `crashAt` makes the process kill itself (SIGKILL, as `kill -9` would) when the engine
/// applies the event at that position, after writing `crashing at position N` to standard
/// output: the test reads that line to know exactly where the crash happened. Only the
/// `ProjectionCrashChild` test program sets it.
public struct TallyProjection: Projection {
    /// The position at which applying kills the process, if any.
    public let crashAt: Int64?

    /// Creates the projection.
    public init(crashAt: Int64? = nil) {
        self.crashAt = crashAt
    }

    /// `tally`.
    public var name: String { "tally" }

    /// The same whatever `crashAt` is, so the crashing and the restarted process keep one
    /// set of documents.
    public var definitionHash: String { "tally-v1" }

    /// `tally` streams and their deletions.
    public func entity(of event: RecordedEvent) -> (entity: String, id: String)? {
        let stream = StreamDeletion.stream(of: event) ?? event.stream
        guard stream.category == "tally", let id = stream.entityID else { return nil }
        return ("tally", id)
    }

    /// The engine calls this once per event of a page it applies, whatever the event's
    /// stream, before it writes the event's documents: the crash point.
    public func changes(of event: RecordedEvent, current: (DocumentChangeKey) throws -> Document?) throws -> [TargetChange] {
        if event.position == crashAt {
            let line = "crashing at position \(event.position)\n"
            _ = line.withCString { write(1, $0, strlen($0)) }
            kill(getpid(), SIGKILL)
        }
        return try targets(of: event).map { target in
            let before = try current(target)
            return TargetChange(target: target, before: before, change: try evolve(before, with: event))
        }
    }

    /// Adds one to `count` and the event's id to `events`.
    public func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange {
        guard let (entity, id) = entity(of: event) else { return .none }
        if StreamDeletion.stream(of: event) != nil {
            return StreamDeletion.change(for: event, document: document, entity: entity, id: id)
        }
        guard event.type == "Tallied" else { return .none }
        var count: Int64 = 0
        var events: [JSONValue] = []
        if case .integer(let current)? = document?.state["count"] { count = current }
        if case .array(let current)? = document?.state["events"] { events = current }
        events.append(.string(event.id.uuidString.lowercased()))
        return .save(Document(entity: entity, id: id, state: ["count": .integer(count + 1), "events": .array(events)], version: event.revision, position: event.position, updatedAtMicroseconds: event.recordedAtMicroseconds))
    }

    /// What the documents must be after `events` (the log, in order), each applied once:
    /// per `tally` id, the count and the ids of its `Tallied` events.
    public static func expected(_ events: [RecordedEvent]) -> [String: (count: Int64, events: [String])] {
        var expected: [String: (count: Int64, events: [String])] = [:]
        for event in events where event.stream.category == "tally" && event.type == "Tallied" {
            let id = event.stream.entityID ?? ""
            expected[id, default: (0, [])].count += 1
            expected[id, default: (0, [])].events.append(event.id.uuidString.lowercased())
        }
        return expected
    }

    /// A document's count and event ids.
    public static func tally(of document: Document?) -> (count: Int64, events: [String])? {
        guard let document, case .integer(let count)? = document.state["count"], case .array(let events)? = document.state["events"] else { return nil }
        return (count, events.compactMap { if case .string(let id) = $0 { id } else { nil } })
    }
}
