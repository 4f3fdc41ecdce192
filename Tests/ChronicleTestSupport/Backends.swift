import ChronicleCore
import ChronicleSQLite
import ChronicleTesting
import Foundation
import Testing

/// A fresh SQLite file per store (in its own temporary directory, removed after), with the
/// given durability.
public struct SQLiteBackend: ConformanceBackend, CustomTestStringConvertible {
    /// The store's durability.
    public var durability: SQLiteEventStore.Configuration.Durability

    /// Creates the backend.
    public init(durability: SQLiteEventStore.Configuration.Durability = .full) {
        self.durability = durability
    }

    public var testDescription: String { "SQLite (\(durability.rawValue))" }

    public func withStore(projections: [ProjectionRegistration], _ body: (ConformanceStore) async throws -> Void) async throws {
        var configuration = SQLiteEventStore.Configuration(durability: durability)
        configuration.projection = projections.first?.projection
        configuration.lifecycle = projections.first?.lifecycle ?? .inline
        configuration.additionalProjections = Array(projections.dropFirst())
        configuration.masterKey = projections.contains { $0.projection.declaresPersonalData } ? .random() : nil
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-tests-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(try SQLiteEventStore(directory: directory + "/data", configuration: configuration, logger: testLogger))
    }
}

/// A fresh PostgreSQL schema per store, dropped after (the server from ``TestPostgres``).
public struct PostgresBackend: ConformanceBackend {
    /// Creates the backend.
    public init() {}

    public func withStore(projections: [ProjectionRegistration], _ body: (ConformanceStore) async throws -> Void) async throws {
        var configuration = TestPostgres.freshConfiguration()
        configuration.projection = projections.first?.projection
        configuration.lifecycle = projections.first?.lifecycle ?? .inline
        configuration.additionalProjections = Array(projections.dropFirst())
        configuration.masterKey = projections.contains { $0.projection.declaresPersonalData } ? .random() : nil
        try await withPostgresStore(configuration) { try await body($0) }
    }
}
