import ChronicleCore
import Logging
import PostgresNIO

extension PostgresEventStore {
    /// Whether the connection can still take a `ROLLBACK` after `error`: not after the
    /// server ended the session (a `FATAL` error, such as `pg_terminate_backend`) or the
    /// connection broke. A query sent then may never be answered.
    static func connectionSurvives(_ error: any Error) -> Bool {
        if error is ConnectionClosed { return false }
        guard let psql = error as? PSQLError else { return true }
        if let info = psql.serverInfo {
            let severity = info[.severity] ?? info[.localizedSeverity] ?? ""
            return severity != "FATAL" && severity != "PANIC"
        }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .poolClosed:
            return false
        default:
            return true
        }
    }

    /// Maps PostgresNIO errors to ``ChronicleError``s that say what to do.
    ///
    /// A lost or refused connection is ``ChronicleError/Code/storageFailure``, which the HTTP
    /// layer answers with `503 Service Unavailable` and `Retry-After`: the client retries, and
    /// since appends are idempotent by event id, a retry never stores an event twice.
    static func storageError(_ error: any Error, doing what: String, configuration: Configuration) -> ChronicleError {
        if let error = error as? ChronicleError { return error }
        if error is ConnectionClosed {
            return ChronicleError(.storageFailure, "Could not \(what): the connection to PostgreSQL at \(configuration.displayName) was closed (the server ended it, or restarted). Retry.", cause: error)
        }
        if let transaction = error as? PostgresTransactionError {
            if let inner = transaction.beginError ?? transaction.closureError ?? transaction.commitError {
                return storageError(inner, doing: what, configuration: configuration)
            }
        }
        let server = configuration.displayName
        guard let psql = error as? PSQLError else {
            return ChronicleError(.storageFailure, "Could not \(what): cannot use PostgreSQL at \(server) (\(String(reflecting: error))). Check that the server is running and reachable.", cause: error)
        }
        guard let info = psql.serverInfo else {
            let detail = psql.underlying.map { String(describing: $0) } ?? psql.code.description
            switch psql.code {
            case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .poolClosed:
                return ChronicleError(.storageFailure, "Could not \(what): the connection to PostgreSQL at \(server) failed or was lost (\(detail)). Check that the server is running and reachable, then retry.", cause: error)
            case .sslUnsupported:
                return ChronicleError(.storageFailure, "Could not \(what): PostgreSQL at \(server) does not offer TLS, and the configuration requires it. Enable TLS on the server or use sslmode=prefer.", cause: error)
            case .authMechanismRequiresPassword, .unsupportedAuthMechanism, .saslError:
                return ChronicleError(.storageFailure, "Could not \(what): PostgreSQL at \(server) refused the login (\(psql.code)). Check the user and password in the URL.", cause: error)
            default:
                return ChronicleError(.storageFailure, "Could not \(what): PostgreSQL client error \(psql.code) (\(detail)).", cause: error)
            }
        }
        let state = info[.sqlState] ?? ""
        let message = info[.message] ?? ""
        switch state {
        case "53100":
            return ChronicleError(.storageFull, "The PostgreSQL server's disk is full, so nothing was written (\(what)). Free space on the server; everything stored before is intact.", cause: error)
        case "28P01", "28000":
            return ChronicleError(.storageFailure, "Could not \(what): PostgreSQL at \(server) refused the login (\(message)). Check the user and password in the URL.", cause: error)
        case "3D000":
            return ChronicleError(.storageFailure, "Could not \(what): \(message) on \(server). Create it first (createdb), or name an existing database in the URL.", cause: error)
        case "42P07":
            return ChronicleError(.incompatibleStorage, "Could not \(what): the schema already has a table Chronicle needs (\(message)), not made by Chronicle. Use an empty database or another schema (?schema=chronicle).", cause: error)
        case "42501":
            return ChronicleError(.storageFailure, "Could not \(what): the PostgreSQL user lacks a privilege (\(message)). Grant it, or connect as the owner of the database.", cause: error)
        case let state where state.hasPrefix("08") || state.hasPrefix("57P"):
            return ChronicleError(.storageFailure, "Could not \(what): the connection to PostgreSQL at \(server) was lost (\(message)). Retry when the server is back.", cause: error)
        default:
            return ChronicleError(.storageFailure, "Could not \(what): PostgreSQL error \(state): \(message).", cause: error)
        }
    }
}

/// Thrown instead of sending a query on a connection that is already closed.
struct ConnectionClosed: Error {}

extension PostgresConnection {
    /// Runs a query, refusing at once on a closed connection: PostgresNIO drops a query
    /// written to a closed channel without answering it, and the caller would wait for ever.
    /// (The pool can hand out a connection the server has just terminated, before it learns
    /// that it closed.)
    @discardableResult
    func run(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        if isClosed { throw ConnectionClosed() }
        return try await self.query(query, logger: logger, file: file, line: line)
    }

    /// Runs a statement prepared once per connection (parsed and planned once, not at each
    /// commit), refusing at once on a closed connection like ``run(_:logger:file:line:)``.
    func run<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> [Statement.Row] {
        if isClosed { throw ConnectionClosed() }
        var rows: [Statement.Row] = []
        for try await row in try await execute(statement, logger: logger, file: file, line: line) { rows.append(row) }
        return rows
    }
}
