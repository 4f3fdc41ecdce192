import ChronicleCore
import ChronicleTestSupport
import Foundation
import Testing

@Suite("chronicle serve and --server")
struct ServeCLITests {
    /// Starts `chronicle serve` on a free port and returns its URL, the process and its stderr
    /// file (named after the data directory, so ``withCLI(_:)`` removes it).
    func startServer(_ cli: CLI, _ extra: [String] = [], environment: [String: String] = [:]) async throws -> (url: String, process: ChildProcess, stderr: URL) {
        let stderr = URL(fileURLWithPath: cli.data + "-serve-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = try cli.process(["serve", "--port", "0"] + extra, stdout: FileHandle.nullDevice, stderr: try FileHandle(forWritingTo: stderr), environment: environment)
        var url: String?
        try await pollUntil("the server to print its URL") {
            let text = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                url = String(text[range])
            }
            return url != nil || !process.isRunning
        }
        guard let url else {
            throw CLIError(message: "serve exited: \((try? String(contentsOf: stderr, encoding: .utf8)) ?? "")")
        }
        return (url, process, stderr)
    }

    @Test("append, read, log and tail work against a running server, and serve stops cleanly on SIGTERM")
    func remoteCommands() async throws {
        try await withCLI { cli in
            let (url, server, stderr) = try await startServer(cli)
            defer { if server.isRunning { server.terminate() } }
            let remote = CLI(data: cli.data + "-unused")
            let appended = try await remote.run(arguments: ["append", "user-1", "UserCreated", #"{"email":"ada@example.com"}"#, "--server", url, "--json"])
            #expect(appended.status == 0, "\(appended.stderr)")
            #expect(try jsonObject(appended.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["position"] == 1)
            let conflict = try await remote.run(arguments: ["append", "user-1", "UserRenamed", "{}", "--server", url, "--expected-revision", "noStream"])
            #expect(conflict.status == 1 && conflict.stderr.contains("is at revision 0"), "\(conflict.stderr)")
            #expect(try await remote.run(arguments: ["append", "user-1", "UserRenamed", #"{"name":"Ada"}"#, "--server", url, "--expected-revision", "0"]).status == 0)

            let read = try await remote.run(arguments: ["read", "user-1", "--server", url, "--json"])
            #expect(try read.lines.map(jsonObject).map { $0["type"] } == ["UserCreated", "UserRenamed"])
            let log = try await remote.run(arguments: ["log", "--server", url, "--type", "UserRenamed"])
            #expect(log.lines.count == 1 && log.stdout.contains("UserRenamed"))

            let output = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-rtail-\(UUID().uuidString)")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: output) }
            let tail = try remote.process(["tail", "--server", url, "--after", "0", "--json"], stdout: try FileHandle(forWritingTo: output), stderr: FileHandle.nullDevice)
            defer { if tail.isRunning { tail.terminate() } }
            func lines() -> [String] { ((try? String(contentsOf: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
            try await pollUntil("remote tail to print the stored events") { lines().count >= 2 }
            #expect(try await remote.run(arguments: ["append", "user-1", "UserVerified", "{}", "--server", url]).status == 0)
            try await pollUntil("remote tail to print the live event") { lines().count >= 3 }
            #expect(try lines().map(jsonObject).map { $0["type"] } == ["UserCreated", "UserRenamed", "UserVerified"])

            server.terminate()
            try await waitForExit(server, seconds: 60)
            #expect(server.terminationStatus == 0)
            #expect(((try? String(contentsOf: stderr, encoding: .utf8)) ?? "").contains("Chronicle stopped."))
            try await waitForExit(tail, seconds: 60)
            #expect(tail.terminationStatus == 1, "tail says the server went away")
            let local = try await cli.run("read", "user-1", "--json")
            #expect(local.lines.count == 3, "the server wrote to its data directory")
        }
    }

    @Test("serve refuses an open server beyond loopback; --server refuses nonsense", arguments: [
        (["serve", "--host", "0.0.0.0", "--port", "0"], "without API keys", Int32(1)),
        (["serve", "--config", "/nonexistent/chronicle.yaml"], "Cannot read the configuration file", 1),
        (["read", "user-1", "--server", "ftp://example"], "not an http(s) URL", 64),
        (["read", "user-1", "--server", "http://127.0.0.1:9"], "cannot reach the server", 1),
        (["serve", "--postgres", "mysql://u@127.0.0.1/db"], "postgres://", 1),
        (["serve", "--postgres", "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"], "127.0.0.1:1", 1),
        (["serve", "--data", "d", "--postgres", "postgres://u@127.0.0.1/db"], "give one", 64),
        (["serve", "--lease-duration", "0s"], "--lease-duration", 64),
        (["serve", "--schema", "/nonexistent/schema.yaml", "--postgres", "postgres://u@127.0.0.1/db"], "schema.yaml", 1),
    ])
    func refusals(arguments: [String], fragment: String, status: Int32) async throws {
        try await withCLI { cli in
            let process = try await cli.run(arguments: arguments)
            #expect(process.status == status, "\(process.stderr)")
            #expect(process.stderr.split(separator: "\n").count == 1 && process.stderr.contains(fragment), "\(process.stderr)")
        }
    }

    @Test("with API keys, the CLI sends its key and the server checks the role")
    func keys() async throws {
        try await withCLI { cli in
            let writer = "writer-key-0123456789abcdef", reader = "reader-key-0123456789abcdef"
            let (url, server, _) = try await startServer(cli, environment: ["CHRONICLE_API_KEYS": "write:\(writer),read:\(reader)"])
            defer { if server.isRunning { server.terminate() } }
            let remote = CLI(data: cli.data + "-unused")
            let anonymous = try await remote.run(arguments: ["append", "a-1", "T", "{}", "--server", url])
            #expect(anonymous.status == 1 && anonymous.stderr.contains("API key"), "\(anonymous.stderr)")
            let wrongRole = try await remote.run(arguments: ["append", "a-1", "T", "{}", "--server", url, "--api-key", reader])
            #expect(wrongRole.status == 1 && wrongRole.stderr.contains("write role"), "\(wrongRole.stderr)")
            #expect(try await remote.run(arguments: ["append", "a-1", "T", "{}", "--server", url, "--api-key", writer]).status == 0)
            #expect(try await remote.run(arguments: ["read", "a-1", "--server", url, "--api-key", reader]).lines.count == 1)
            server.terminate()
            try await waitForExit(server, seconds: 60)
        }
    }
}
