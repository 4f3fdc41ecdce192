import ArgumentParser
import ChronicleCore
import AsyncHTTPClient
import ChronicleProjections
import ChronicleReactors
import ChroniclePostgres
import ChronicleServer
import ChronicleSQLite
import Foundation
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP server on the embedded store (or on PostgreSQL with --postgres).",
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

    @Option(help: ArgumentHelp("A PostgreSQL database to use instead of a data directory, shared by any number of nodes (or set CHRONICLE_POSTGRES_URL): postgres://USER:PASSWORD@HOST:PORT/DATABASE?schema=NAME&sslmode=disable.", valueName: "url"))
    var postgres: String?

    @Option(help: "How long a node's lease on a reactor or an asynchronous projection lasts unless renewed, such as 6s: when a node dies, another takes its work over within about this long.")
    var leaseDuration: String = "6s"

    @Option(help: "When the schema's documents are updated: inline (in the append's transaction, default), async (in the background), or live (never stored: folded on each read).")
    var lifecycle: String = "inline"

    @OptionGroup var masterKey: MasterKeyOption

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
        guard let lease = Self.duration(leaseDuration), lease >= .milliseconds(300) else {
            throw CommandFailure(message: "--lease-duration must be a duration of at least 300ms, such as 6s or 1500ms; got \(leaseDuration.debugDescription).", exitCode: 64)
        }
        let leaseOptions = LeaseOptions(duration: lease)
        if let projection, lifecycle != .inline,
           projection.schema.entities.values.contains(where: { !$0.unique.isEmpty || !$0.requirements.isEmpty }) {
            throw CommandFailure(message: "the schema has require: or unique: rules, which are checked against documents kept inline; use --lifecycle inline.", exitCode: 64)
        }
        if let url = postgres ?? ProcessInfo.processInfo.environment["CHRONICLE_POSTGRES_URL"].flatMap({ $0.isEmpty ? nil : $0 }) {
            if data != nil { throw CommandFailure(message: "--data and --postgres name two stores; give one.", exitCode: 64) }
            // A schema with only reactors (entities: {}) keeps no documents.
            let documents = projection.flatMap { $0.schema.entities.isEmpty ? nil : $0 }
            var configuration = try PostgresEventStore.Configuration(url: url)
            configuration.projection = documents
            configuration.lifecycle = lifecycle
            configuration.masterKey = try masterKey.resolve(postgres: configuration.displayName, needed: documents?.declaresPersonalData == true)
            let store = try await PostgresEventStore(configuration: configuration, logger: logger)
            try await serve(store: store, description: configuration.displayName, settings: settings, reactorSchema: projection?.schema, lease: leaseOptions, logger: logger, storeServices: [store], storeSize: { nil })
            return
        }
        let key = try masterKey.resolve(dataDirectory: directory, needed: projection?.declaresPersonalData == true)
        let store = try SQLiteEventStore(directory: directory, configuration: .init(durability: durability, projection: projection, lifecycle: lifecycle, masterKey: key), logger: logger)
        let path = store.path
        try await serve(store: store, description: directory, settings: settings, reactorSchema: projection?.schema, lease: leaseOptions, logger: logger, storeServices: [], storeSize: { Self.fileSize(path) })
    }

    /// Serves `store` with its projections (the schema's read models, if it keeps documents)
    /// and the schema's reactors, until SIGINT or SIGTERM.
    private func serve(
        store: some ReactorStore & ProjectionStore, description: String, settings: ChronicleServer.Configuration,
        reactorSchema: EntitySchema?, lease: LeaseOptions, logger: Logger,
        storeServices: [any Service], storeSize: @escaping @Sendable () -> Int64?
    ) async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let reactors = (reactorSchema?.reactors ?? [:]).sorted { $0.key < $1.key }.map { name, definition in
            Reactor(
                name: name, filter: LogFilter(types: Set(definition.types)), startsAtBeginning: definition.fromBeginning,
                maximumAttempts: definition.attempts, backoff: definition.backoff, concurrency: definition.concurrency,
                handler: Webhook(url: definition.url, timeout: definition.timeout, secret: definition.secret).handler(client: http)
            )
        }
        let host = settings.host
        let server = ChronicleServer(
            store: store, configuration: settings, logger: logger,
            projections: store.projectionViews,
            reactors: reactors,
            storeSize: storeSize,
            onListening: { port in
                Output.progress("Chronicle is serving http://\(host):\(port) on \(description) (press Ctrl-C to stop)")
            }
        )
        // The store's own services first: the group stops services in reverse order.
        var services: [any Service] = storeServices + [server]
        for view in store.projectionViews where view.lifecycle == .async {
            services.append(ProjectionRunner(store: view, logger: logger, lease: lease))
        }
        for reactor in reactors {
            services.append(ReactorRunner(store: store, reactor: reactor, logger: logger, lease: lease))
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

    /// `6s`, `1500ms`, `0.5s`.
    static func duration(_ text: String) -> Duration? {
        var text = text.trimmingCharacters(in: .whitespaces)
        var scale = 1000.0
        if text.hasSuffix("ms") { text.removeLast(2); scale = 1 } else if text.hasSuffix("s") { text.removeLast() } else { return nil }
        guard let value = Double(text), value > 0, value < 86_400_000 else { return nil }
        return .milliseconds(Int64(value * scale))
    }

    static func fileSize(_ path: String) -> Int64? {
        let sizes = ["", "-wal", "-shm"].compactMap { suffix in
            (try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? Int64
        }
        return sizes.isEmpty ? nil : sizes.reduce(0, +)
    }
}
