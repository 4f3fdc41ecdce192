import ArgumentParser
import ChronicleCore
import AsyncHTTPClient
import ChronicleProjections
import ChronicleReactors
import ChronicleServer
import ChronicleSQLite
import Foundation
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP server on the embedded store.",
        discussion: """
            Serves the API on http://127.0.0.1:8080 by default, on the store in ./chronicle-data. \
            Settings (API keys, limits) come from --config FILE (YAML) and CHRONICLE_API_KEYS=role:key,…; \
            without keys the server only listens on loopback. Stops gracefully on SIGINT or SIGTERM.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The data directory (or set CHRONICLE_DATA).", valueName: "path"))
    var data: String?

    @Option(help: ArgumentHelp("A YAML file with server settings.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("A YAML schema declaring entities (read models served at /v1/entities).", valueName: "file"))
    var schema: String?

    @Option(help: "The address to listen on (default 127.0.0.1, or the config file's).")
    var host: String?

    @Option(help: "The port (default 8080, or the config file's; 0 picks a free one).")
    var port: Int?

    @Option(help: "full (fsync every commit, default) or lossy-on-power-failure.")
    var durability: String = "full"

    @Option(help: "When the schema's documents are updated: inline (in the append's transaction, default), async (in the background), or live (never stored: folded on each read).")
    var lifecycle: String = "inline"

    func run() async throws {
        guard let durability = SQLiteEventStore.Configuration.Durability(rawValue: durability) else {
            throw CommandFailure(message: "--durability must be full or lossy-on-power-failure.", exitCode: 64)
        }
        guard let lifecycle = ProjectionLifecycle(rawValue: lifecycle) else {
            throw CommandFailure(message: "--lifecycle must be inline, async or live.", exitCode: 64)
        }
        var settings = try ChronicleServer.Configuration.load(file: config)
        if let host { settings.host = host }
        if let port { settings.port = port }
        try settings.validate()
        var logger = Logger(label: "chronicle")
        logger.logLevel = ProcessInfo.processInfo.environment["CHRONICLE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let directory = data ?? ProcessInfo.processInfo.environment["CHRONICLE_DATA"] ?? "./chronicle-data"
        let projection = try schema.map { DeclarativeProjection(schema: try EntitySchema.load(file: $0)) }
        if let projection, lifecycle != .inline,
           projection.schema.entities.values.contains(where: { !$0.unique.isEmpty || !$0.requirements.isEmpty }) {
            throw CommandFailure(message: "the schema has require: or unique: rules, which are checked against documents kept inline; use --lifecycle inline.", exitCode: 64)
        }
        let store = try SQLiteEventStore(directory: directory, configuration: .init(durability: durability, projection: projection, lifecycle: lifecycle), logger: logger)
        let path = store.path
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let reactors = (projection?.schema.reactors ?? [:]).sorted { $0.key < $1.key }.map { name, definition in
            Reactor(
                name: name, filter: LogFilter(types: Set(definition.types)), startsAtBeginning: definition.fromBeginning,
                maximumAttempts: definition.attempts, backoff: definition.backoff, concurrency: definition.concurrency,
                handler: Webhook(url: definition.url, timeout: definition.timeout, secret: definition.secret).handler(client: http)
            )
        }
        let host = settings.host
        let server = ChronicleServer(
            store: store, configuration: settings, logger: logger,
            documents: projection == nil ? nil : store, projection: projection, lifecycle: lifecycle,
            reactors: reactors,
            storeSize: { Self.fileSize(path) },
            onListening: { port in
                Output.progress("Chronicle is serving http://\(host):\(port) on \(directory) (press Ctrl-C to stop)")
            }
        )
        var services: [any Service] = [server]
        if projection != nil && lifecycle == .async {
            services.append(ProjectionRunner(store: store, logger: logger))
        }
        for reactor in reactors {
            services.append(ReactorRunner(store: store, reactor: reactor, logger: logger))
        }
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = settings.shutdownGracePeriod
        do {
            try await ServiceGroup(configuration: group).run()
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
        Output.progress("Chronicle stopped.")
    }

    static func fileSize(_ path: String) -> Int64? {
        let sizes = ["", "-wal", "-shm"].compactMap { suffix in
            (try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? Int64
        }
        return sizes.isEmpty ? nil : sizes.reduce(0, +)
    }
}
