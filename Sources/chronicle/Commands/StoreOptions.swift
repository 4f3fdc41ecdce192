import ArgumentParser
import ChronicleCore
import ChronicleProjections
import ChronicleSQLite
import Foundation
import Logging

/// Options shared by the commands that open a data directory.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The data directory (or set CHRONICLE_DATA).", valueName: "path"))
    var data: String?

    @Flag(name: .long, help: "Print JSON (one object per line) for scripts.")
    var json = false

    var dataDirectory: String {
        data ?? ProcessInfo.processInfo.environment["CHRONICLE_DATA"] ?? "./chronicle-data"
    }

    func openStore(projection: (any Projection)? = nil) throws -> SQLiteEventStore {
        try SQLiteEventStore(directory: dataDirectory, configuration: .init(projection: projection), logger: Self.logger)
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

    /// Runs `body` on the server when one is named, else on the data directory.
    func withStore<T>(_ body: (any CLIStore) async throws -> T) async throws -> T {
        let environment = ProcessInfo.processInfo.environment
        if let server = server ?? environment["CHRONICLE_SERVER"] {
            if store.data != nil {
                throw CommandFailure(message: "--server and --data name two different stores; give one.", exitCode: 64)
            }
            return try await RemoteCLIStore.with(server: server, apiKey: apiKey ?? environment["CHRONICLE_API_KEY"]) { try await body($0) }
        }
        let projection = try schema.map { DeclarativeProjection(schema: try EntitySchema.load(file: $0)) }
        return try await body(LocalCLIStore(store: try store.openStore(projection: projection), projection: projection))
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
