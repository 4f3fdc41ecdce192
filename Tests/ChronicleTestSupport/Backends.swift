import ChronicleCore
import ChroniclePostgres
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

extension SQLiteBackend {
    /// Two stores on one data directory, as a server and the CLI are, with one master key.
    public func withTwoStores(projection: any Projection, _ body: (ConformanceStore, ConformanceStore) async throws -> Void) async throws {
        var configuration = SQLiteEventStore.Configuration(durability: durability)
        configuration.projection = projection
        configuration.masterKey = .random()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-tests-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try SQLiteEventStore(directory: directory + "/data", configuration: configuration, logger: testLogger)
        try await body(first, try SQLiteEventStore(directory: directory + "/data", configuration: configuration, logger: testLogger))
    }
}

extension PostgresBackend {
    /// Two stores on one schema, as two nodes are, with one master key.
    public func withTwoStores(projection: any Projection, _ body: (ConformanceStore, ConformanceStore) async throws -> Void) async throws {
        var configuration = TestPostgres.freshConfiguration()
        configuration.projection = projection
        configuration.masterKey = .random()
        try await withPostgresStore(configuration) { first in
            try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger) { second in
                try await body(first, second)
            }
        }
    }
}
