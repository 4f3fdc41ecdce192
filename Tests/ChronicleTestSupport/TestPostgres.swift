import ChronicleCore
import ChroniclePostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// The PostgreSQL server the tests use, from the environment (as `.ci/run` sets it):
/// `CHRONICLE_TEST_POSTGRES_URL`, or `CHRONICLE_TEST_POSTGRES_HOST`, `_PORT`, `_USER`,
/// `_PASSWORD`, `_DATABASE`. Without them the PostgreSQL suites are skipped.
public enum TestPostgres {
    public static let configuration: PostgresEventStore.Configuration? = {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["CHRONICLE_TEST_POSTGRES_URL"], !url.isEmpty {
            return try? PostgresEventStore.Configuration(url: url)
        }
        guard let host = environment["CHRONICLE_TEST_POSTGRES_HOST"], !host.isEmpty else { return nil }
        return PostgresEventStore.Configuration(
            host: host,
            port: environment["CHRONICLE_TEST_POSTGRES_PORT"].flatMap(Int.init) ?? 5432,
            username: environment["CHRONICLE_TEST_POSTGRES_USER"] ?? "postgres",
            password: environment["CHRONICLE_TEST_POSTGRES_PASSWORD"],
            database: environment["CHRONICLE_TEST_POSTGRES_DATABASE"],
            tls: .disable
        )
    }()

    public static var isConfigured: Bool { configuration != nil }

    public static let skipReason: Comment = "no PostgreSQL server: set CHRONICLE_TEST_POSTGRES_URL (or CHRONICLE_TEST_POSTGRES_HOST/PORT/USER/PASSWORD/DATABASE) to run these tests; .ci/run starts one"

    /// A configuration for a fresh schema of its own, with few connections (tests run in parallel).
    public static func freshConfiguration(maximumConnections: Int = 4) -> PostgresEventStore.Configuration {
        var configuration = configuration!
        configuration.schema = "chronicle_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        configuration.maximumConnections = maximumConnections
        configuration.pollInterval = .milliseconds(200)
        return configuration
    }

    /// Runs `body` on a connection of its own to the test server, with `search_path` set to `schema`.
    @discardableResult
    public static func withConnection<T>(schema: String? = nil, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let base = configuration!
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: base.host, port: base.port, username: base.username, password: base.password, database: base.database, tls: .disable),
            id: 1, logger: testLogger
        )
        do {
            if let schema {
                try await connection.query(PostgresQuery(unsafeSQL: "SET search_path TO \"\(schema)\""), logger: testLogger)
            }
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    public static func dropSchema(_ schema: String) async throws {
        try await withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"), logger: testLogger)
        }
    }
}

public let testLogger: Logger = {
    var logger = Logger(label: "chronicle.tests")
    logger.logLevel = .critical
    return logger
}()

/// A store on a fresh schema, running for the duration of `body`; the schema is dropped after.
public func withPostgresStore<T: Sendable>(
    _ configuration: PostgresEventStore.Configuration = TestPostgres.freshConfiguration(),
    _ body: (PostgresEventStore) async throws -> T
) async throws -> T {
    do {
        let result = try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger, body)
        try await TestPostgres.dropSchema(configuration.schema!)
        return result
    } catch {
        try? await TestPostgres.dropSchema(configuration.schema!)
        throw error
    }
}
