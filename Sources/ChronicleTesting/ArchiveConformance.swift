import ChronicleCore
import Foundation
import Testing

/// Checks backup and restore: an export imported into a fresh store gives the same log,
/// stream states and documents, and a damaged export is refused whole.
public enum ArchiveConformance {
    /// A store that can be exported, imported and read for documents.
    public typealias Store = any EventStore & LogArchive & DocumentStore

    /// Runs the checks with three fresh, empty stores (each with ``CounterProjection``): one
    /// to export, one to import into, and one that refuses a damaged export.
    public static func run(source: Store, target: Store, damaged: Store) async throws {
        let counter = { (id: String) in try StreamName("counter-\(id)") }
        for index in 0..<30 {
            // Every third event tagged: tags survive the export and the import, and the chain covers them.
            let tags = index % 3 == 0 ? ["counter:\(index % 5)", "round:\(index / 5)"] : []
            try await source.append(to: counter(String(index % 5)), [EventData(type: "Incremented", data: ["by": .integer(Int64(index))], tags: tags)])
        }
        _ = try await source.delete(counter("1"), mode: .soft, expected: .any)
        _ = try await source.delete(counter("2"), mode: .hard, expected: .any)
        _ = try await source.delete(counter("3"), mode: .soft, expected: .any)
        try await source.append(to: counter("3"), [EventData(type: "Incremented", data: ["by": 100])])

        var lines: [String] = []
        var after: Int64 = 0
        while true {
            let page = try await source.exportLog(after: after, limit: 7)
            guard let last = page.last else { break }
            lines += page.map(\.jsonText)
            after = last.position
        }
        let entries = try lines.map(LogEntry.init(line:))
        #expect(entries.map(\.position) == Array(1...Int64(entries.count)), "the export holds every position, purged ones included")
        #expect(entries.filter { if case .purged = $0 { true } else { false } }.count == 6)

        try await target.importLog(entries) { _ in }
        #expect(try await target.readLog(after: 0, limit: 1000) == (try await source.readLog(after: 0, limit: 1000)))
        let tagged = DCBQuery([.init(tags: ["counter:0"])])
        #expect(try await target.read(query: tagged, after: 0, limit: 100) == (try await source.read(query: tagged, after: 0, limit: 100)), "the imported tags are indexed")
        #expect(try await target.read(query: tagged, after: 0, limit: 100).events.count == 2)
        let report = try await target.verify()
        #expect(report.isIntact && report.purgedEvents == 6)
        for id in ["0", "1", "2", "3", "4"] {
            #expect(try await target.info(counter(id)) == (try await source.info(counter(id))), "stream counter-\(id)")
            #expect(try await target.document(entity: "counter", id: id) == (try await source.document(entity: "counter", id: id)), "document \(id)")
        }
        let next = try await target.append(to: counter("0"), [EventData(type: "Incremented", data: ["by": 1])])
        #expect(next.firstPosition == Int64(entries.count + 1) && next.firstRevision == 6)
        #expect(try await target.verify().isIntact)
        await #expect(throws: ChronicleError.self, "a non-empty store refuses an import") {
            try await target.importLog(entries) { _ in }
        }

        var tampered = entries
        if case .event(var event) = tampered[10] {
            event.dataJSON = #"{"by":999}"#
            tampered[10] = .event(event)
        }
        await #expect(throws: ChronicleError.self, "a changed event breaks the chain") {
            try await damaged.importLog(tampered) { _ in }
        }
        var retagged = entries
        if case .event(var event) = retagged[0] {
            event.tags = ["counter:9"]
            retagged[0] = .event(event)
        }
        await #expect(throws: ChronicleError.self, "a changed tag breaks the chain") {
            try await damaged.importLog(retagged) { _ in }
        }
        #expect(try await damaged.headPosition() == 0, "a refused import stores nothing")
        #expect(try await damaged.readLog(after: 0, limit: 10).events.isEmpty)
    }
}
