import AsyncHTTPClient
import ChronicleCore
import ChronicleServer
import ChronicleSQLite
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import HummingbirdWSClient
import NIOCore
import Synchronization
import Testing

/// Strings gathered from several tasks.
final class Collected: Sendable {
    private let storage = Mutex<[String]>([])
    func add(_ value: String) { storage.withLock { $0.append(value) } }
    var values: [String] { storage.withLock { $0 } }
}

let readKey = "read-key-0123456789abcdef"
let writeKey = "write-key-0123456789abcdef"
let adminKey = "admin-key-0123456789abcdef"

func keyedConfiguration() throws -> ChronicleServer.Configuration {
    .init(apiKeys: try APIKeys([(readKey, .read), (writeKey, .write), (adminKey, .admin)]))
}

@Suite("HTTP: auth, health, metrics, shutdown, configuration")
struct ServerOperationTests {
    @Test("API keys: 401 without a valid key, 403 without the role, health and the contract stay public (SQLite)")
    func authOnSQLite() async throws { try await auth(backend: .sqlite) }

    @Test("API keys: 401 without a valid key, 403 without the role, health and the contract stay public (PostgreSQL)", TestPostgres.enabled)
    func authOnPostgres() async throws { try await auth(backend: .postgres) }

    func auth(backend: TestBackend) async throws {
        try await withServer(try keyedConfiguration(), backend: backend) { server in
            let anonymous = try await server.post("/v1/streams/user-1", #"{"type":"X"}"#)
            #expect(anonymous.status == 401 && anonymous.header("WWW-Authenticate") == "Bearer")
            #expect(anonymous.json["code"] == "unauthorized")
            #expect(try await server.post("/v1/streams/user-1", #"{"type":"X"}"#, key: "not-a-key-at-all-000000").status == 401)
            #expect(try await server.request(.GET, "/v1/log", headers: [("Authorization", "Basic abc")]).status == 401)
            let reader = try await server.post("/v1/streams/user-1", #"{"type":"X"}"#, key: readKey)
            #expect(reader.status == 403 && reader.body.contains("write"))
            #expect(try await server.post("/v1/streams/user-1", #"{"type":"X"}"#, key: writeKey).status == 201)
            #expect(try await server.get("/v1/streams/user-1", key: readKey).status == 200)
            #expect(try await server.request(.DELETE, "/v1/streams/user-1?mode=hard", key: writeKey).status == 403)
            #expect(try await server.request(.DELETE, "/v1/streams/user-1?mode=hard", key: adminKey).status == 200)
            #expect(try await server.get("/metrics").status == 401)
            #expect(try await server.get("/metrics", key: readKey).status == 200)
            #expect(try await server.get("/health/ready").status == 200)
            #expect(try await server.get("/openapi.json").status == 200)
            let viaQuery = try await readEventStream(server, "/v1/subscribe?after=0&access_token=\(readKey)") { $0.contains(where: \.isEvent) }
            #expect(viaQuery.filter(\.isEvent).count == 1)
            // The same upgrade, without a key and with a wrong one, then with a reader's: only
            // the key differs, so the refusals are the key's.
            await #expect(throws: WebSocketClientError.webSocketUpgradeFailed, "a WebSocket upgrade without a key is refused") {
                try await readWebSocket(server, "/v1/ws?after=0", inbox: Inbox()) { _ in true }
            }
            await #expect(throws: WebSocketClientError.webSocketUpgradeFailed, "a WebSocket upgrade with an unknown key is refused") {
                try await readWebSocket(server, "/v1/ws?after=0", key: "not-a-key-at-all-000000", inbox: Inbox()) { _ in true }
            }
            let inbox = Inbox()
            try await readWebSocket(server, "/v1/ws?after=0", key: readKey, inbox: inbox) { !$0.events.isEmpty }
            #expect(inbox.events.count == 1)
        }
    }

    @Test("an open server refuses to listen beyond loopback, and says so")
    func openServerStaysOnLoopback() async throws {
        #expect {
            try ChronicleServer.Configuration(host: "0.0.0.0").validate()
        } throws: { error in
            // Says why, and what to do instead.
            let message = (error as? ChronicleError)?.message ?? ""
            return message.contains("0.0.0.0") && message.contains("without API keys")
        }
        try ChronicleServer.Configuration(host: "127.0.0.1").validate()
        var keyed = try keyedConfiguration()
        keyed.host = "0.0.0.0"
        try keyed.validate()
        let store = InMemoryEventStore()
        let server = ChronicleServer(store: store, configuration: .init(host: "0.0.0.0", port: 0), logger: serverTestLogger)
        await #expect {
            try await server.run()
        } throws: { error in
            (error as? ChronicleError)?.message.contains("without API keys") == true
        }
    }

    @Test("/metrics reports requests by route and status, appends, subscribers and the store (SQLite)")
    func metricsOnSQLite() async throws { try await metrics(backend: .sqlite) }

    @Test("/metrics reports requests by route and status, appends, subscribers and the store (PostgreSQL)", TestPostgres.enabled)
    func metricsOnPostgres() async throws { try await metrics(backend: .postgres) }

    func metrics(backend: TestBackend) async throws {
        try await withServer(backend: backend) { server in
            _ = try await server.post("/v1/streams/m-1", #"[{"type":"A"},{"type":"B"}]"#)
            _ = try await server.post("/v1/streams/m-1", #"{"type":"C"}"#, headers: [("If-Match", "\"9\"")])
            let text = try await server.get("/metrics").body
            #expect(text.contains(#"chronicle_http_requests_total{method="POST",route="/v1/streams/{stream}",status="201"} 1"#))
            #expect(text.contains(#"chronicle_http_requests_total{method="POST",route="/v1/streams/{stream}",status="409"} 1"#))
            #expect(text.contains("chronicle_events_appended_total 2"))
            #expect(text.contains("chronicle_append_duration_seconds_bucket"))
            #expect(text.contains(#"chronicle_subscribers{transport="websocket"} 0"#))
            #expect(text.contains("chronicle_log_head_position 2"))
            // The process's memory, as /proc says it now (within a factor of two: it moves).
            let now = try #require(ProcessMemory.read())
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("process_resident_memory_bytes ") }, "\(text)")
            let reported = try #require(Double(line.split(separator: " ")[1]))
            #expect(reported > Double(now.residentBytes) / 2 && reported < Double(now.residentBytes) * 2, "\(line) vs \(now.residentBytes)")
            #expect(text.contains("chronicle_process_peak_resident_memory_bytes "))
        }
    }

    @Test("ProcessMemory reads VmRSS, VmHWM and RssAnon from a status text (tabs or spaces), skips other lines, and is nil for a process that is not there")
    func processMemory() throws {
        let status = "Name:\tchronicle\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nRssAnon:\t   51200 kB\nRssFile: 1 kB\nThreads:\t9\n"
        #expect(ProcessMemory(status: status) == ProcessMemory(residentBytes: 100 << 20, peakResidentBytes: 200 << 20, anonymousBytes: 50 << 20))
        #expect(ProcessMemory(status: "VmRSS: lots kB\n") == ProcessMemory())
        #expect(ProcessMemory.read(processIdentifier: Int32.max) == nil)
    }

    @Test("graceful shutdown under load: every acknowledged append is stored, subscribers are told where to resume, and resuming there after a restart misses nothing (SQLite)")
    func gracefulShutdownOnSQLite() async throws { try await gracefulShutdown(backend: .sqlite) }

    @Test("graceful shutdown under load: every acknowledged append is stored, subscribers are told where to resume, and resuming there after a restart misses nothing (PostgreSQL)", TestPostgres.enabled)
    func gracefulShutdownOnPostgres() async throws { try await gracefulShutdown(backend: .postgres) }

    func gracefulShutdown(backend: TestBackend) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-shutdown-\(UUID().uuidString)").path
        // The same data for the restart: a directory, or a PostgreSQL schema kept between the two servers.
        let schema = backend == .postgres ? "chronicle_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") : nil
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let acknowledged = Collected()
        let stopping = Flag()
        let closeCode = Collected()
        let notices = try await withServer(.init(shutdownGracePeriod: .seconds(30)), dataDirectory: directory, backend: backend, postgresSchema: schema) { server in
            try await withThrowingTaskGroup(of: [ServerSentEvent].self) { group in
                group.addTask {
                    // A bound on a hang, not a speed: on a loaded machine the writers and the
                    // shutdown's grace period can take most of a minute.
                    try await readEventStream(server, "/v1/subscribe?after=0", seconds: 240) { events in events.contains { $0.event == "shutdown" } }
                }
                group.addTask {
                    let close = try await readWebSocket(server, "/v1/ws?after=0", seconds: 240, inbox: Inbox()) { _ in false }
                    closeCode.add(close.map { "\($0.closeCode)" } ?? "none")
                    return []
                }
                for writer in 0..<8 {
                    group.addTask {
                        var index = 0
                        // Requests in flight when shutdown starts must finish; none start after it.
                        while !stopping.isSet {
                            let id = UUID.timeOrdered().uuidString.lowercased()
                            guard let response = try? await server.post("/v1/streams/load-\(writer)", #"{"id":"\#(id)","type":"Loaded"}"#) else { break }
                            if response.status == 201 { acknowledged.add(id) } else { break }
                            index += 1
                            if index == 20 && writer == 0 {
                                stopping.set()
                                await server.group.triggerGracefulShutdown()
                            }
                        }
                        return []
                    }
                }
                var all: [ServerSentEvent] = []
                for try await events in group { all += events }
                return all
            }
        }
        // The shutdown notice says to resume after the last event the subscriber was sent.
        let shutdownNotice = try #require(notices.first { $0.event == "shutdown" }, "SSE subscribers get a shutdown event")
        let delivered = notices.filter(\.isEvent)
        let lastSent = try #require(delivered.last?.id.flatMap(Int64.init), "the subscriber was sent events before the shutdown")
        #expect(delivered.map(\.id) == (1...lastSent).map { String($0) }, "every event from 1 on, none missing")
        #expect(shutdownNotice.json["resumeAfter"] == .integer(lastSent), "resume after \(lastSent): \(shutdownNotice.data ?? "")")
        #expect(closeCode.values == ["goingAway"] || closeCode.values == ["normalClosure"], "WebSocket subscribers are closed by the server: \(closeCode.values)")
        // Restarted on the same data: what was acknowledged is there, and a subscriber resuming
        // after `resumeAfter` is sent exactly the events after it.
        let (stored, head, resumed) = try await withServer(dataDirectory: directory, backend: backend, postgresSchema: schema) { server in
            // One event after the restart, so there is always something after `resumeAfter`.
            #expect(try await server.post("/v1/streams/after-restart", #"{"type":"Restarted"}"#).status == 201)
            let log = try await server.store.readLog(after: 0, limit: 100_000).events
            #expect(try await server.store.verify().isIntact)
            let head = log.last?.position ?? 0
            let resumed = try await readEventStream(server, "/v1/subscribe?after=\(lastSent)") { events in
                events.filter(\.isEvent).last?.id == String(head)
            }
            return (Set(log.map { $0.id.uuidString.lowercased() }), head, resumed.filter(\.isEvent).compactMap { $0.id.flatMap(Int64.init) })
        }
        if let schema { try? await TestPostgres.dropSchema(schema) }
        let acked = acknowledged.values
        #expect(acked.count >= 20, "\(acked.count) acknowledged")
        #expect(Set(acked).isSubset(of: stored), "an acknowledged append was lost")
        #expect(resumed == Array(lastSent + 1..<head + 1), "resuming after \(lastSent) gives every later event up to \(head), once each")
    }

    @Test("configuration files: keys, limits, and clear errors with the line")
    func configurationFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = directory + "/good.yaml"
        try """
            host: 0.0.0.0
            port: 9090
            apiKeys:
              - { role: admin, key: "\(adminKey)" }
              - { role: read, key: "\(readKey)" }
            maximumRequestBytes: 2048
            heartbeatSeconds: 2.5
            """.write(toFile: good, atomically: true, encoding: .utf8)
        let configuration = try ChronicleServer.Configuration.load(file: good, environment: ["CHRONICLE_API_KEYS": "write:\(writeKey)"])
        #expect(configuration.host == "0.0.0.0" && configuration.port == 9090 && configuration.maximumRequestBytes == 2048)
        #expect(configuration.heartbeatInterval == .milliseconds(2500))
        #expect(configuration.apiKeys.count == 3)
        #expect(configuration.apiKeys.role(of: writeKey) == .write && configuration.apiKeys.role(of: adminKey) == .admin)
        #expect(configuration.apiKeys.role(of: "nope") == nil)
        try configuration.validate()

        let cases: [(String, String)] = [
            ("host: 127.0.0.1\nprot: 8080\n", "line 2: unknown setting \"prot\""),
            ("apiKeys:\n  - { role: admin, key: short }\n", "at least 16"),
            ("apiKeys:\n  - { role: owner, key: \"\(adminKey)\" }\n", "not a valid configuration"),
            ("port: [1, 2]\n", "not a valid configuration"),
        ]
        for (text, fragment) in cases {
            let file = directory + "/bad.yaml"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(throws: ChronicleError.self) { try ChronicleServer.Configuration.load(file: file, environment: [:]) }
            do {
                _ = try ChronicleServer.Configuration.load(file: file, environment: [:])
            } catch let error as ChronicleError {
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
        #expect(throws: ChronicleError.self) { try ChronicleServer.Configuration.load(file: directory + "/missing.yaml", environment: [:]) }
        #expect(throws: ChronicleError.self) { try ChronicleServer.Configuration.load(file: nil, environment: ["CHRONICLE_API_KEYS": "boss:\(adminKey)"]) }
        #expect(throws: ChronicleError.self) { try ChronicleServer.Configuration.load(file: nil, environment: ["CHRONICLE_API_KEYS": "read:\(readKey),admin:\(readKey)"]) }
    }
}
