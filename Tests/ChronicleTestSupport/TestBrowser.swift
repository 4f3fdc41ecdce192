import ChronicleTesting
import Foundation
import Testing

/// Headless Chromium for the web console's browser tests: Debian's `chromium` and
/// `chromium-driver`, driven by a Python Selenium script (`Tests/Browser/`).
///
/// Without them the browser tests are skipped, each saying so with ``skipReason``; with
/// `CHRONICLE_TEST_REQUIRE_BROWSER=1` (as `.ci/run` sets it, having installed them) a missing
/// browser is a failure, as `CHRONICLE_TEST_REQUIRE_POSTGRES` is for PostgreSQL.
public enum TestBrowser {
    /// The programs a browser test runs.
    public struct Tools: Sendable {
        public var chromium: String
        public var chromedriver: String
        public var python: String
    }

    /// The variable under which a missing browser is a failure, not a skip.
    public static let requireVariable = "CHRONICLE_TEST_REQUIRE_BROWSER"

    public static let isRequired: Bool = ProcessInfo.processInfo.environment[requireVariable] == "1"

    public static let skipReason: Comment = "no headless Chromium: install chromium and chromium-driver (apt) and selenium (pip) to run the browser tests; .ci/run does (CHRONICLE_TEST_CHROMIUM, CHRONICLE_TEST_CHROMEDRIVER name other binaries)"

    /// Why the browser tests cannot run although they should.
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The tools, or what is missing.
    public static func find(environment: [String: String] = ProcessInfo.processInfo.environment) async -> Result<Tools, Unusable> {
        func executable(_ variable: String, _ names: [String]) -> String? {
            if let path = environment[variable], !path.isEmpty { return FileManager.default.isExecutableFile(atPath: path) ? path : nil }
            let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/lib/chromium"]
            for name in names {
                for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                    return "\(directory)/\(name)"
                }
            }
            return nil
        }
        guard let chromium = executable("CHRONICLE_TEST_CHROMIUM", ["chromium", "chromium-browser", "google-chrome"]) else {
            return .failure(Unusable(description: "no chromium (apt-get install chromium)"))
        }
        guard let chromedriver = executable("CHRONICLE_TEST_CHROMEDRIVER", ["chromedriver"]) else {
            return .failure(Unusable(description: "no chromedriver (apt-get install chromium-driver)"))
        }
        guard let python = executable("CHRONICLE_TEST_PYTHON", ["python3"]) else {
            return .failure(Unusable(description: "no python3"))
        }
        let probe = try? await run(python, ["-c", "import selenium"], environment: environment, seconds: 60)
        guard probe?.status == 0 else {
            return .failure(Unusable(description: "\(python) has no selenium (python3 -m pip install selenium)"))
        }
        return .success(Tools(chromium: chromium, chromedriver: chromedriver, python: python))
    }

    /// Whether the browser tests run: `true` with the tools, `false` (skipped) without them;
    /// throws ``Unusable`` when they are missing under `CHRONICLE_TEST_REQUIRE_BROWSER=1`.
    public static func shouldRun(required: Bool = isRequired) async throws -> Bool {
        switch await find() {
        case .success: return true
        case .failure(let missing):
            if required { throw Unusable(description: "\(requireVariable)=1 but the browser tests cannot run: \(missing.description)") }
            return false
        }
    }

    /// The trait of every browser test: runs with Chromium, skipped (saying why) without it,
    /// a failure when it is required and missing.
    public static var enabled: ConditionTrait {
        .enabled(skipReason) { try await shouldRun() }
    }

    /// What a finished child process did.
    public struct Run: Sendable {
        public var status: Int32
        public var output: String
    }

    /// Runs `executable` with its output (stdout and stderr) in a temporary file, within a
    /// deadline; the child is killed if it overruns.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String], seconds: Double, directory: URL? = nil) async throws -> Run {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-child-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw Unusable(description: "cannot create \(log.path)")
        }
        defer { try? FileManager.default.removeItem(at: log) }
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        let input = FileHandle(forReadingAtPath: "/dev/null")!
        defer { try? input.close() }
        let child = try ChildProcess(executable: URL(fileURLWithPath: executable), arguments: arguments, environment: environment, stdin: input, stdout: output, stderr: output, directory: directory)
        do {
            try await withDeadline(seconds: seconds, "\(URL(fileURLWithPath: executable).lastPathComponent) to finish") {
                while child.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            }
        } catch {
            child.send(SIGKILL)
            while child.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
            throw error
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return Run(status: child.terminationStatus, output: text)
    }
}
