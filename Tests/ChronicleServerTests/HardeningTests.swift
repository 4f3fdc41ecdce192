import ChronicleCore
import ChronicleProjections
import ChronicleServer
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import NIOCore
import Testing

/// What an attacker or a careless client does to the HTTP layer: connections that never
/// finish a request, floods of them, requests the parser cannot read, keys in URLs.
@Suite("HTTP: hostile connections and malformed requests")
struct HardeningTests {
    @Test("a connection that never finishes its request head is closed after requestHeaderTimeout, an idle keep-alive one after idleTimeout")
    func stalledConnectionsAreClosed() async throws {
        try await withServer(.init(port: 0, requestHeaderTimeout: .seconds(1), idleTimeout: .seconds(1))) { server in
            // On a loaded machine the test may reach its send after the server's 1 s timeout
            // has closed the connection already: that is the closing the test waits for.
            func send(_ connection: RawConnection, _ text: String) async throws {
                do {
                    try await connection.send(text)
                } catch ChannelError.ioOnClosedChannel {}
            }
            let start = ContinuousClock.now
            let stalled = try await RawConnection.open(port: server.port)
            try await send(stalled, "GET /health/re")
            try await withDeadline(seconds: 60, "the server to close a connection holding a partial request line") {
                try await stalled.closed()
            }
            #expect(ContinuousClock.now - start >= .milliseconds(900), "closed for the timeout, not at once")

            let idle = try await RawConnection.open(port: server.port)
            try await send(idle, "GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n")
            try await withDeadline(seconds: 60, "the server to close an idle keep-alive connection") {
                try await idle.closed()
            }
        }
    }

    @Test("a graceful shutdown closes connections waiting for a request head at once, not after the timeout")
    func shutdownClosesStalledConnections() async throws {
        try await withServer(.init(port: 0, requestHeaderTimeout: .seconds(600))) { server in
            let stalled = try await RawConnection.open(port: server.port)
            try await stalled.send("GET /health/re")
            #expect(try await server.get("/health/ready").status == 200)
            await server.group.triggerGracefulShutdown()
            try await withDeadline(seconds: 60, "the shutdown to close a connection holding a partial request line") {
                try await stalled.closed()
            }
        }
    }

    @Test("2,000 stalled connections: /health/ready is still answered, and every stalled one is closed")
    func manyStalledConnections() async throws {
        try await withServer(.init(port: 0, requestHeaderTimeout: .seconds(15), maximumConnectionsPerAddress: 10_000)) { server in
            let connections = try await withThrowingTaskGroup(of: [RawConnection].self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        var opened: [RawConnection] = []
                        for _ in 0..<100 {
                            let connection = try await RawConnection.open(port: server.port)
                            try await connection.send("GET /v1/lo")
                            opened.append(connection)
                        }
                        return opened
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(connections.count == 2000)
            let start = ContinuousClock.now
            let ready = try await withDeadline(seconds: 15, "/health/ready beside 2,000 stalled connections") {
                try await server.get("/health/ready")
            }
            #expect(ready.status == 200)
            let waited = ContinuousClock.now - start
            let stillOpen = connections.filter(\.channel.isActive).count
            #expect(stillOpen > 0, "the health check was answered while stalled connections were held (\(waited))")
            try await withDeadline(seconds: 120, "the server to close 2,000 stalled connections") {
                for connection in connections { try await connection.closed() }
            }
        }
    }

    @Test("at maximumConnections the server waits for a connection to close, counts it in /metrics, and then answers")
    func connectionCap() async throws {
        try await withServer(.init(port: 0, requestHeaderTimeout: .seconds(5), maximumConnections: 10)) { server in
            // Opened at once, so they are all held together even on a slow machine.
            let stalled = try await withThrowingTaskGroup(of: RawConnection.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        let connection = try await RawConnection.open(port: server.port)
                        try await connection.send("GET /v1")
                        return connection
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let metrics = try await withDeadline(seconds: 120, "/metrics once the stalled connections time out") {
                try await server.get("/metrics")
            }
            #expect(metrics.status == 200)
            #expect(metrics.body.contains("chronicle_http_connection_cap_reached_total"))
            let reached = metrics.body.split(separator: "\n").first { $0.hasPrefix("chronicle_http_connection_cap_reached_total ") }
            #expect(reached.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 >= 1 } == true, "\(reached ?? "no cap counter")")
            let open = metrics.body.split(separator: "\n").first { $0.hasPrefix("chronicle_http_connections ") }
            #expect(open.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 <= 10 + 4 } == true, "\(open ?? "no connection gauge")")
            for connection in stalled { await connection.close() }
        }
    }

    @Test("requests the parser refuses get a 400 or 431 problem and the connection is closed", arguments: [
        ("a 100 KB header", Array("GET /health/ready HTTP/1.1\r\nHost: test\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n".utf8), "431", "headers-too-large"),
        ("a control byte in the request line", Array("GET /hea\u{01}lth HTTP/1.1\r\nHost: test\r\n\r\n".utf8), "400", "malformed-request"),
        ("Content-Length: abc", Array("POST /v1/streams/user-1 HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n".utf8), "400", "malformed-request"),
        ("a TLS hello", [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03] + [UInt8](repeating: 0, count: 64), "400", "malformed-request"),
    ] as [(String, [UInt8], String, String)])
    func malformedRequests(_ what: String, _ bytes: [UInt8], _ status: String, _ code: String) async throws {
        try await withServer { server in
            let answer = try await withDeadline(seconds: 60, "an answer to \(what), then the connection closed") {
                try await RawConnection.exchange(port: server.port, bytes)
            }
            #expect(answer.hasPrefix("HTTP/1.1 \(status) "), "\(what): \(answer.prefix(200))")
            #expect(answer.lowercased().contains("content-type: application/problem+json"))
            #expect(answer.contains(#""code":"\#(code)""#))
            #expect(answer.lowercased().contains("connection: close"))
            #expect(try await server.get("/health/ready").status == 200, "the server goes on serving")
        }
    }

    @Test("?access_token= is accepted on /v1/subscribe and /v1/ws only; elsewhere a 401 says to use the header")
    func accessTokenOnlyWhereBrowsersNeedIt() async throws {
        try await withServer(try keyedConfiguration()) { server in
            #expect(try await server.post("/v1/streams/user-1", #"{"type":"UserCreated"}"#, key: writeKey).status == 201)
            let log = try await server.get("/v1/log?access_token=\(readKey)")
            #expect(log.status == 401)
            #expect(log.body.contains("Authorization: Bearer"), "\(log.body)")
            let delete = try await server.request(.DELETE, "/v1/streams/user-1?mode=hard&access_token=\(adminKey)")
            #expect(delete.status == 401)
            let stream = try await server.get("/v1/streams/user-1", key: readKey)
            guard case .array(let events)? = stream.json["events"] else { Issue.record("\(stream.body)"); return }
            #expect(events.count == 1, "the hard delete did not happen")
            let subscribe = try await readEventStream(server, "/v1/subscribe?after=0&access_token=\(readKey)") { $0.contains(where: \.isEvent) }
            #expect(subscribe.filter(\.isEvent).count == 1)
        }
    }

    @Test("a WebSocket upgrade without a valid key answers a 401 problem, not an empty 400")
    func webSocketUpgradeWithoutKey() async throws {
        try await withServer(try keyedConfiguration()) { server in
            let upgrade = { @Sendable (query: String) -> [UInt8] in
                Array("GET /v1/ws?after=0\(query) HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8)
            }
            for query in ["", "&access_token=not-a-key-at-all-000000"] {
                let answer = try await withDeadline(seconds: 60, "the answer to an upgrade without a valid key") {
                    try await RawConnection.exchange(port: server.port, upgrade(query))
                }
                #expect(answer.hasPrefix("HTTP/1.1 401 "), "\(answer.prefix(200))")
                #expect(answer.lowercased().contains("content-type: application/problem+json"))
                #expect(answer.contains(#""code":"unauthorized""#))
            }
            let accepted = try await RawConnection.open(port: server.port)
            try await accepted.send(upgrade("&access_token=\(readKey)"))
            await accepted.close()
        }
    }

    @Test("a number that cannot be kept exactly is refused with a 400 naming it, never rounded")
    func numbersAreNeverRounded() async throws {
        try await withServer { server in
            let refused = try await server.post("/v1/streams/order-1", #"{"type":"OrderPlaced","data":{"total":123456789012345678901234567890}}"#)
            #expect(refused.status == 400)
            #expect(refused.body.contains("123456789012345678901234567890"), "\(refused.body)")
            #expect(try await server.get("/v1/streams/order-1").status == 404, "nothing was stored")
            let kept = try await server.post("/v1/streams/order-1", #"{"type":"OrderPlaced","data":{"total":9223372036854775807,"rate":0.1}}"#)
            #expect(kept.status == 201)
            let read = try await server.get("/v1/streams/order-1")
            #expect(read.body.contains(#""total":9223372036854775807"#) && read.body.contains(#""rate":0.1"#), "\(read.body)")
        }
    }

    @Test("Location percent-encodes the stream and the entity id as one path segment, and it can be followed")
    func locationIsOneSegment() async throws {
        let schema = try EntitySchema(yaml: "entities:\n  user:\n    events:\n      UserCreated: create\n")
        try await withServer(projection: DeclarativeProjection(schema: schema)) { server in
            let appended = try await server.post("/v1/streams/a%2Fb%3Fc", #"{"type":"X"}"#)
            #expect(appended.status == 201)
            #expect(appended.header("Location") == "/v1/streams/a%2Fb%3Fc")
            #expect(try await server.get(appended.header("Location") ?? "/").status == 200)
            let created = try await server.post("/v1/events/UserCreated", #"{"id":"x/y?z","name":"Ada"}"#)
            #expect(created.status == 201, "\(created.body)")
            #expect(created.header("Location") == "/v1/entities/user/x%2Fy%3Fz")
            let entity = try await server.get(created.header("Location") ?? "/")
            #expect(entity.status == 200 && entity.body.contains("Ada"), "\(entity.body)")
        }
    }

    @Test("If-None-Match: * appends only to a stream that does not exist, else 412; other values are a 400")
    func ifNoneMatchStar() async throws {
        try await withServer { server in
            let first = try await server.post("/v1/streams/user-1", #"{"type":"UserCreated"}"#, headers: [("If-None-Match", "*")])
            #expect(first.status == 201)
            let second = try await server.post("/v1/streams/user-1", #"{"type":"UserCreated"}"#, headers: [("If-None-Match", "*")])
            #expect(second.status == 412)
            #expect(second.json["code"] == "precondition-failed" && second.json["actualRevision"] == 0, "\(second.body)")
            #expect(try await server.post("/v1/streams/user-2", #"{"type":"X"}"#, headers: [("If-None-Match", "\"3\"")]).status == 400)
            #expect(try await server.post("/v1/streams/user-2", #"{"type":"X"}"#, headers: [("If-None-Match", "*"), ("If-Match", "*")]).status == 400)
            let stream = try await server.get("/v1/streams/user-1")
            guard case .array(let events)? = stream.json["events"] else { Issue.record("\(stream.body)"); return }
            #expect(events.count == 1, "the refused append stored nothing")
        }
    }

    @Test("API keys are never logged: every auth path at trace level, and no record holds a key")
    func keysAreNeverLogged() async throws {
        let log = CapturedLog()
        let wrongKey = "wrong-key-0123456789abcdef"
        try await withServer(try keyedConfiguration(), logger: log.logger) { server in
            #expect(try await server.post("/v1/streams/user-1", #"{"type":"UserCreated"}"#, key: writeKey).status == 201)
            #expect(try await server.get("/v1/log", key: readKey).status == 200)
            #expect(try await server.request(.DELETE, "/v1/streams/user-1?mode=hard", key: adminKey).status == 200)
            #expect(try await server.get("/v1/log", key: wrongKey).status == 401)
            #expect(try await server.post("/v1/streams/user-2", #"{"type":"X"}"#, key: readKey).status == 403)
            #expect(try await server.get("/v1/log", headers: [("Authorization", "Basic \(adminKey)")]).status == 401)
            #expect(try await server.get("/v1/log?access_token=\(adminKey)").status == 401)
            #expect(try await server.get("/metrics", key: readKey).status == 200)
            _ = try await readEventStream(server, "/v1/subscribe?after=0&access_token=\(readKey)") { $0.contains(where: \.isEvent) }
            _ = try await RawConnection.exchange(port: server.port, Array("GET /v1/ws?access_token=\(wrongKey) HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
            _ = try await RawConnection.exchange(port: server.port, Array("GET /v1/log HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(adminKey)\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n".utf8))
        }
        let records = log.records
        #expect(records.count > 1, "the server logged at trace level")
        for key in [readKey, writeKey, adminKey, wrongKey] {
            let leaks = records.filter { record in record.message.contains(key) || record.metadata.values.contains { $0.contains(key) } }
            #expect(leaks.isEmpty, "\(key) appears in \(leaks.map(\.message))")
        }
    }

    @Test("the loopback check resolves the host: 127.example.com is not loopback, 127.0.0.2, ::1 and localhost are")
    func loopbackIsResolved() throws {
        for host in ["127.0.0.1", "127.0.0.2", "::1", "localhost"] {
            #expect(ChronicleServer.Configuration(host: host).bindsToLoopbackOnly, "\(host)")
            try ChronicleServer.Configuration(host: host, port: 0).validate()
        }
        for host in ["127.example.com", "0.0.0.0", "::", "10.0.0.1", "::ffff:10.0.0.1"] {
            #expect(!ChronicleServer.Configuration(host: host).bindsToLoopbackOnly, "\(host)")
            #expect(throws: ChronicleError.self, "\(host) without keys") { try ChronicleServer.Configuration(host: host, port: 0).validate() }
        }
        #expect(ChronicleServer.Configuration(host: "::ffff:127.0.0.1").bindsToLoopbackOnly)
    }

    @Test("the connection settings are read from the configuration file and checked")
    func connectionSettings() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-config-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "requestHeaderTimeoutSeconds: 2.5\nidleTimeoutSeconds: 30\nmaximumConnections: 500\ncorsOrigins: [\"https://app.example.com\"]\n".write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = try ChronicleServer.Configuration.load(file: file, environment: [:])
        #expect(configuration.requestHeaderTimeout == .milliseconds(2500))
        #expect(configuration.idleTimeout == .seconds(30))
        #expect(configuration.maximumConnections == 500)
        #expect(configuration.corsOrigins == ["https://app.example.com"])
        #expect(throws: ChronicleError.self) { try ChronicleServer.Configuration(port: 0, maximumConnections: 0).validate() }
        #expect(throws: ChronicleError.self) { try ChronicleServer.Configuration(port: 0, requestHeaderTimeout: .zero).validate() }
        #expect(throws: ChronicleError.self) { try ChronicleServer.Configuration(port: 0, corsOrigins: ["app.example.com"]).validate() }
    }
}
