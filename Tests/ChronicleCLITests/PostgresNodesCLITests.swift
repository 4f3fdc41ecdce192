import AsyncHTTPClient
import ChronicleCore
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The PostgreSQL server for the multi-node tests, from the environment `.ci/run` sets (the
/// suite runs, skips or fails as ``TestPostgres/enabled`` says).
enum TestDatabase {
    static let environment = ProcessInfo.processInfo.environment

    /// `CHRONICLE_TEST_POSTGRES_URL`, or one made of `CHRONICLE_TEST_POSTGRES_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_DATABASE`.
    static let url: String? = {
        if let url = environment["CHRONICLE_TEST_POSTGRES_URL"], !url.isEmpty { return url }
        guard let host = environment["CHRONICLE_TEST_POSTGRES_HOST"], !host.isEmpty else { return nil }
        let user = environment["CHRONICLE_TEST_POSTGRES_USER"] ?? "postgres"
        let password = environment["CHRONICLE_TEST_POSTGRES_PASSWORD"].map { ":" + $0 } ?? ""
        return "postgres://\(user)\(password)@\(host):\(environment["CHRONICLE_TEST_POSTGRES_PORT"] ?? "5432")/\(environment["CHRONICLE_TEST_POSTGRES_DATABASE"] ?? user)?sslmode=disable"
    }()

    /// Each node's `connect_timeout`: long enough for a loaded machine to connect (2 s was
    /// not), short enough that a node on a cut connection gives up and answers 503 well within
    /// the tests' deadlines.
    static let connectTimeoutSeconds = 10

    /// The URL with a fresh schema of its own (one per test), and its port replaced to go
    /// through a proxy.
    static func freshURL(throughPort port: Int? = nil) throws -> String {
        guard let url, var components = URLComponents(string: url) else { throw CLIError(message: "no database URL") }
        if let port {
            components.host = "127.0.0.1"
            components.port = port
        }
        let schema = "chronicle_cli_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        components.queryItems = (components.queryItems ?? []).filter { !["schema", "connect_timeout"].contains($0.name) }
            + [URLQueryItem(name: "schema", value: schema), URLQueryItem(name: "connect_timeout", value: "\(connectTimeoutSeconds)")]
        return components.string!
    }

    static var hostAndPort: (String, Int)? {
        guard let url, let components = URLComponents(string: url) else { return nil }
        return (components.host ?? "127.0.0.1", components.port ?? 5432)
    }
}

/// What a node answered.
struct NodeAnswer {
    var status: Int
    var headers: HTTPHeaders
    var body: String
}

/// A GET of `url`, or a POST of the JSON `body` to it, head and body within a deadline (the
/// client's own timeout covers the head only).
func call(_ http: HTTPClient, _ url: String, _ body: String? = nil) async throws -> NodeAnswer {
    var request = HTTPClientRequest(url: url)
    if let body {
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    }
    let sent = request
    return try await withDeadline(seconds: 120, "\(url) to answer") {
        let response = try await http.execute(sent, timeout: .seconds(60))
        return NodeAnswer(status: Int(response.status.code), headers: response.headers, body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }
}

/// Lines a process wrote to a file so far.
func lines(of file: URL) -> [String] {
    ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}

func temporaryFile(_ name: String) -> URL {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-\(name)-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: file.path, contents: nil)
    return file
}

@Suite("chronicle serve --postgres: several nodes, faults", TestPostgres.enabled)
struct PostgresNodesCLITests {
    func schema(_ url: String) -> String {
        """
        entities: {}
        reactors:
          mail:
            on: [UserCreated]
            webhook: { url: "\(url)", timeout: 10s }
            retry: { attempts: 20, backoff: 10ms }
            from: beginning
            concurrency: 4
        """
    }

    /// The stream names in the bodies the receiver got.
    func streams(_ calls: [Receiver.Call]) -> Set<String> {
        Set(calls.compactMap { call in
            (try? JSONValue(parsing: call.body))?["stream"].flatMap { if case .string(let stream) = $0 { stream } else { nil } }
        })
    }

    /// The `runningOn` of the reactor `mail`, as a node answers it.
    func runningOn(_ remote: CLI, _ url: String) async throws -> String? {
        let list = try await remote.run(arguments: ["reactors", "list", "--server", url, "--json"])
        guard case .array(let reactors)? = (try? JSONValue(parsing: list.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))?["reactors"],
              case .string(let node)? = reactors.first?["runningOn"] else { return nil }
        return node
    }

    @Test("two nodes on one database: subscribers on each see every event; the reactor runs on one node, and the other takes it over after a kill -9")
    func failover() async throws {
        try await withCLI { cli in
            let receiver = Receiver(then: (200, "{}"))
            try await receiver.run { hook in
                let schemaFile = try cli.writeSchema(schema(hook))
                let arguments = ["--postgres", try TestDatabase.freshURL(), "--schema", schemaFile, "--lease-duration", "3s"]
                let serve = ServeCLITests()
                let (urlA, a, _) = try await serve.startServer(cli, arguments)
                defer { if a.isRunning { a.terminate() } }
                let (urlB, b, _) = try await serve.startServer(cli, arguments)
                defer { if b.isRunning { b.terminate() } }
                let remote = CLI(data: cli.data + "-unused")
                let outA = temporaryFile("tail-a"), outB = temporaryFile("tail-b")
                defer { try? FileManager.default.removeItem(at: outA); try? FileManager.default.removeItem(at: outB) }
                let tailA = try remote.process(["tail", "--after", "0", "--type", "UserCreated", "--server", urlA, "--json"], stdout: try FileHandle(forWritingTo: outA), stderr: FileHandle.nullDevice)
                defer { if tailA.isRunning { tailA.terminate() } }
                let tailB = try remote.process(["tail", "--after", "0", "--type", "UserCreated", "--server", urlB, "--json"], stdout: try FileHandle(forWritingTo: outB), stderr: FileHandle.nullDevice)
                defer { if tailB.isRunning { tailB.terminate() } }

                // Writes through both nodes; each node's subscriber sees all of them.
                for index in 0..<10 {
                    #expect(try await remote.run(arguments: ["append", "user-a\(index)", "UserCreated", "{}", "--server", urlA]).status == 0)
                    #expect(try await remote.run(arguments: ["append", "user-b\(index)", "UserCreated", "{}", "--server", urlB]).status == 0)
                }
                try await pollUntil("both subscribers to see the 20 events") { lines(of: outA).count == 20 && lines(of: outB).count == 20 }
                #expect(Set(lines(of: outA)) == Set(lines(of: outB)), "the same events, in the same order")
                #expect(lines(of: outA) == lines(of: outB))
                try await pollUntil("the 20 deliveries") { streams(receiver.received).count == 20 }

                // Exactly one node runs the reactor; kill it.
                let holder = try #require(try await runningOn(remote, urlA))
                #expect(try await runningOn(remote, urlB) == holder, "both nodes agree who runs it")
                let (victim, survivor, survivorURL) = holder.contains(":\(a.processIdentifier):") ? (a, b, urlB) : (b, a, urlA)
                #expect(holder.contains(":\(victim.processIdentifier):"))
                victim.send(SIGKILL)
                try await waitForExit(victim, seconds: 60)
                // The lease is 3 s; a loaded machine may take longer to notice, so the bound is
                // generous (how fast is a benchmark's business, not this test's): it must
                // happen, by itself, with no request to the survivor but the status polls.
                var holderNow: String?
                let deadline = ContinuousClock.now + .seconds(120)
                while holderNow?.contains(":\(survivor.processIdentifier):") != true {
                    if ContinuousClock.now > deadline {
                        Issue.record("the surviving node did not take the reactor over within 120 s (lease 3 s); it reports \(holderNow ?? "no holder")")
                        return
                    }
                    try await Task.sleep(for: .milliseconds(100))
                    holderNow = try await runningOn(remote, survivorURL)
                }
                for index in 10..<15 {
                    #expect(try await remote.run(arguments: ["append", "user-a\(index)", "UserCreated", "{}", "--server", survivorURL]).status == 0)
                }
                try await pollUntil("the survivor delivers the new events") { streams(receiver.received).count == 25 }
                let survivorOut = survivor === a ? outA : outB
                try await pollUntil("the survivor's subscriber sees them") { lines(of: survivorOut).count == 25 }
                survivor.terminate()
                try await waitForExit(survivor, seconds: 60)
            }
        }
    }

    @Test("gap-free across processes: two nodes take concurrent appends while a third node's subscriber sees positions 1, 2, 3… with no gap, every acknowledged event once")
    func gapFreeAcrossProcesses() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await withCLI { cli in
                let arguments = ["--postgres", try TestDatabase.freshURL()]
                let serve = ServeCLITests()
                let (urlA, a, _) = try await serve.startServer(cli, arguments)
                defer { if a.isRunning { a.terminate() } }
                let (urlB, b, _) = try await serve.startServer(cli, arguments)
                defer { if b.isRunning { b.terminate() } }
                let (urlC, c, _) = try await serve.startServer(cli, arguments)
                defer { if c.isRunning { c.terminate() } }
                let remote = CLI(data: cli.data + "-unused")
                let out = temporaryFile("tail-c")
                defer { try? FileManager.default.removeItem(at: out) }
                let tail = try remote.process(["tail", "--after", "0", "--server", urlC, "--json"], stdout: try FileHandle(forWritingTo: out), stderr: FileHandle.nullDevice)
                defer { if tail.isRunning { tail.terminate() } }

                // 8 writers, 4 per node, appending 1 to 3 events at a time.
                let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
                    for writer in 0..<8 {
                        let base = writer % 2 == 0 ? urlA : urlB
                        group.addTask {
                            var ids: [String] = []
                            for index in 0..<25 {
                                let batch = (0...(index % 3)).map { _ in UUID().uuidString.lowercased() }
                                let answer = try await call(http, "\(base)/v1/streams/writer-\(writer)", "[" + batch.map { #"{"id":"\#($0)","type":"Wrote"}"# }.joined(separator: ",") + "]")
                                if answer.status == 201 { ids += batch } else { Issue.record("append answered \(answer.status)") }
                            }
                            return ids
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                let expected: Int = 8 * (0..<25).map { 1 + $0 % 3 }.reduce(0, +)
                #expect(acknowledged.count == expected)
                try await pollUntil("the third node's subscriber to see every event") { lines(of: out).count >= acknowledged.count }
                let seen = lines(of: out).compactMap { try? JSONValue(parsing: $0) }
                let positions = seen.compactMap { if case .integer(let position)? = $0["position"] { position } else { nil } }
                let everyPosition: [Int64] = Array(1...Int64(acknowledged.count))
                #expect(positions == everyPosition, "positions 1, 2, 3… in order, none skipped")
                let ids = seen.compactMap { if case .string(let id)? = $0["id"] { id } else { nil } }
                #expect(Set(ids) == Set(acknowledged) && ids.count == acknowledged.count, "every acknowledged event, once")
                for node in [a, b, c] { node.terminate() }
                for node in [a, b, c] { try await waitForExit(node, seconds: 60) }
            }
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    @Test("the database unreachable for a while: appends answer 503 with Retry-After (never a false 201), the node reconnects by itself, the subscriber resumes, no acknowledged event is lost")
    func databaseOutage() async throws {
        let (host, port) = try #require(TestDatabase.hostAndPort)
        let proxy = try await TCPProxy(to: host, port: port)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await withCLI { cli in
                let (url, node, _) = try await ServeCLITests().startServer(cli, ["--postgres", try TestDatabase.freshURL(throughPort: proxy.port)])
                defer { if node.isRunning { node.terminate() } }
                let remote = CLI(data: cli.data + "-unused")
                let out = temporaryFile("tail")
                defer { try? FileManager.default.removeItem(at: out) }
                let tail = try remote.process(["tail", "--after", "0", "--server", url, "--json"], stdout: try FileHandle(forWritingTo: out), stderr: FileHandle.nullDevice)
                defer { if tail.isRunning { tail.terminate() } }

                var acknowledged: [String] = []
                var unavailable = 0
                /// One append; records what the node said.
                func append(_ index: Int) async throws -> Int {
                    let id = UUID().uuidString.lowercased()
                    let answer = try await call(http, "\(url)/v1/streams/order-\(index)", #"[{"id":"\#(id)","type":"OrderPlaced","data":{"n":\#(index)}}]"#)
                    switch answer.status {
                    case 201: acknowledged.append(id)
                    case 503:
                        unavailable += 1
                        #expect(answer.headers.first(name: "Retry-After") != nil, "a retry hint")
                        #expect(answer.headers.first(name: "Content-Type")?.contains("problem+json") == true, "\(answer.body)")
                    default: Issue.record("unexpected \(answer.status): \(answer.body)")
                    }
                    return answer.status
                }
                // Before the cut, a loaded machine may still answer 503 (a pooled connection not
                // had within connect_timeout): retried, as a client would, until acknowledged.
                for index in 0..<5 {
                    let deadline = ContinuousClock.now + .seconds(60)
                    while try await append(index) != 201 {
                        if ContinuousClock.now > deadline { throw CLIError(message: "append \(index) was never acknowledged before the cut") }
                    }
                }
                unavailable = 0
                try await pollUntil("the subscriber to see the first events") { lines(of: out).count == 5 }

                proxy.cut()
                var index = 5
                // Each refused append may wait connect_timeout for a connection first.
                let outage = ContinuousClock.now + .seconds(60 + 5 * TestDatabase.connectTimeoutSeconds)
                while unavailable < 5 {
                    _ = try await append(index)
                    index += 1
                    if ContinuousClock.now > outage { throw CLIError(message: "appends never failed while the database was unreachable") }
                }
                proxy.restore()
                let recovery = ContinuousClock.now + .seconds(60)
                while try await append(index) != 201 {
                    index += 1
                    if ContinuousClock.now > recovery { throw CLIError(message: "the node did not reconnect") }
                    try await Task.sleep(for: .milliseconds(100))
                }
                for more in 1...5 { #expect(try await append(index + more) == 201) }

                // Every acknowledged event is stored, once, and the subscriber saw it.
                let log = try await remote.run(arguments: ["log", "--server", url, "--json", "--limit", "10000"])
                let stored = log.lines.compactMap { (try? JSONValue(parsing: $0))?["id"] }.compactMap { if case .string(let id) = $0 { id } else { nil } }
                #expect(Set(acknowledged).isSubset(of: Set(stored)), "no acknowledged event lost")
                #expect(stored.count == Set(stored).count, "none stored twice")
                try await pollUntil("the subscriber to resume and see every acknowledged event") {
                    let seen = Set(lines(of: out).compactMap { (try? JSONValue(parsing: $0))?["id"] }.compactMap { if case .string(let id) = $0 { id } else { nil } })
                    return Set(acknowledged).isSubset(of: seen)
                }
                node.terminate()
                try await waitForExit(node, seconds: 60)
            }
            await proxy.stop()
            try await http.shutdown()
        } catch {
            await proxy.stop()
            try? await http.shutdown()
            throw error
        }
    }

    @Test("read models on PostgreSQL: the schema's entities are kept inline, a unique rule answers 409, GET serves and lists the documents")
    func readModels() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await withCLI { cli in
                let schemaFile = try cli.writeSchema(uniqueEmailSchema)
                let (url, node, _) = try await ServeCLITests().startServer(cli, ["--postgres", try TestDatabase.freshURL(), "--schema", schemaFile])
                defer { if node.isRunning { node.terminate() } }
                func call(_ path: String, _ body: String? = nil) async throws -> NodeAnswer {
                    try await ChronicleCLITests.call(http, url + path, body)
                }
                #expect(try await call("/v1/events/UserCreated", #"{"id":"ada","email":"ada@x.org"}"#).status == 201)
                #expect(try await call("/v1/events/UserCreated", #"{"id":"bob","email":"ada@x.org"}"#).status == 409)
                #expect(try await call("/v1/events/UserEmailVerified", #"{"id":"ada"}"#).status == 201)
                let ada = try await call("/v1/entities/user/ada")
                #expect(ada.status == 200, "\(ada.body)")
                let state = (try? JSONValue(parsing: ada.body))?["state"]
                #expect(state?["email"] == "ada@x.org" && state?["emailVerified"] == true, "\(ada.body)")
                #expect(try await call("/v1/entities/user/bob").status == 404)
                let list = try await call("/v1/entities/user")
                #expect(list.status == 200 && list.body.contains("ada@x.org") && !list.body.contains("bob"), "\(list.body)")
                node.terminate()
                try await waitForExit(node, seconds: 60)
            }
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    @Test("read models on PostgreSQL with --lifecycle async: the projection runner applies them in the background")
    func asyncReadModels() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await withCLI { cli in
                let schemaFile = try cli.writeSchema("""
                    entities:
                      user:
                        events:
                          UserCreated: create
                    """)
                let (url, node, _) = try await ServeCLITests().startServer(cli, ["--postgres", try TestDatabase.freshURL(), "--schema", schemaFile, "--lifecycle", "async"])
                defer { if node.isRunning { node.terminate() } }
                #expect(try await call(http, url + "/v1/events/UserCreated", #"{"id":"ada","email":"ada@x.org"}"#).status == 201)
                let deadline = ContinuousClock.now + .seconds(60)
                var body = ""
                while true {
                    let answer = try await call(http, url + "/v1/entities/user/ada")
                    body = answer.body
                    if answer.status == 200 { break }
                    if ContinuousClock.now > deadline { throw CLIError(message: "the asynchronous projection never applied the event: \(body)") }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect((try? JSONValue(parsing: body))?["state"]?["email"] == "ada@x.org", "\(body)")
                node.terminate()
                try await waitForExit(node, seconds: 60)
            }
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}
