import ChronicleClient
import ChronicleTestSupport
import Foundation
import Testing

/// The README's Swift client example is `Tests/ClientReadmeSnippet/main.swift`, byte for
/// byte, so it compiles as written; this suite checks the two are the same text and runs the
/// built example against a real server whose reactor calls a real webhook receiver.
@Suite("README: the Swift client example compiles as written and runs against a server")
struct ClientReadmeTests {
    static let root = ReadmeExample.root
    static let binary = ReadmeExample.binary(named: "ClientReadmeSnippet")

    @Test("the README's client example is Tests/ClientReadmeSnippet/main.swift")
    func exampleIsTheReadmeText() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let code = try String(contentsOf: Self.root.appendingPathComponent("Tests/ClientReadmeSnippet/main.swift"), encoding: .utf8)
        let snippet = try #require(ReadmeExample.swiftBlock(in: readme, startingWith: "import ChronicleClient\n"), "README.md has no ```swift block starting with import ChronicleClient")
        #expect(snippet == code, "README.md's client example and Tests/ClientReadmeSnippet/main.swift differ: change both")
    }

    @Test("the example signs up, is told the welcome email went out, reads its write, is refused an ad, follows the log")
    func exampleRuns() async throws {
        let binary = try #require(Self.binary, "ClientReadmeSnippet is not built next to the tests (swift build --build-tests builds it)")
        let receiver = Receiver(then: (200, #"{"events":[{"stream":"email-ada","type":"WelcomeEmailSent"}]}"#))
        let output = try await receiver.run { url in
            try await withClient(ServerSetup(schema: appSchema(webhook: url))) { _, port in
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-client-readme-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
                _ = FileManager.default.createFile(atPath: out.path, contents: nil)
                _ = FileManager.default.createFile(atPath: err.path, contents: nil)
                var environment = ProcessInfo.processInfo.environment
                environment["CHRONICLE_URL"] = "http://127.0.0.1:\(port)"
                let process = try ChildProcess(
                    executable: binary, arguments: [], environment: environment,
                    stdin: .nullDevice, stdout: try FileHandle(forWritingTo: out), stderr: try FileHandle(forWritingTo: err), directory: directory
                )
                let deadline = ContinuousClock.now + .seconds(120)
                while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                if process.isRunning { process.send(SIGKILL) }
                while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
                let stderr = try String(contentsOf: err, encoding: .utf8)
                #expect(process.termination == .exit(0), "the example failed: \(stderr)")
                return try String(contentsOf: out, encoding: .utf8)
            }
        }
        #expect(output == """
            welcome email sent
            user ada, version 0, verified: false
            refused (403): Verify your email address before posting.
            1 UserCreated

            """)
        #expect(receiver.received.count == 1)
    }
}
