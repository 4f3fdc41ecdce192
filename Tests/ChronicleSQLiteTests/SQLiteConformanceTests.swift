import ChronicleCore
import ChronicleSQLite
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import GRDB
import Synchronization
import Testing

@Suite("SQLite store: the conformance matrix")
struct SQLiteConformanceTests {
    @Test(arguments: [SQLiteBackend(), SQLiteBackend(durability: .lossyOnPowerFailure)], ConformanceMatrix.entries)
    func conformance(_ backend: SQLiteBackend, _ entry: ConformanceEntry) async throws {
        try await entry.run(on: backend)
    }

    @Test("DCB: two stores on one file race conditional appends; exactly one claim wins each round")
    func conditionsTwoWriters() async throws {
        try await SQLiteBackend().withTwoStores(projection: PersonalProjection()) { try await DCBConformance.runTwoWriters($0, $1) }
    }

    @Test("personal data: two stores on one file check each other's keys and erasures")
    func personalDataTwoWriters() async throws {
        try await SQLiteBackend().withTwoStores(projection: PersonalProjection()) { try await PersonalDataConformance.runTwoWriters($0, $1) }
    }
}

@Suite("SQLite store: documents")
struct SQLiteProjectionTests {
    @Test("a changed definition rebuilds the documents on open; dropping and rebuilding gives the same documents")
    func rebuilds() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/data"
            do {
                let store = try SQLiteEventStore(directory: path, configuration: .init(projection: CounterProjection()), logger: testLogger)
                for index in 0..<20 {
                    try await store.append(to: StreamName("counter-\(index % 4)"), [EventData(type: "Incremented", data: ["by": .integer(Int64(index))])])
                }
                _ = try await store.delete(StreamName("counter-3"), mode: .hard, expected: .any)
                let before = try await (0..<4).asyncMap { try await store.document(entity: "counter", id: String($0)) }
                #expect(try await store.rebuildDocuments() == 16, "15 events left after purging counter-3, and the deletion")
                let after = try await (0..<4).asyncMap { try await store.document(entity: "counter", id: String($0)) }
                #expect(before == after)
                #expect(after[3] == nil)
            }
            let doubled = try SQLiteEventStore(directory: path, configuration: .init(projection: CounterProjection(version: 2)), logger: testLogger)
            #expect(try await doubled.document(entity: "counter", id: "0")?.state == ["count": .integer(2 * (0 + 4 + 8 + 12 + 16))])
            let plain = try SQLiteEventStore(directory: path, logger: testLogger)
            await #expect(throws: ChronicleError.self) { try await plain.rebuildDocuments() }
        }
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

/// Collects rebuild progress reports.
final class ProgressLog: Sendable {
    private let reports = Mutex<[(Int64, Int64)]>([])
    func add(_ done: Int64, _ total: Int64) { reports.withLock { $0.append((done, total)) } }
    var last: (Int64, Int64)? { reports.withLock { $0.last } }
    var count: Int { reports.withLock { $0.count } }
}

@Suite("SQLite store: rebuilding documents while serving")
struct SQLiteRebuildTests {
    @Test("appends go on during a rebuild, and the result equals a fold of the whole log")
    func concurrentAppends() async throws {
        try await withSQLiteStore(.init(projection: CounterProjection())) { store, _ in
            for batch in 0..<30 {
                try await store.append(AppendRequest((0..<10).map { counter in
                    .init(stream: try! StreamName("counter-\(counter)"), events: (0..<10).map { _ in EventData(type: "Incremented", data: ["by": .integer(Int64(batch))]) })
                }))
            }
            let progress = ProgressLog()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await store.rebuildDocuments { progress.add($0, $1) } }
                group.addTask {
                    for index in 0..<200 {
                        try await store.append(to: StreamName("counter-\(index % 12)"), [EventData(type: "Incremented", data: ["by": 1])])
                    }
                }
                try await group.waitForAll()
            }
            var reference = DocumentSet()
            for event in try await store.readLog(after: 0, limit: 100_000).events {
                try reference.apply(event, CounterProjection())
            }
            for counter in 0..<12 {
                #expect(try await store.document(entity: "counter", id: String(counter)) == reference.documents["counter"]?[String(counter)], "counter \(counter)")
            }
            #expect(progress.count >= 1)
            #expect(progress.last.map { $0.0 == $0.1 } == true, "progress ends at its total")
        }
    }

    @Test("a rebuild that died midway leaves the old documents serving; its table is dropped on open")
    func leftoverShadowTable() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/data"
            do {
                let store = try SQLiteEventStore(directory: path, configuration: .init(projection: CounterProjection()), logger: testLogger)
                try await store.append(to: StreamName("counter-1"), [EventData(type: "Incremented", data: ["by": 7])])
            }
            let queue = try DatabaseQueue(path: path + "/" + SQLiteEventStore.fileName)
            try await queue.write { db in
                try db.execute(sql: "CREATE TABLE documents_rebuild (entity TEXT, id TEXT, state TEXT, version INTEGER, position INTEGER, updated_at INTEGER, deleted INTEGER)")
                try db.execute(sql: "INSERT INTO documents_rebuild VALUES ('counter', '1', '{\"count\":-1}', 0, 1, 0, 0)")
            }
            let reopened = try SQLiteEventStore(directory: path, configuration: .init(projection: CounterProjection()), logger: testLogger)
            #expect(try await reopened.document(entity: "counter", id: "1")?.state == ["count": 7])
            let tables = try await queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name = 'documents_rebuild'") }
            #expect(tables.isEmpty)
        }
    }
}

@Suite("SQLite store: snapshots")
struct SQLiteSnapshotTests {
    @Test("every Nth version is kept as a snapshot; deletes and rebuilds clear them")
    func snapshots() async throws {
        try await withSQLiteStore(.init(projection: CounterProjection(), snapshotInterval: 3)) { store, path in
            for _ in 0..<10 {
                try await store.append(to: StreamName("counter-1"), [EventData(type: "Incremented", data: ["by": 1])])
            }
            let snapshot = try #require(try await store.snapshot(entity: "counter", id: "1", before: .version(7)))
            #expect(snapshot.version == 5 && snapshot.state == ["count": 6])
            #expect(try await store.snapshot(entity: "counter", id: "1", before: .version(1)) == nil)
            #expect(try await store.snapshot(entity: "counter", id: "1", before: .version(100))?.version == 8)
            let queue = try DatabaseQueue(path: path + "/" + SQLiteEventStore.fileName)
            let versions = try await queue.read { db in try Int64.fetchAll(db, sql: "SELECT version FROM snapshots ORDER BY version") }
            #expect(versions == [2, 5, 8])
            try await store.rebuildDocuments()
            #expect(try await store.snapshot(entity: "counter", id: "1", before: .version(100)) == nil, "a rebuild clears snapshots made by the old definition")
            for _ in 0..<3 {
                try await store.append(to: StreamName("counter-1"), [EventData(type: "Incremented", data: ["by": 1])])
            }
            #expect(try await store.snapshot(entity: "counter", id: "1", before: .version(100))?.version == 11)
            _ = try await store.delete(StreamName("counter-1"), mode: .hard, expected: .any)
            #expect(try await store.snapshot(entity: "counter", id: "1", before: .version(100)) == nil)
        }
    }
}
