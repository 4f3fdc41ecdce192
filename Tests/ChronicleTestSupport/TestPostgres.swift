import ChronicleCore
import ChroniclePostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// The PostgreSQL server the tests use, from the environment (as `.ci/run` sets it):
/// `CHRONICLE_TEST_POSTGRES_URL`, or `CHRONICLE_TEST_POSTGRES_HOST`, `_PORT`, `_USER`,
/// `_PASSWORD`, `_DATABASE`.
///
/// Without them the PostgreSQL tests are skipped, each saying so with ``skipReason``. A value
/// that is set but malformed is a failure that names the variable, never a skip; and with
/// `CHRONICLE_TEST_REQUIRE_POSTGRES=1` (as `.ci/run` sets it, CI always has a server) a
/// missing server is a failure too.
public enum TestPostgres {
    /// What the environment says about the server.
    public enum Setting: Sendable {
        /// No server configured: the PostgreSQL tests are skipped.
        case unset
        /// A server.
        case configured(PostgresEventStore.Configuration)
        /// A variable is set but cannot be used; the message names it and says what is wrong.
        case invalid(String)
    }

    /// The variable under which a missing server is a failure, not a skip.
    public static let requireVariable = "CHRONICLE_TEST_REQUIRE_POSTGRES"

    public static let setting: Setting = setting(from: ProcessInfo.processInfo.environment)

    /// Reads the setting from `environment` (separate from ``setting`` so it can be tested).
    public static func setting(from environment: [String: String]) -> Setting {
        if let url = environment["CHRONICLE_TEST_POSTGRES_URL"], !url.isEmpty {
            do {
                return .configured(try PostgresEventStore.Configuration(url: url))
            } catch let error as ChronicleError {
                return .invalid("CHRONICLE_TEST_POSTGRES_URL is set but malformed: \(error.message)")
            } catch {
                return .invalid("CHRONICLE_TEST_POSTGRES_URL is set but malformed: \(error)")
            }
        }
        guard let host = environment["CHRONICLE_TEST_POSTGRES_HOST"], !host.isEmpty else { return .unset }
        var port = 5432
        if let text = environment["CHRONICLE_TEST_POSTGRES_PORT"], !text.isEmpty {
            guard let number = Int(text), (1...65535).contains(number) else {
                return .invalid("CHRONICLE_TEST_POSTGRES_PORT is set but malformed: \(text.debugDescription) is not a port number (1 to 65535)")
            }
            port = number
        }
        return .configured(PostgresEventStore.Configuration(
            host: host,
            port: port,
            username: environment["CHRONICLE_TEST_POSTGRES_USER"] ?? "postgres",
            password: environment["CHRONICLE_TEST_POSTGRES_PASSWORD"],
            database: environment["CHRONICLE_TEST_POSTGRES_DATABASE"],
            tls: .disable
        ))
    }

    /// Whether `CHRONICLE_TEST_REQUIRE_POSTGRES=1` makes a missing server a failure.
    public static let isRequired: Bool = ProcessInfo.processInfo.environment[requireVariable] == "1"

    public static var configuration: PostgresEventStore.Configuration? {
        if case .configured(let configuration) = setting { configuration } else { nil }
    }

    public static var isConfigured: Bool { configuration != nil }

    /// The server as a URL for a child process (`chronicle --postgres`), from
    /// `CHRONICLE_TEST_POSTGRES_URL` or the `CHRONICLE_TEST_POSTGRES_HOST/PORT/…` variables.
    public static var url: String? {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["CHRONICLE_TEST_POSTGRES_URL"], !url.isEmpty { return url }
        guard let host = environment["CHRONICLE_TEST_POSTGRES_HOST"], !host.isEmpty else { return nil }
        var components = URLComponents()
        components.scheme = "postgres"
        components.host = host
        components.port = Int(environment["CHRONICLE_TEST_POSTGRES_PORT"] ?? "") ?? 5432
        components.user = environment["CHRONICLE_TEST_POSTGRES_USER"] ?? "postgres"
        components.password = environment["CHRONICLE_TEST_POSTGRES_PASSWORD"]
        components.path = "/" + (environment["CHRONICLE_TEST_POSTGRES_DATABASE"] ?? "postgres")
        components.queryItems = [URLQueryItem(name: "sslmode", value: "disable")]
        return components.string
    }

    /// Whether no variable names a server at all.
    public static var isUnset: Bool {
        if case .unset = setting { true } else { false }
    }

    public static let skipReason: Comment = "no PostgreSQL server: set CHRONICLE_TEST_POSTGRES_URL (or CHRONICLE_TEST_POSTGRES_HOST/PORT/USER/PASSWORD/DATABASE) to run these tests; .ci/run starts one"

    /// Why the PostgreSQL tests cannot run although they should: a malformed variable, or
    /// no server under `CHRONICLE_TEST_REQUIRE_POSTGRES=1`.
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Whether the PostgreSQL tests run: `true` with a server, `false` (skipped) without one;
    /// throws ``Unusable`` when a variable is malformed, or when none is set under
    /// `CHRONICLE_TEST_REQUIRE_POSTGRES=1`.
    public static func shouldRun(_ setting: Setting = setting, required: Bool = isRequired) throws -> Bool {
        switch setting {
        case .configured: return true
        case .invalid(let message): throw Unusable(description: message)
        case .unset:
            if required {
                throw Unusable(description: "\(requireVariable)=1 but no PostgreSQL server is configured: set CHRONICLE_TEST_POSTGRES_URL (or CHRONICLE_TEST_POSTGRES_HOST/PORT/USER/PASSWORD/DATABASE)")
            }
            return false
        }
    }

    /// The trait of every PostgreSQL suite or test: runs with a server, skipped (saying
    /// why) without one, a failure when the configuration is malformed or required and missing.
    public static var enabled: ConditionTrait {
        .enabled(skipReason) { try shouldRun() }
    }

    /// The server's configuration, for a test that runs under ``enabled``; throws
    /// ``Unusable`` (saying why) when there is none.
    public static func requireConfiguration() throws -> PostgresEventStore.Configuration {
        guard try shouldRun(), let configuration else {
            throw Unusable(description: "a PostgreSQL test ran without a server (give it the TestPostgres.enabled trait): \(skipReason)")
        }
        return configuration
    }

    /// A configuration for a fresh schema of its own, with few connections (tests run in parallel).
    ///
    /// A caller waits up to 30 s for a pooled connection, not the default 10: the whole suite
    /// runs in one process on two cores, beside a PostgreSQL whose checkpoints hold commits
    /// for seconds, and there eight concurrent callers of a pool of four waited over 10 s
    /// (about 1 full run in 7; the error said the store held one connection then, taken
    /// under 0.1 s before, with four callers waiting: the pool was slow to hand connections
    /// out, not holding them). The CLI tests run nodes with the 10 s default.
    public static func freshConfiguration(maximumConnections: Int = 4) -> PostgresEventStore.Configuration {
        var configuration = configuration!
        configuration.schema = "chronicle_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        configuration.maximumConnections = maximumConnections
        configuration.connectTimeout = .seconds(30)
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

extension TestPostgres {
    /// Runs `body` with the schema `configuration` names (a fresh one by default), then drops
    /// the schema, whether `body` succeeded or threw (its error, not the drop's, is thrown).
    public static func withFreshSchema<T>(
        _ configuration: PostgresEventStore.Configuration = freshConfiguration(),
        _ body: (PostgresEventStore.Configuration) async throws -> T
    ) async throws -> T {
        let schema = configuration.schema!
        do {
            let result = try await body(configuration)
            try await dropSchema(schema)
            return result
        } catch {
            try? await dropSchema(schema)
            throw error
        }
    }
}

/// A store on a fresh schema, running for the duration of `body`; the schema is dropped after.
public func withPostgresStore<T: Sendable>(
    _ configuration: PostgresEventStore.Configuration = TestPostgres.freshConfiguration(),
    _ body: (PostgresEventStore) async throws -> T
) async throws -> T {
    try await TestPostgres.withFreshSchema(configuration) { configuration in
        try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger, body)
    }
}
