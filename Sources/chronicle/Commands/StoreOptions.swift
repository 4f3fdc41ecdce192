import ArgumentParser
import ChronicleCore
import ChroniclePostgres
import ChronicleProjections
import ChronicleSQLite
import Foundation
import Logging

/// What the operator commands need of a store opened in the process: the log, documents,
/// backup and restore, reactor state. A data directory and a PostgreSQL database both are.
protocol OperatorStore: ProjectionStore, DocumentStore, LogArchive, ReactorStore, PersonalDataStore {
    /// The names of the projections whose documents the store keeps.
    func projectionNames() async throws -> [String]
}

extension SQLiteEventStore: OperatorStore {}
extension PostgresEventStore: OperatorStore {}

/// Options shared by the commands that open a store: a data directory, or a PostgreSQL
/// database with `--postgres`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The data directory (or set CHRONICLE_DATA).", valueName: "path"))
    var data: String?

    @Option(help: ArgumentHelp("A PostgreSQL database instead of a data directory (or set CHRONICLE_POSTGRES_URL): postgres://USER:PASSWORD@HOST:PORT/DATABASE?schema=NAME&sslmode=disable.", valueName: "url"))
    var postgres: String?

    @Flag(name: .long, help: "Print JSON (one object per line) for scripts.")
    var json = false

    @OptionGroup var masterKey: MasterKeyOption

    var dataDirectory: String {
        data ?? ProcessInfo.processInfo.environment["CHRONICLE_DATA"] ?? "./chronicle-data"
    }

    /// The PostgreSQL URL, from `--postgres` or `CHRONICLE_POSTGRES_URL`.
    var postgresURL: String? {
        postgres ?? ProcessInfo.processInfo.environment["CHRONICLE_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Where the store is, for messages: the data directory or the database (without its password).
    var location: String {
        guard let postgresURL else { return dataDirectory }
        return (try? PostgresEventStore.Configuration(url: postgresURL).displayName) ?? "the PostgreSQL database"
    }

    /// Runs `body` with the store: the PostgreSQL database when one is named, else the data
    /// directory. A PostgreSQL store runs (its connection pool) for the duration of `body`.
    /// `needsMasterKey`: the command handles personal data (keys to import) whatever the schema.
    func withStore<T: Sendable>(projection: (any Projection)? = nil, needsMasterKey: Bool = false, _ body: (any OperatorStore) async throws -> T) async throws -> T {
        let needed = needsMasterKey || projection?.declaresPersonalData == true
        guard let url = postgresURL else {
            let key = try masterKey.resolve(dataDirectory: dataDirectory, needed: needed)
            return try await body(try SQLiteEventStore(directory: dataDirectory, configuration: .init(projection: projection, masterKey: key), logger: Self.logger))
        }
        if data != nil {
            throw CommandFailure(message: "--data and --postgres (or CHRONICLE_POSTGRES_URL) name two stores; give one.", exitCode: 64)
        }
        var configuration = try PostgresEventStore.Configuration(url: url)
        configuration.projection = projection
        configuration.maximumConnections = min(configuration.maximumConnections, 4)
        configuration.masterKey = try masterKey.resolve(postgres: configuration.displayName, needed: needed)
        return try await PostgresEventStore.withStore(configuration: configuration, logger: Self.logger) { try await body($0) }
    }

    static let logger: Logger = {
        var logger = Logger(label: "chronicle")
        logger.logLevel = ProcessInfo.processInfo.environment["CHRONICLE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        return logger
    }()
}

/// Options of the data commands that can also work against a running server.
struct DataOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("A running server to use instead of a data directory (or set CHRONICLE_SERVER).", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("The API key for --server (or set CHRONICLE_API_KEY).", valueName: "key"))
    var apiKey: String?

    @Option(help: ArgumentHelp("The entity schema, for entity commands on a data directory.", valueName: "file"))
    var schema: String?

    var json: Bool { store.json }

    /// Runs `body` on the server when one is named, else on the store (data directory or PostgreSQL).
    func withStore<T: Sendable>(_ body: (any CLIStore) async throws -> T) async throws -> T {
        let environment = ProcessInfo.processInfo.environment
        if let server = server ?? environment["CHRONICLE_SERVER"] {
            if store.data != nil || store.postgres != nil {
                throw CommandFailure(message: "--server and --\(store.data != nil ? "data" : "postgres") name two different stores; give one.", exitCode: 64)
            }
            return try await RemoteCLIStore.with(server: server, apiKey: apiKey ?? environment["CHRONICLE_API_KEY"]) { try await body($0) }
        }
        let projection = try schema.map { DeclarativeProjection(schema: try EntitySchema.load(file: $0)) }
        return try await store.withStore(projection: projection) { try await body(LocalCLIStore(store: $0, projection: projection)) }
    }
}

extension StreamName: ExpressibleByArgument {
    /// Parses and validates a stream name given on the command line.
    public init?(argument: String) {
        guard let name = try? StreamName(argument) else { return nil }
        self = name
    }
}

/// Parses a stream name with the store's own message when it is invalid.
func parseStream(_ text: String) throws -> StreamName {
    try StreamName(text)
}

/// One event as a human-readable line.
func humanLine(_ event: RecordedEvent) -> String {
    "\(event.position)\t\(event.stream)@\(event.revision)\t\(Timestamp.iso8601(microseconds: event.recordedAtMicroseconds))\t\(event.type)\t\(event.dataJSON)"
        + (event.tags.isEmpty ? "" : "\t" + event.tags.joined(separator: " "))
}

/// Prints events as NDJSON or human lines.
func printEvents(_ events: [RecordedEvent], json: Bool) {
    for event in events {
        Output.line(json ? event.jsonText : humanLine(event))
    }
}
