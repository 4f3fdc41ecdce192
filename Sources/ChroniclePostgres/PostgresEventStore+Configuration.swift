import ChronicleCore
import Foundation
import PostgresNIO

extension PostgresEventStore {
    /// How a ``PostgresEventStore`` connects to its database.
    ///
    /// ```swift
    /// let configuration = try PostgresEventStore.Configuration(url: "postgres://chronicle@127.0.0.1:5432/chronicle")
    /// ```
    public struct Configuration: Sendable {
        /// The host name or IP address of the server.
        public var host: String
        /// The server's TCP port. Default 5432.
        public var port: Int
        /// The user to connect as.
        public var username: String
        /// The user's password; `nil` for none (trust or peer authentication).
        public var password: String?
        /// The database; `nil` for the user's default database (named like the user).
        public var database: String?
        /// The schema that holds Chronicle's tables, created on start if missing; `nil` for the
        /// user's default `search_path` (normally `public`). Several Chronicle stores can share
        /// one database in separate schemas: each has its own log and its own write lock.
        public var schema: String?
        /// Whether to use TLS. Default ``TLSMode/prefer``: TLS when the server offers it.
        public var tls: TLSMode
        /// Limits on appends.
        public var limits: EventStoreLimits
        /// The most appends committed together in one transaction.
        public var maximumBatchSize: Int
        /// The most connections in the store's pool (one writes, the rest read); the store
        /// opens one more, for `LISTEN`.
        public var maximumConnections: Int
        /// How long to wait for a connection to the server (a new one, or one of the pool's)
        /// before giving up: when the server is down or unreachable, writes and reads fail
        /// after this long with ``ChronicleError/Code/storageFailure`` (HTTP `503`) instead of
        /// waiting for it to come back. `connect_timeout` (seconds) in the URL.
        public var connectTimeout: Duration
        /// How often the store reads the head position even without a notification, while
        /// anyone waits for a commit: the bound on how late a commit is seen if a
        /// notification is lost (for example while the `LISTEN` connection reconnects).
        /// One read per interval for the whole store, however many subscribers wait.
        public var pollInterval: Duration
        /// A projection whose documents are kept inline: written in the same transaction as
        /// the events (under the write lock), so a read right after an append sees it, and
        /// append rules (`require`, `unique`) are checked against current documents. Changing
        /// its definition rebuilds its documents when the store opens.
        public var projection: (any Projection)?
        /// When the projection is applied: in the append's transaction (default), in the
        /// background by a `ProjectionRunner` from a checkpoint (``ProjectionLifecycle/async``),
        /// or never stored but folded from the entity's stream on each read
        /// (``ProjectionLifecycle/live``).
        public var lifecycle: ProjectionLifecycle
        /// More projections kept beside ``projection``, each with its own lifecycle,
        /// documents, checkpoint and rebuild (see ``projections``).
        public var additionalProjections: [ProjectionRegistration]
        /// Every how many versions of an entity its document is also kept as a snapshot, so
        /// that time travel folds at most this many events; 0 keeps none. Default 100.
        public var snapshotInterval: Int
        /// The key that wraps the subject keys of personal fields (``PersonalData``); needed
        /// when a projection declares personal fields or the database holds subject keys.
        public var masterKey: MasterKey?

        /// TLS use.
        public enum TLSMode: String, Sendable, CaseIterable {
            /// Never use TLS (`sslmode=disable`).
            case disable
            /// Use TLS if the server offers it (`sslmode=prefer`, the default).
            case prefer
            /// Refuse to connect without TLS (`sslmode=require`); the certificate is verified.
            case require
        }

        /// Creates a configuration; only the connection settings have no default.
        public init(
            host: String,
            port: Int = 5432,
            username: String,
            password: String? = nil,
            database: String? = nil,
            schema: String? = nil,
            tls: TLSMode = .prefer,
            limits: EventStoreLimits = EventStoreLimits(),
            maximumBatchSize: Int = 512,
            maximumConnections: Int = 10,
            connectTimeout: Duration = .seconds(10),
            pollInterval: Duration = .milliseconds(500),
            projection: (any Projection)? = nil,
            lifecycle: ProjectionLifecycle = .inline,
            additionalProjections: [ProjectionRegistration] = [],
            snapshotInterval: Int = 100,
            masterKey: MasterKey? = nil
        ) {
            self.masterKey = masterKey
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.schema = schema
            self.tls = tls
            self.limits = limits
            self.maximumBatchSize = max(1, maximumBatchSize)
            self.maximumConnections = max(2, maximumConnections)
            self.connectTimeout = connectTimeout
            self.pollInterval = pollInterval
            self.projection = projection
            self.lifecycle = lifecycle
            self.additionalProjections = additionalProjections
            self.snapshotInterval = max(0, snapshotInterval)
        }

        /// Every projection the store keeps: ``projection`` (the primary one) first, then
        /// ``additionalProjections``.
        public var projections: [ProjectionRegistration] {
            ProjectionRegistration.list(primary: projection, lifecycle: lifecycle, additional: additionalProjections)
        }

        /// Parses a connection URL: `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?sslmode=disable|prefer|require&schema=NAME]`
        /// (`postgresql://` works too). User and password may be percent-encoded.
        ///
        /// - Throws: ``ChronicleError/Code/invalidInput`` naming what is wrong with the URL.
        public init(url text: String) throws {
            func invalid(_ why: String) -> ChronicleError {
                ChronicleError(.invalidInput, "The PostgreSQL URL \(Self.redacted(text).debugDescription) is not valid: \(why). Use postgres://USER:PASSWORD@HOST:PORT/DATABASE.")
            }
            guard let components = URLComponents(string: text) else { throw invalid("it is not a URL") }
            guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
                throw invalid("the scheme must be postgres:// or postgresql://")
            }
            guard let host = components.host, !host.isEmpty else { throw invalid("it names no host") }
            guard let user = components.user?.removingPercentEncoding, !user.isEmpty else { throw invalid("it names no user") }
            if let port = components.port, !(1...65535).contains(port) { throw invalid("port \(port) is out of range") }
            let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            if path.contains("/") { throw invalid("the path must be only a database name") }
            self.init(
                host: host, port: components.port ?? 5432, username: user,
                password: components.password?.removingPercentEncoding,
                database: path.isEmpty ? nil : path.removingPercentEncoding
            )
            for item in components.queryItems ?? [] {
                switch item.name {
                case "sslmode":
                    switch item.value {
                    case "disable": tls = .disable
                    case "allow", "prefer": tls = .prefer
                    case "require", "verify-ca", "verify-full": tls = .require
                    default: throw invalid("sslmode must be disable, prefer or require")
                    }
                case "schema":
                    guard let value = item.value, !value.isEmpty else { throw invalid("schema is empty") }
                    schema = value
                case "connect_timeout":
                    guard let value = item.value.flatMap(Double.init), value > 0 else { throw invalid("connect_timeout must be a number of seconds above 0") }
                    connectTimeout = .milliseconds(Int64(value * 1000))
                default:
                    throw invalid("unknown parameter \(item.name.debugDescription) (known: sslmode, schema, connect_timeout)")
                }
            }
        }

        /// The URL with its password replaced by `***`, for messages and logs.
        static func redacted(_ url: String) -> String {
            guard var components = URLComponents(string: url), components.password != nil else { return url }
            components.password = "***"
            return components.string ?? url
        }

        /// The PostgresNIO client configuration this stands for (same server, login, schema), for
        /// tools that talk to the same database directly.
        public var clientConfiguration: PostgresClient.Configuration {
            var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: clientTLS)
            configuration.options.maximumConnections = maximumConnections
            configuration.options.connectTimeout = connectTimeout
            configuration.options.additionalStartupParameters = startupParameters
            // No keep-alive pings on idle pooled connections: PostgresNIO (1.33) starts a
            // ping in a task of its own after deciding to, and a ping that starts after the
            // pool closed its connection (as the pool does when it shuts down) is written to
            // a channel already torn down and never answered; the pool's run() then waits for
            // it for ever, and so does the store's. Idle connections close after the pool's
            // idle timeout instead, and one the server closes leaves the pool when it does.
            configuration.options.keepAliveBehavior = nil
            return configuration
        }

        func connectionConfiguration() throws -> PostgresConnection.Configuration {
            var configuration = PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: try connectionTLS())
            configuration.options.connectTimeout = .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000 + connectTimeout.components.attoseconds / 1_000_000_000)
            configuration.options.additionalStartupParameters = startupParameters
            return configuration
        }

        private var startupParameters: [(String, String)] {
            guard let schema else { return [("application_name", "chronicle")] }
            return [("application_name", "chronicle"), ("search_path", Self.quoted(schema))]
        }

        private var clientTLS: PostgresClient.Configuration.TLS {
            switch tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        }

        private func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
            switch tls {
            case .disable: return .disable
            case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        }

        /// A SQL identifier, quoted.
        static func quoted(_ identifier: String) -> String {
            "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }

        /// Where the store connects, without the password, for messages.
        public var displayName: String {
            "\(username)@\(host):\(port)/\(database ?? username)\(schema.map { " (schema \($0))" } ?? "")"
        }
    }
}
