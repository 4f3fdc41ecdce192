import AsyncHTTPClient
import ChronicleClient
import ChronicleCore
import ChronicleProjections
import ChronicleReactors
import ChronicleServer
import ChronicleSQLite
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

let clientTestLogger: Logger = {
    var logger = Logger(label: "chronicle.client-tests")
    logger.logLevel = .critical
    return logger
}()

/// A fresh data directory, removed by the caller.
func freshDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-client-\(UUID().uuidString)").path
}

/// What a test server runs with.
struct ServerSetup: Sendable {
    /// The schema's YAML (entities, rules, reactors), if any.
    var schema: String?
    /// API keys; none: an open server on loopback.
    var keys: [(key: String, role: Role)] = []
    /// How often idle subscribers get a heartbeat.
    var heartbeat: Duration = .seconds(15)
    /// When the schema's documents are updated.
    var lifecycle: ProjectionLifecycle = .inline
}

/// A real Chronicle server (SQLite in `directory`, the schema's read models and reactors)
/// on a loopback port (`port`, or a free one with 0), for `body`; shut down gracefully after.
/// Started again on the same directory and port, it is the same server after a restart.
func withChronicleServer<T: Sendable>(
    directory: String, port: Int = 0, _ setup: ServerSetup = ServerSetup(),
    _ body: (_ port: Int) async throws -> T
) async throws -> T {
    let schema = try setup.schema.map { try EntitySchema(yaml: $0) }
    let projection = schema.flatMap { $0.entities.isEmpty ? nil : DeclarativeProjection(schema: $0) }
    let store = try SQLiteEventStore(directory: directory, configuration: .init(projection: projection, lifecycle: setup.lifecycle), logger: clientTestLogger)
    let reactors = (schema?.reactors ?? [:]).sorted { $0.key < $1.key }.map { name, definition in
        Reactor(
            name: name, filter: LogFilter(types: Set(definition.types)), startsAtBeginning: definition.fromBeginning,
            maximumAttempts: definition.attempts, backoff: definition.backoff, concurrency: definition.concurrency,
            handler: Webhook(url: definition.url, timeout: definition.timeout, secret: definition.secret).handler(client: .shared)
        )
    }
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let configuration = ChronicleServer.Configuration(port: port, apiKeys: try APIKeys(setup.keys), heartbeatInterval: setup.heartbeat, shutdownGracePeriod: .seconds(5))
    let server = ChronicleServer(store: store, configuration: configuration, logger: clientTestLogger, projections: store.projectionViews, reactors: reactors, onListening: { port in
        portContinuation.yield(port)
    })
    let runners: [any Service] = reactors.map { ReactorRunner(store: store, reactor: $0, logger: clientTestLogger) }
        + store.projectionViews.filter { $0.lifecycle == .async }.map { ProjectionRunner(store: $0, logger: clientTestLogger) }
    let group = ServiceGroup(configuration: .init(services: [server] + runners, gracefulShutdownSignals: [], logger: clientTestLogger))
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            // Finished however the server ends, so a server that fails to start (a port in
            // use, say) is reported at once, with its own error, not as a timeout.
            defer { portContinuation.finish() }
            try await group.run()
            return nil
        }
        do {
            let port = try await withDeadline(seconds: 240, "the server to listen") {
                for await port in ports { return port }
                throw ChronicleError(.storageFailure, "the server stopped before listening")
            }
            let value = try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            // The server's own error (a bind that failed) says more than ours.
            try await tasks.waitForAll()
            throw error
        }
    }!
}

/// A client of the server on `port`.
func client(port: Int, apiKey: String? = nil, retry: RetryPolicy = RetryPolicy()) throws -> ChronicleClient {
    try ChronicleClient(configuration: .init(url: "http://127.0.0.1:\(port)", apiKey: apiKey, retry: retry), logger: clientTestLogger)
}

/// Runs `body` on a fresh server with `setup`, and a client of it.
func withClient<T: Sendable>(_ setup: ServerSetup = ServerSetup(), apiKey: String? = nil, _ body: (ChronicleClient, Int) async throws -> T) async throws -> T {
    let directory = freshDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await withChronicleServer(directory: directory, setup) { port in
        try await body(try client(port: port, apiKey: apiKey), port)
    }
}

/// A free loopback port (bound once and released), for servers that must come back on it.
///
/// It is below the kernel's ephemeral range (32768 and up here), so while a test holds it
/// unbound — between a server's stop and its restart — no other socket is handed it: a
/// port the kernel picked (`bind` to port 0, an outgoing connection) could be, and the
/// restarted server would fail to bind.
///
/// Each port is handed out once per test process: two tests that picked the same one, the
/// second while the first's server was stopped, had the first's restart fail with "Address
/// already in use" (seen once in a full run).
func freePort() async throws -> Int {
    var lastError: (any Error)?
    for _ in 0..<200 {
        let port = Int.random(in: 20_000..<32_000)
        guard handedOutPorts.withLock({ $0.insert(port).inserted }) else { continue }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: "127.0.0.1", port: port).get()
            try await channel.close()
            return port
        } catch {
            lastError = error
        }
    }
    throw lastError ?? ChronicleError(.storageFailure, "no free port below 32000")
}

/// The ports ``freePort()`` has handed out in this process.
private let handedOutPorts = Mutex<Set<Int>>([])

/// Waits until `condition` holds, checking every 20 ms, for at most `seconds`.
func poll(_ what: String, seconds: Double = 60, _ condition: @escaping @Sendable () async throws -> Bool) async throws {
    try await waitUntil(what, seconds: seconds, every: .milliseconds(20), condition)
}

/// The schema of the app-shaped tests: users who verify their email before posting ads,
/// and a welcome email sent by a webhook.
func appSchema(webhook: String? = nil, attempts: Int = 3) -> String {
    var yaml = """
        entities:
          user:
            events:
              UserCreated: create
              UserEmailVerified: { set: { emailVerified: true } }
              UserRenamed: merge
          advertisement:
            events:
              AdvertisementPosted:
                create: true
                require:
                  - entity: user
                    id: $.data.userId
                    where: { emailVerified: true }
                    otherwise: { status: 403, code: email-unverified, detail: "Verify your email address before posting." }

        """
    if let webhook {
        yaml += """
            reactors:
              welcome-email:
                on: [UserCreated]
                webhook: { url: "\(webhook)", timeout: 10s }
                retry: { attempts: \(attempts), backoff: 100ms }
                from: beginning

            """
    }
    return yaml
}
