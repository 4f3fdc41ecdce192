import AsyncHTTPClient
import ChronicleCore
import ChronicleProjections
import ChronicleServer
import ChronicleSQLite
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// `chronicle bench --memory-store PATH`: the resident memory of a real `chronicle serve`
/// process while it serves a large SQLite store with the read models of a schema.
///
/// The large store is built once at `PATH` (``ProjectionBench/fill(_:from:to:entities:written:)``
/// with the projection inline, so the server opens it without a rebuild) and reused by later
/// runs; a store holding fewer events than asked is filled up from where its fill stopped. Each run
/// then starts `chronicle serve` twice, as a child process of this one, and loads it over
/// HTTP for the same window with the same mix of requests: first on a small store of
/// ``baselineEvents`` events (the raw baseline: what the same server costs with next to
/// nothing stored), then on the large one. What it reports per server is the kernel's account
/// of the child (`/proc/PID/status`): `VmRSS` when it is ready, and `VmHWM`, the peak resident
/// set since it started, after the load.
struct MemoryBench {
    let directory: String
    let events: Int
    let window: Duration
    let connections: Int

    static let baselineEvents = 1000
    static let maximumEntities = 100_000

    struct Server: Sendable {
        /// `VmRSS` once the server answers `/health/ready`, in bytes.
        var readyBytes: Int64
        /// `VmHWM` after the load: the peak resident set of the process, in bytes.
        var peakBytes: Int64
        /// `RssAnon` after the load: the part of the resident set that is not file pages.
        var anonymousBytes: Int64
        var requestsPerSecond: Double
    }

    struct Result: Sendable {
        var baseline: Server
        var large: Server
    }

    static func entities(for events: Int) -> Int { max(1, min(maximumEntities, events / 100)) }

    static func projection() throws -> DeclarativeProjection {
        DeclarativeProjection(schema: try EntitySchema(yaml: ProjectionBench.schema))
    }

    var storeDirectory: String { directory + "/store" }
    var schemaFile: String { directory + "/schema.yaml" }
    /// How many of the store's events the fill wrote, updated after each of its append calls
    /// (the servers' loads append more, which a later fill-up does not count).
    var filledFile: String { directory + "/filled" }
    /// The `filled` count the read models were last built for.
    var projectedFile: String { directory + "/projected" }

    /// What ``prepare(logger:)`` found or made.
    struct Store: Sendable {
        /// Events the fill wrote: users `0..<entities(for: filled)` exist.
        var filled: Int
        /// Events stored, those of earlier runs' loads included.
        var head: Int
        var bytes: Int64
    }

    /// Builds the large store (or fills it up) and writes the schema file.
    func prepare(logger: Logger) async throws -> Store {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(ProjectionBench.schema.utf8).write(to: URL(fileURLWithPath: schemaFile))
        // The events go in without the projection, which a rebuild then folds in memory in
        // one pass: quicker than folding them in as they are appended (the writer's work per
        // append), and the documents come out the same.
        let store = try SQLiteEventStore(directory: storeDirectory, configuration: .init(durability: .lossyOnPowerFailure), logger: logger)
        let marker = Self.count(in: filledFile)
        let head = try await store.headPosition()
        guard marker != nil || head == 0 else {
            throw CommandFailure(message: "bench: \(storeDirectory) holds events this bench did not write (no \(filledFile)); name an empty directory, or one an earlier --memory-store built")
        }
        let filled = marker ?? 0
        if filled < events {
            Output.progress("memory: \(filled == 0 ? "building" : "filling up") the store at \(storeDirectory) from \(filled) to \(events) events (once; later runs reuse it)")
            let started = ContinuousClock.now
            var printed = filled
            try await ProjectionBench.fill(store, from: filled, to: events, entities: Self.entities(for: events)) { written in
                try String(written).write(toFile: filledFile, atomically: true, encoding: .utf8)
                guard written / 100_000 > printed / 100_000 || written == events else { return }
                printed = written
                let rate = Double(written - filled) / max(0.001, (ContinuousClock.now - started).seconds)
                Output.progress("memory: wrote \(written)/\(events) events (\(Int(rate)) events/s)")
            }
        } else {
            Output.progress("memory: reusing the store at \(storeDirectory) (\(filled) events written by the fill)")
        }
        // The read models, once per fill: a new store's are built as it opens with the
        // projection, a filled-up one's rebuilt (the `projected` file says which fill they
        // cover, so a bench stopped in between builds them next time, not the server).
        let covered = Self.count(in: projectedFile)
        let total = max(filled, events)
        if covered != total {
            Output.progress("memory: building the read models of \(total) events")
            let projected = try SQLiteEventStore(directory: storeDirectory, configuration: .init(durability: .lossyOnPowerFailure, projection: try Self.projection()), logger: logger)
            if covered != nil { _ = try await projected.rebuildDocuments(projection: try Self.projection().name) { _, _ in } }
            try String(total).write(toFile: projectedFile, atomically: true, encoding: .utf8)
        }
        return Store(filled: total, head: Int(try await store.headPosition()), bytes: try await store.storageBytes().values.reduce(0, +))
    }

    /// The number a marker file holds, or `nil` when it is missing or holds something else.
    private static func count(in file: String) -> Int? {
        (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// One run: the baseline server, then the large store's.
    func run(_ large: Store, logger: Logger) async throws -> Result {
        let baseline = try await withTemporaryDirectory { temporary in
            let small = temporary + "/baseline"
            do {  // closed before the server opens the directory
                let store = try SQLiteEventStore(directory: small, configuration: .init(durability: .lossyOnPowerFailure, projection: try Self.projection()), logger: logger)
                try await ProjectionBench.fill(store, from: 0, to: Self.baselineEvents, entities: Self.entities(for: Self.baselineEvents)) { _ in }
            }
            return try await serve(data: small, filled: Self.baselineEvents, head: Self.baselineEvents, logs: temporary)
        }
        let served = try await withTemporaryDirectory { temporary in
            try await serve(data: storeDirectory, filled: large.filled, head: large.head, logs: temporary)
        }
        return Result(baseline: baseline, large: served)
    }

    /// Starts `chronicle serve` on `data`, loads it for the window and reads its memory.
    private func serve(data: String, filled: Int, head: Int, logs: String) async throws -> Server {
        guard let executable = Bundle.main.executableURL else { throw CommandFailure(message: "bench: cannot find the chronicle executable to start a server") }
        let log = URL(fileURLWithPath: logs + "/serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["serve", "--data", data, "--schema", schemaFile, "--port", "0"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func output() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        var base: String?
        let deadline = ContinuousClock.now + .seconds(300)
        while base == nil {
            let text = output()
            if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) { base = String(text[range]) }
            guard process.isRunning else { throw CommandFailure(message: "bench: chronicle serve exited: \(text)") }
            guard ContinuousClock.now < deadline else { throw CommandFailure(message: "bench: chronicle serve did not start within 300 s: \(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        let pid = process.processIdentifier
        func status() throws -> ProcessMemory {
            guard let memory = ProcessMemory.read(processIdentifier: pid) else {
                throw CommandFailure(message: "bench: cannot read /proc/\(pid)/status (the memory figures need Linux)")
            }
            return memory
        }
        let ready = try status()
        let rate = try await load(base: base!, entities: Self.entities(for: filled), head: head)
        let after = try status()
        process.terminate()
        let stopping = ContinuousClock.now + .seconds(120)
        while process.isRunning {
            guard ContinuousClock.now < stopping else { throw CommandFailure(message: "bench: chronicle serve did not stop within 120 s of SIGTERM") }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard process.terminationStatus == 0 else { throw CommandFailure(message: "bench: chronicle serve ended with status \(process.terminationStatus): \(output())") }
        return Server(readyBytes: ready.residentBytes, peakBytes: after.peakResidentBytes, anonymousBytes: after.anonymousBytes, requestsPerSecond: rate)
    }

    /// `connections` clients, each sending one request after another for the window, in turn:
    /// an entity, a page of its stream, a page of the log from anywhere, the first page of the
    /// entity list, and an event appended to an entity (folded into its document inline).
    /// Returns requests per second; any answer but 200 or 201 fails the run.
    private func load(base: String, entities: Int, head: Int) async throws -> Double {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = http.shutdown() as EventLoopFuture<Void> }
        let window = window
        let started = ContinuousClock.now
        let requests = try await withThrowingTaskGroup(of: Int.self) { group in
            for client in 0..<connections {
                group.addTask {
                    var sent = 0
                    while ContinuousClock.now - started < window {
                        let entity = Int.random(in: 0..<entities)
                        var request: HTTPClientRequest
                        switch (client + sent) % 5 {
                        case 0: request = HTTPClientRequest(url: "\(base)/v1/entities/user/\(entity)")
                        case 1: request = HTTPClientRequest(url: "\(base)/v1/streams/user-\(entity)?limit=100")
                        case 2: request = HTTPClientRequest(url: "\(base)/v1/log?after=\(Int.random(in: 0..<max(1, head - 100)))&limit=100")
                        case 3: request = HTTPClientRequest(url: "\(base)/v1/entities/user?limit=50")
                        default:
                            request = HTTPClientRequest(url: "\(base)/v1/streams/user-\(entity)")
                            request.method = .POST
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.body = .bytes(ByteBuffer(string: #"{"type":"UserUpdated","data":{"plan":"pro","logins":\#(sent)}}"#))
                        }
                        let response = try await http.execute(request, timeout: .seconds(60))
                        let body = try await response.body.collect(upTo: 16 << 20)
                        guard response.status == .ok || response.status == .created else {
                            throw CommandFailure(message: "bench: \(request.method) \(request.url) answered \(response.status.code): \(String(buffer: body))")
                        }
                        sent += 1
                    }
                    return sent
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(requests) / (ContinuousClock.now - started).seconds
    }
}
