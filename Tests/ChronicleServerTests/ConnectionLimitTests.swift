import ChronicleCore
import ChronicleServer
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import NIOCore
import Testing

/// A client that sends its body too slowly, and one address that opens too many connections.
@Suite("HTTP: slow bodies and connections per address")
struct ConnectionLimitTests {
    @Test("a body that trickles in past requestBodyTimeout gets a 408 problem, the connection is closed, nothing is stored, and the server goes on")
    func slowBody() async throws {
        try await withServer(.init(port: 0, requestBodyTimeout: .seconds(1))) { server in
            let body = #"{"type":"UserCreated","data":{"email":"ada@example.com"}}"#
            let connection = try await RawConnection.open(port: server.port)
            let start = ContinuousClock.now
            try await connection.send("POST /v1/streams/user-1 HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count + 400)\r\n\r\n" + body.prefix(10))
            // One byte of whitespace every 50 ms: the body keeps coming, 20 s at that rate,
            // but not within the 1 s deadline (a deadline between reads would never fire).
            let answer = try await withDeadline(seconds: 60, "a 408 answer to a trickling body, then the connection closed") {
                try await withThrowingTaskGroup(of: Void.self) { trickle in
                    trickle.addTask {
                        for _ in 0..<400 where connection.channel.isActive {
                            try? await connection.send(" ")
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    }
                    try await connection.closed()
                    trickle.cancelAll()
                }
                return connection.received
            }
            #expect(ContinuousClock.now - start >= .milliseconds(900), "answered for the deadline, not at once")
            #expect(answer.hasPrefix("HTTP/1.1 408 "), "\(answer.prefix(300))")
            #expect(answer.lowercased().contains("content-type: application/problem+json"))
            #expect(answer.contains(#""code":"request-body-timeout""#))
            #expect(answer.lowercased().contains("connection: close"))
            #expect(try await server.get("/v1/streams/user-1").status == 404, "nothing of the slow request was stored")
            #expect(try await server.post("/v1/streams/user-1", body).status == 201, "a body sent at once is answered as before")
            let metrics = try await server.get("/metrics")
            #expect(Self.counter("chronicle_http_request_body_timeouts_total", in: metrics.body) == 1)
        }
    }

    @Test("an address holding maximumConnectionsPerAddress gets a 429 problem on one more (its request not read), and is served again once one closes")
    func connectionsPerAddress() async throws {
        try await withServer(.init(port: 0, maximumConnectionsPerAddress: 3)) { server in
            // Three keep-alive connections, each answered once: all three are counted.
            var held: [RawConnection] = []
            for _ in 0..<3 {
                let connection = try await RawConnection.open(port: server.port)
                try await connection.send("GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n")
                _ = try await withDeadline(seconds: 60, "a held connection answered") {
                    try await connection.receive { $0.contains("\r\n\r\n") }
                }
                #expect(connection.received.hasPrefix("HTTP/1.1 200 "), "\(connection.received.prefix(200))")
                held.append(connection)
            }
            let body = #"{"type":"UserCreated","data":{"email":"ada@example.com"}}"#
            let refused = try await withDeadline(seconds: 60, "a fourth connection answered and closed") {
                try await RawConnection.exchange(port: server.port, Array("POST /v1/streams/user-9 HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
            }
            #expect(refused.hasPrefix("HTTP/1.1 429 "), "\(refused.prefix(300))")
            #expect(refused.lowercased().contains("content-type: application/problem+json"))
            #expect(refused.contains(#""code":"too-many-connections""#))
            #expect(refused.lowercased().contains("connection: close"))

            await held[0].close()
            let served = try await withDeadline(seconds: 60, "a new connection served once one of the three closed") {
                while true {
                    let answer = try await RawConnection.exchange(port: server.port, Array("GET /health/live HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".utf8))
                    if !answer.hasPrefix("HTTP/1.1 429 ") { return answer }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(served.hasPrefix("HTTP/1.1 200 "), "\(served.prefix(200))")
            for connection in held.dropFirst() { await connection.close() }
            try await withDeadline(seconds: 60, "the server to count the held connections closed") {
                while try await server.get("/health/live").status != 200 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(try await server.get("/v1/streams/user-9").status == 404, "the refused connection's append was never read")
            let metrics = try await server.get("/metrics")
            #expect((Self.counter("chronicle_http_connections_refused_total", in: metrics.body) ?? 0) >= 1, "\(metrics.body.split(separator: "\n").filter { $0.contains("refused") })")
        }
    }

    @Test("the body timeout and the per-address limit are read from the configuration file and checked")
    func settings() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-config-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "requestBodyTimeoutSeconds: 7.5\nmaximumConnectionsPerAddress: 40\n".write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = try ChronicleServer.Configuration.load(file: file, environment: [:])
        #expect(configuration.requestBodyTimeout == .milliseconds(7500))
        #expect(configuration.maximumConnectionsPerAddress == 40)
        #expect(ChronicleServer.Configuration().requestBodyTimeout == .seconds(30))
        #expect(ChronicleServer.Configuration().maximumConnectionsPerAddress == 1000)
        #expect(throws: ChronicleError.self) { try ChronicleServer.Configuration(port: 0, requestBodyTimeout: .zero).validate() }
        #expect(throws: ChronicleError.self) { try ChronicleServer.Configuration(port: 0, maximumConnectionsPerAddress: 0).validate() }
    }

    /// The value of an unlabelled counter in a Prometheus text page.
    static func counter(_ name: String, in page: String) -> Double? {
        page.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }
}
