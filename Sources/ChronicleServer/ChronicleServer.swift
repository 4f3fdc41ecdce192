import ChronicleCore
import ChronicleReactors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle

/// The Chronicle HTTP server: the event-store API over HTTP, Server-Sent Events and
/// WebSocket, as a `Service` to run in a `ServiceGroup`.
///
/// ```swift
/// let server = ChronicleServer(store: store, configuration: .init(port: 8080), logger: logger)
/// let group = ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
/// try await group.run()
/// ```
///
/// On graceful shutdown it stops accepting connections, lets in-flight appends finish,
/// tells every subscriber where to resume (an SSE `shutdown` event, a WebSocket close with
/// code 1001), and returns.
public struct ChronicleServer: Service {
    let store: any EventStore
    let configuration: Configuration
    let logger: Logger
    /// The server's metrics (rendered at `/metrics`).
    public let metrics: ServerMetrics
    let storeSize: @Sendable () -> Int64?
    /// The projections served under `/v1/entities` and `/v1/projections`, the primary first.
    let projections: [EntityReads]
    let reactors: [Reactor]
    let onListening: @Sendable (Int) async -> Void
    let shutdown = CommitNotifier()

    /// Creates a server.
    ///
    /// - Parameters:
    ///   - documents: where the primary projection's documents are read (usually the store).
    ///   - projection: the primary projection, for time travel and history (`/v1/entities`).
    ///   - lifecycle: how the store applies it (shown in `/v1/projections`).
    ///   - projections: more projections to serve (`?projection=NAME` on entity routes), such
    ///     as a ``ProjectionStore``'s ``ProjectionStore/projectionViews``; a view named like
    ///     the primary projection is that projection.
    ///   - reactors: the reactors running on the store (shown in `/v1/reactors`; their handlers
    ///     serve retries of parked events).
    ///   - storeSize: reports the store's size on disk for `/metrics`, if known.
    ///   - onListening: called with the bound port once the server accepts connections.
    public init(
        store: any EventStore,
        configuration: Configuration,
        logger: Logger,
        metrics: ServerMetrics = ServerMetrics(),
        documents: (any DocumentStore)? = nil,
        projection: (any Projection)? = nil,
        lifecycle: ProjectionLifecycle = .inline,
        projections: [ProjectionView] = [],
        reactors: [Reactor] = [],
        storeSize: @escaping @Sendable () -> Int64? = { nil },
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.storeSize = storeSize
        self.reactors = reactors
        var served: [EntityReads] = []
        if let documents, let projection {
            served.append(EntityReads(store: store, documents: documents, projection: projection, lifecycle: lifecycle))
        }
        for view in projections where !served.contains(where: { $0.name == view.name }) {
            served.append(EntityReads(store: store, documents: view, projection: view.projection, lifecycle: view.lifecycle))
        }
        self.projections = served
        self.onListening = onListening
    }

    /// The same server, reporting its port to `onListening` (for harnesses that need the
    /// port of a server configured elsewhere).
    public init(copying other: ChronicleServer, onListening: @escaping @Sendable (Int) async -> Void) {
        self.store = other.store
        self.configuration = other.configuration
        self.logger = other.logger
        self.metrics = other.metrics
        self.storeSize = other.storeSize
        self.projections = other.projections
        self.reactors = other.reactors
        self.onListening = onListening
    }

    /// Serves until graceful shutdown or cancellation.
    ///
    /// - Throws: ``ChronicleError`` if the configuration is refused (an open server on a
    ///   non-loopback address…), or the error of binding the port.
    public func run() async throws {
        try configuration.validate()
        for reads in projections {
            do {
                try await auditUniqueRules(reads, logger: logger)
            } catch {
                logger.error("Could not check the documents against the unique rules", metadata: ["chronicle.projection": "\(reads.name)", "chronicle.error": "\(error)"])
            }
        }
        let router = Router(context: ChronicleRequestContext.self, options: .autoGenerateHeadEndpoints)
        registerRoutes(on: router)
        let logger = logger
        let configuration = configuration
        let onListening = onListening
        let keys = configuration.apiKeys
        let app = Application(
            router: router,
            server: .guardedHTTP1WebSocketUpgrade(
                webSocketRouter: router,
                limits: .init(requestHeaderTimeout: .init(configuration.requestHeaderTimeout), idleTimeout: .init(configuration.idleTimeout), requestBodyTimeout: .init(configuration.requestBodyTimeout)),
                addresses: AddressConnectionLimit(maximum: configuration.maximumConnectionsPerAddress, logger: logger, metrics: metrics),
                metrics: metrics,
                allowsUpgrade: { AuthMiddleware.allowsUpgrade($0, keys: keys) }
            ),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "Chronicle",
                availableConnectionsDelegate: ConnectionCap(maximum: configuration.maximumConnections, logger: logger, metrics: metrics)
            ),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice("Chronicle is listening", metadata: ["chronicle.address": "\(configuration.host):\(port)", "chronicle.keys": "\(configuration.apiKeys.count)"])
                await onListening(port)
            },
            logger: logger
        )
        let shutdown = shutdown
        try await withGracefulShutdownHandler {
            try await app.run()
        } onGracefulShutdown: {
            shutdown.advance(to: 1)
        }
    }

    func registerRoutes(on router: Router<ChronicleRequestContext>) {
        let routeTable = RouteTable()
        defer { routeTable.set(router.routes.map { Route(method: $0.method.rawValue, path: $0.path.description) }) }
        router.add(middleware: CorrelationMiddleware())
        router.add(middleware: CORSMiddleware(origins: Set(configuration.corsOrigins)))
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: ProblemMiddleware(routes: routeTable))
        let store = store
        let configuration = configuration

        registerConsoleRoutes(on: router)
        router.get("/health/live") { _, _ in try Response.json(.ok, HealthResponse.live) }
        router.get("/health/ready") { _, _ in
            do {
                let head = try await store.headPosition()
                return try Response.json(.ok, HealthResponse.ready(position: head))
            } catch {
                throw Problem(.serviceUnavailable, code: "not-ready", title: "Not ready", detail: "The store cannot be read: \(error)", headers: [.retryAfter: "1"])
            }
        }
        let openAPI = OpenAPIDocument.bytes
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: openAPI))
        }

        router.add(middleware: AuthMiddleware(keys: configuration.apiKeys))
        let metrics = metrics
        let storeSize = storeSize
        router.get("/metrics") { _, context in
            try context.require(.read)
            metrics.recordStore(head: try await store.headPosition(), size: storeSize())
            metrics.recordProcess(ProcessMemory.read())
            for status in try await self.reactorStatuses() { metrics.recordReactor(status) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        registerStreamRoutes(on: router)
        registerSubscriptionRoutes(on: router)
        registerEntityRoutes(on: router)
        registerTemporalRoutes(on: router)
        registerProjectionRoutes(on: router)
        registerEventRoutes(on: router)
        registerReactorRoutes(on: router)
        registerErasureRoutes(on: router)
    }
}

extension Request {
    /// The body as JSON, refusing other media types and bodies over `limit` bytes.
    func jsonBody(limit: Int) async throws -> JSONValue {
        if let type = headers[.contentType]?.lowercased(), !(type.hasPrefix("application/json") || type.contains("+json")) {
            throw Problem(.unsupportedMediaType, code: "unsupported-media-type", title: "Unsupported media type", detail: "Send the body as application/json (got \(type)).")
        }
        let buffer = try await body.collect(upTo: limit)
        return try JSONValue(parsing: Data(buffer.readableBytesView))
    }
}

extension Parameters {
    /// A path parameter, percent-decoded.
    func decoded(_ name: String) throws -> String {
        guard let raw = get(name) else { throw Problem.invalid("The path has no \(name).") }
        if !raw.contains("%") { return raw }
        guard let text = raw.removingPercentEncoding else {
            throw Problem.invalid("The \(name) in the path is not valid percent-encoding.")
        }
        return text
    }
}
