import AsyncHTTPClient
import ChronicleCore
import ChroniclePostgres
import ChronicleProjections
import ChronicleReactors
import ChronicleServer
import ChronicleSQLite
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing

let serverTestLogger: Logger = {
    var logger = Logger(label: "chronicle.server-tests")
    logger.logLevel = .critical
    return logger
}()

/// A response, with the body as text.
struct TestResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: String

    var json: JSONValue { (try? JSONValue(parsing: body)) ?? .null }

    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// The stores the HTTP tests run on. Each test that runs on both has one test per backend
/// (`…OnSQLite`, `…OnPostgres`); the PostgreSQL one carries ``TestPostgres/enabled``, so
/// without a server (`CHRONICLE_TEST_POSTGRES_*`, which `.ci/run` sets) it is skipped and the
/// output says why, and a malformed configuration fails it.
enum TestBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// A real Chronicle server on a loopback port, over a real store (a SQLite file, or a fresh
/// PostgreSQL schema), with a real HTTP client.
struct TestServer: Sendable {
    let port: Int
    let http: HTTPClient
    let store: any EventStore
    let directory: String
    let group: ServiceGroup
    /// The PostgreSQL schema of a server on PostgreSQL.
    var postgresSchema: String? = nil

    var base: String { "http://127.0.0.1:\(port)" }

    func request(
        _ method: HTTPMethod, _ path: String, body: String? = nil, key: String? = nil,
        headers extra: [(String, String)] = [], contentType: String? = "application/json"
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let body {
            request.body = .bytes(ByteBuffer(string: body))
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        }
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        // The client's timeout covers the response head only: the body is read within a
        // deadline too, so a stalled server fails the test instead of hanging the run.
        let http = self.http
        let sent = request
        return try await withDeadline(seconds: 120, "\(method) \(path) to answer") {
            let response = try await http.execute(sent, timeout: .seconds(60))
            let buffer = try await response.body.collect(upTo: 16 << 20)
            return TestResponse(status: Int(response.status.code), headers: response.headers, body: String(buffer: buffer))
        }
    }

    func post(_ path: String, _ body: String, key: String? = nil, headers: [(String, String)] = []) async throws -> TestResponse {
        try await request(.POST, path, body: body, key: key, headers: headers)
    }

    func get(_ path: String, key: String? = nil, headers: [(String, String)] = []) async throws -> TestResponse {
        try await request(.GET, path, key: key, headers: headers)
    }
}

/// Starts a server on a free loopback port, runs `body`, then shuts the server down gracefully.
func withServer<T: Sendable>(
    _ configuration: ChronicleServer.Configuration = .init(port: 0),
    dataDirectory: String? = nil,
    projection: (any Projection)? = nil,
    additionalProjections: [ProjectionRegistration] = [],
    snapshotInterval: Int = 100,
    reactors: [Reactor] = [],
    backend: TestBackend = .sqlite,
    logger: Logger = serverTestLogger,
    masterKey: MasterKey? = nil,
    postgresSchema keptSchema: String? = nil,
    _ body: @escaping @Sendable (TestServer) async throws -> T
) async throws -> T {
    let directory = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-server-\(UUID().uuidString)").path
    defer { if dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
    let store: any ReactorStore & ProjectionStore
    var storeServices: [any Service] = []
    var postgresSchema: String?
    let masterKey = masterKey ?? (projection?.declaresPersonalData == true ? MasterKey.random() : nil)
    switch backend {
    case .sqlite:
        store = try SQLiteEventStore(directory: directory, configuration: .init(projection: projection, additionalProjections: additionalProjections, snapshotInterval: snapshotInterval, masterKey: masterKey), logger: serverTestLogger)
    case .postgres:
        _ = try TestPostgres.requireConfiguration()
        var configuration = TestPostgres.freshConfiguration()
        // A schema the caller names is the caller's: kept after, for a restart on the same data.
        if let keptSchema { configuration.schema = keptSchema }
        configuration.projection = projection
        configuration.additionalProjections = additionalProjections
        configuration.snapshotInterval = snapshotInterval
        configuration.masterKey = masterKey
        let postgres = try await PostgresEventStore(configuration: configuration, logger: serverTestLogger)
        store = postgres
        storeServices = [postgres]
        postgresSchema = configuration.schema
    }
    let droppedSchema = keptSchema == nil ? postgresSchema : nil
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    var configuration = configuration
    configuration.port = 0
    let server = ChronicleServer(store: store, configuration: configuration, logger: logger, projections: store.projectionViews, reactors: reactors, onListening: { port in
        portContinuation.yield(port)
    })
    let runners: [any Service] = reactors.map { ReactorRunner(store: store, reactor: $0, logger: serverTestLogger) }
        + store.projectionViews.filter { $0.lifecycle == .async }.map { ProjectionRunner(store: $0, logger: serverTestLogger) }
    let group = ServiceGroup(configuration: .init(services: storeServices + [server] + runners, gracefulShutdownSignals: [], logger: serverTestLogger))
    // Tests send up to a few dozen requests at once, and a loaded machine answers slowly: one
    // connection per request, and time to get one (the default pool of 8 and its 10 s
    // connect timeout made concurrent tests fail with getConnectionFromPoolTimeout).
    var client = HTTPClient.Configuration()
    client.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
    client.timeout.connect = .seconds(60)
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: client)
    do {
        let result = try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                portContinuation.finish()
                return nil
            }
            let port = try await withDeadline(seconds: 60, "the server to listen") {
                for await port in ports { return port }
                throw ChronicleError(.storageFailure, "the server stopped before listening")
            }
            let server = TestServer(port: port, http: http, store: store, directory: directory, group: group, postgresSchema: postgresSchema)
            do {
                let value = try await body(server)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return value
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
        try await http.shutdown()
        if let droppedSchema { try? await TestPostgres.dropSchema(droppedSchema) }
        return result
    } catch {
        try? await http.shutdown()
        if let droppedSchema { try? await TestPostgres.dropSchema(droppedSchema) }
        throw error
    }
}

/// Reads a Server-Sent Events stream until `until` says stop, within a deadline.
func readEventStream(
    _ server: TestServer, _ path: String, key: String? = nil, headers: [(String, String)] = [],
    pause: Duration? = nil, seconds: Double = 60, until: @escaping @Sendable ([ServerSentEvent]) -> Bool
) async throws -> [ServerSentEvent] {
    try await withDeadline(seconds: seconds, "events from \(path)") {
        var request = HTTPClientRequest(url: server.base + path)
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await server.http.execute(request, timeout: .seconds(Int64(max(120, seconds * 2))))
        guard response.status == .ok else {
            throw ChronicleError(.invalidInput, "subscribe answered \(response.status)")
        }
        var text = ""
        var events: [ServerSentEvent] = []
        for try await chunk in response.body {
            text += String(buffer: chunk)
            while let end = text.range(of: "\n\n") {
                let block = String(text[..<end.lowerBound])
                text = String(text[end.upperBound...])
                events.append(ServerSentEvent(block))
            }
            if until(events) { break }
            if let pause { try await Task.sleep(for: pause) }
        }
        return events
    }
}

/// One parsed SSE block.
struct ServerSentEvent: Sendable {
    var id: String?
    var event: String?
    var data: String?
    var comment: String?

    init(_ block: String) {
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") { comment = String(line.dropFirst()).trimmingCharacters(in: .whitespaces) }
            else if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
            else if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
            else if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
        }
    }

    var isEvent: Bool { id != nil && data != nil }
    var json: JSONValue { data.flatMap { try? JSONValue(parsing: $0) } ?? .null }
}
