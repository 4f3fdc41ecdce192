import ChronicleCore
import Foundation
import Testing

/// Checks that backup and restore carry the reactors' state: checkpoints and parked events
/// go out with ``LogArchive/exportReactors()`` and come back with the log, so a reactor that
/// starts from the beginning does not deliver every event again on a restored store.
public enum ReactorArchiveConformance {
    /// A store with reactors that can be exported and imported.
    public typealias Store = any ReactorStore & LogArchive

    /// Runs the checks with three fresh, empty stores: one to export, one to import into,
    /// and one that refuses damaged reactor state.
    public static func run(source: Store, target: Store, damaged: Store) async throws {
        for index in 0..<5 {
            try await source.append(to: StreamName("user-\(index)"), [EventData(type: "UserCreated")])
        }
        #expect(try await source.reactorCheckpoint("mail", fromBeginning: true) == 0)
        try await source.completeReaction("mail", after: 0, through: 3, outcomes: [])
        #expect(try await source.reactorCheckpoint("audit", fromBeginning: true) == 0)
        let trigger = try #require(try await source.readLog(after: 1, limit: 1).events.first)
        let parked = ParkedEvent(reactor: "audit", position: 2, eventID: trigger.id, attempts: 3, error: "the webhook answered 500: down", parkedAtMicroseconds: 1_700_000_000_123_456)
        try await source.park(parked, trigger: trigger, after: 0)
        try await source.completeReaction("audit", after: 2, through: 5, outcomes: [])

        // Out through NDJSON records, as `chronicle export` writes them, and back.
        var entries: [LogEntry] = []
        var after: Int64 = 0
        while true {
            let page = try await source.exportLog(after: after, limit: 4)
            guard let last = page.last else { break }
            entries += page
            after = last.position
        }
        let state = try await source.exportReactors().cut(at: after)
        #expect(state.checkpoints == ["mail": 3, "audit": 5])
        #expect(state.parked == [parked])
        let summary = ArchiveSummary(entries: entries.count, headPosition: after, reactorCheckpoints: state.checkpoints.count, parkedEvents: state.parked.count)
        let lines = (entries.map(ArchiveRecord.entry) + state.records + [.end(summary)]).map(\.jsonText)
        var reader = ArchiveContents.Reader()
        for line in lines { try reader.add(try ArchiveRecord(line: line)) }
        let contents = try reader.finish()
        #expect(contents.entries == entries)
        #expect(contents.reactors == state)

        try await target.importLog(contents.entries, reactors: try #require(contents.reactors)) { _ in }
        #expect(try await target.reactorPosition("mail") == 3)
        #expect(try await target.reactorCheckpoint("mail", fromBeginning: true) == 3, "a reactor from the beginning carries on from its imported checkpoint")
        #expect(try await target.reactorPosition("audit") == 5)
        #expect(try await target.parkedEvents("audit") == [parked], "parked events come back, with their error and attempts")
        #expect(try await target.reactorPosition("other") == nil, "a reactor that never ran has no checkpoint")

        // Reactor state that does not fit the log is refused with it: nothing is stored.
        var wrongEvent = state
        wrongEvent.parked[0].eventID = UUID()
        let beyond = ReactorArchive(checkpoints: ["mail": after + 1])
        for bad in [wrongEvent, beyond] {
            await #expect(throws: ChronicleError.self, "reactor state that does not fit the log is refused") {
                try await damaged.importLog(entries, reactors: bad) { _ in }
            }
        }
        #expect(try await damaged.headPosition() == 0, "a refused import stores nothing")
        #expect(try await damaged.reactorPosition("mail") == nil)

        // What the export reader refuses: a changed count, a record after the end, reactor
        // records without the end (cut short); an export of log entries only (an older one)
        // reads with no reactor state at all.
        func read(_ lines: [String]) throws -> ArchiveContents {
            var reader = ArchiveContents.Reader()
            for line in lines { try reader.add(try ArchiveRecord(line: line)) }
            return try reader.finish()
        }
        var spliced = summary
        spliced.entries -= 1
        #expect(throws: ChronicleError.self) { try read(Array(lines.dropLast()) + [ArchiveRecord.end(spliced).jsonText]) }
        #expect(throws: ChronicleError.self) { try read(lines + [lines[0]]) }
        #expect(throws: ChronicleError.self) { try read(Array(lines.dropLast())) }
        #expect(try read(entries.map(\.jsonText)).reactors == nil)
        #expect(throws: ChronicleError.self, "an old importer's reader (LogEntry) refuses a reactor record") {
            try LogEntry(line: ArchiveRecord.reactorCheckpoint(reactor: "mail", position: 3).jsonText)
        }
    }
}
