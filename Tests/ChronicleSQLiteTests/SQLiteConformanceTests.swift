import ChronicleCore
import ChronicleSQLite
import ChronicleTesting
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
