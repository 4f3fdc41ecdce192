import Chronicle
import ChronicleTestSupport
import Foundation
import Testing

/// The README's Swift snippet is the `ReadmeSnippet` target's `main.swift`, byte for byte, so
/// it compiles as written (with `import Chronicle` alone); this suite checks the two are still
/// the same text and runs the built snippet in a fresh directory.
@Suite("README: the Swift snippet compiles as written and runs")
struct ReadmeSnippetTests {
    static let root = ReadmeExample.root
    static let binary = ReadmeExample.binary(named: "ReadmeSnippet")

    @Test("the README's library snippet is Tests/ReadmeSnippet/main.swift")
    func snippetIsTheReadmeText() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let code = try String(contentsOf: Self.root.appendingPathComponent("Tests/ReadmeSnippet/main.swift"), encoding: .utf8)
        let snippet = try #require(ReadmeExample.swiftBlock(in: readme, startingWith: "import Chronicle\n"), "README.md has no ```swift block starting with import Chronicle")
        #expect(snippet == code, "README.md's snippet and Tests/ReadmeSnippet/main.swift differ: change both")
    }

    @Test("the snippet runs in an empty directory: it appends, reads, follows the log and stops")
    func snippetRuns() async throws {
        let binary = try #require(Self.binary, "ReadmeSnippet is not built next to the tests (swift build --build-tests builds it)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)

        let process = try ChildProcess(
            executable: binary, arguments: [], environment: ProcessInfo.processInfo.environment,
            stdin: .nullDevice, stdout: try FileHandle(forWritingTo: out), stderr: try FileHandle(forWritingTo: err), directory: directory
        )
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.send(SIGKILL) }
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }

        let stderr = try String(contentsOf: err, encoding: .utf8)
        #expect(process.termination == .exit(0), "the snippet failed: \(stderr)")
        #expect(try String(contentsOf: out, encoding: .utf8) == "1 UserCreated {\"email\":\"ada@example.com\"}\n")

        var logger = Logger(label: "chronicle.readme-tests")
        logger.logLevel = .critical
        let store = try SQLiteEventStore(directory: directory.appendingPathComponent("app-data").path, logger: logger)
        let log = try await store.readLog(after: 0, limit: 10).events
        #expect(log.map { "\($0.position) \($0.stream) \($0.type)" } == ["1 user-1 UserCreated", "2 account-1 Debited", "3 account-2 Credited"])
    }
}
