import ChronicleCore
import ChronicleSQLite
import ChronicleTestSupport
import Foundation
import Logging

/// A fresh directory under the system's temporary directory, removed after `body`.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("chronicle-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}



/// A fresh SQLite store in its own temporary directory.
func withSQLiteStore<T>(
    _ configuration: SQLiteEventStore.Configuration = .init(),
    _ body: (SQLiteEventStore, String) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
        let store = try SQLiteEventStore(directory: directory + "/data", configuration: configuration, logger: testLogger)
        return try await body(store, directory + "/data")
    }
}
