import ChronicleClient
import ChronicleCore
import ChronicleTestSupport
import Foundation
import Testing

/// A `chronicle serve` child process on a data directory and a fixed port, for the tests
/// that kill the server with SIGKILL (no graceful shutdown, no `shutdown` message) and start
/// it again on the same data and port.
struct ServeProcess {
    static let binary: URL? = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("chronicle")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }()

    let process: ChildProcess
    let stderr: URL

    /// Starts `chronicle serve --data directory --port port` and waits until it is ready.
    ///
    /// The port was free when the test picked it, but until the server binds it again any
    /// outgoing connection of a test running beside this one may get it as its ephemeral
    /// port for a moment; a start refused with `Address already in use` is tried again, for
    /// up to a minute.
    static func start(directory: String, port: Int) async throws -> ServeProcess {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                return try await startOnce(directory: directory, port: port)
            } catch let error as ChronicleClientError where error.detail.contains("Address already in use") && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private static func startOnce(directory: String, port: Int) async throws -> ServeProcess {
        let binary = try #require(binary, "the chronicle binary is not built next to the tests")
        let stderr = URL(fileURLWithPath: directory + "-serve-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = try ChildProcess(
            executable: binary, arguments: ["serve", "--data", directory, "--port", String(port)], environment: ProcessInfo.processInfo.environment,
            stdin: .nullDevice, stdout: .nullDevice, stderr: try FileHandle(forWritingTo: stderr)
        )
        let probe = try client(port: port, retry: .none)
        try await poll("chronicle serve to be ready", seconds: 120) {
            guard process.isRunning else { return true }
            return (try? await probe.get("/health/ready", as: JSONValue.self)) != nil
        }
        guard process.isRunning else {
            throw ChronicleClientError(.connectionFailed, "chronicle serve exited: \((try? String(contentsOf: stderr, encoding: .utf8)) ?? "")")
        }
        return ServeProcess(process: process, stderr: stderr)
    }

    /// Kills it with SIGKILL and waits until it is gone.
    func kill() async throws {
        process.send(SIGKILL)
        try await poll("the killed server to exit") { !process.isRunning }
        try? FileManager.default.removeItem(at: stderr)
    }
}

/// The server killed (SIGKILL) and started again on the same data and port, under a client
/// in the middle of an append or a subscription.
@Suite("ChronicleClient: a server killed and restarted")
struct ClientKillTests {
    static let patient = RetryPolicy(maximumAttempts: 2000, initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))

    @Test("killed after storing an append and before its answer arrived: the retry reaches the restarted server, stored once, replayed")
    func appendAcrossKill() async throws {
        let directory = freshDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try await freePort()
        let proxy = try await ResponseDroppingProxy(to: port)
        let chronicle = try client(port: proxy.port, retry: Self.patient)
        let events = [EventData(type: "OrderPlaced", data: ["total": 42]), EventData(type: "OrderPaid")]
        let stream = try StreamName("order-7")

        var server = try await ServeProcess.start(directory: directory, port: port)
        let receipt = try await withThrowingTaskGroup(of: AppendReceipt.self) { group in
            proxy.dropNextAnswer()
            group.addTask { try await chronicle.append(events, to: stream, expected: .noStream) }
            try await poll("the server to store the append and the proxy to drop its answer") { proxy.droppedAnswers == 1 }
            try await server.kill()
            server = try await ServeProcess.start(directory: directory, port: port)
            proxy.restore()
            // Bounded by the client's retries (at most 2000 attempts, 200 ms apart).
            return try await group.next()!
        }
        #expect(receipt.replayed && receipt.position == 2 && receipt.stream.lastRevision == 1 && receipt.eventIds == events.map(\.id))
        let log = try await client(port: port).readLog()
        #expect(log.events.map(\.id) == events.map(\.id), "stored once")
        try await server.kill()
        await proxy.stop()
    }

    @Test("a subscription across a kill and restart: every event once, in order")
    func subscriptionAcrossKill() async throws {
        let directory = freshDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try await freePort()
        let chronicle = try client(port: port, retry: Self.patient)
        let seen = Seen()
        var server = try await ServeProcess.start(directory: directory, port: port)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await event in chronicle.subscribe(after: 0, filter: LogFilter(categories: ["tick"])) { seen.add(event) }
            }
            for index in 0..<5 { try await chronicle.append(EventData(type: "Tick", data: ["n": .integer(Int64(index))]), to: try StreamName("tick-\(index)")) }
            try await poll("the subscriber to get the first events") { seen.count >= 5 }
            try await server.kill()
            server = try await ServeProcess.start(directory: directory, port: port)
            for index in 5..<10 { try await chronicle.append(EventData(type: "Tick", data: ["n": .integer(Int64(index))]), to: try StreamName("tick-\(index)")) }
            try await poll("the subscriber to resume on the restarted server") { seen.count >= 10 }
            group.cancelAll()
        }
        try await server.kill()
        #expect(seen.all.map(\.position) == Array(1...10), "no gap, no duplicate")
        #expect(seen.all.map { $0.data["n"] } == (0..<10).map { JSONValue.integer(Int64($0)) })
    }
}
