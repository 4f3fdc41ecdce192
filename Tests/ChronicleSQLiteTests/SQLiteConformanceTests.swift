import ChronicleCore
import ChronicleSQLite
import ChronicleTesting
import Foundation
import Testing

@Suite("SQLite store conformance")
struct SQLiteConformanceTests {
    @Test(arguments: EventStoreConformance.cases)
    func conformance(_ check: ConformanceCase) async throws {
        try await withSQLiteStore { store, _ in
            try await check.run(store)
        }
    }

    @Test(arguments: EventStoreConformance.cases)
    func conformanceWithRelaxedDurability(_ check: ConformanceCase) async throws {
        try await withSQLiteStore(.init(durability: .lossyOnPowerFailure)) { store, _ in
            try await check.run(store)
        }
    }
}

@Suite("SQLite store: inline documents")
struct SQLiteProjectionConformanceTests {
    @Test(arguments: ProjectionConformance.cases)
    func conformance(_ check: ProjectionConformanceCase) async throws {
        try await withSQLiteStore(.init(projection: CounterProjection())) { store, _ in
            try await check.run(store)
        }
    }

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

@Suite("SQLite store: export and import")
struct SQLiteArchiveTests {
    @Test("an export imported into a fresh store is the same store")
    func roundTrip() async throws {
        try await withTemporaryDirectory { directory in
            try await ArchiveConformance.run {
                try SQLiteEventStore(directory: directory + "/\(UUID().uuidString)", configuration: .init(projection: CounterProjection()), logger: testLogger)
            }
        }
    }
}
