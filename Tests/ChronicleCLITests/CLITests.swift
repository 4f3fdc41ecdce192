import ChronicleCore
import ChronicleTestSupport
import ChronicleTesting
import Foundation
import Testing

/// Runs the built `chronicle` binary.
struct CLI {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["CHRONICLE_BIN"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("chronicle")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/chronicle")
    }()

    let data: String

    func process(_ arguments: [String], stdout: FileHandle, stderr: FileHandle, stdin: FileHandle? = nil, environment extra: [String: String] = [:]) throws -> ChildProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["CHRONICLE_DATA"] = data
        environment.merge(extra) { _, new in new }
        return try ChildProcess(executable: Self.binary, arguments: arguments, environment: environment, stdin: stdin ?? FileHandle.nullDevice, stdout: stdout, stderr: stderr)
    }

    /// Runs to completion, with output in files (no pipe can fill up and block the child).
    func run(_ arguments: String..., input: String? = nil) async throws -> Outcome {
        try await run(arguments: arguments, input: input)
    }

    func run(arguments: [String], input: String? = nil, environment: [String: String] = [:]) async throws -> Outcome {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err"), inp = directory.appendingPathComponent("in")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        _ = FileManager.default.createFile(atPath: inp.path, contents: Data((input ?? "").utf8))
        let process = try process(arguments, stdout: try FileHandle(forWritingTo: out), stderr: try FileHandle(forWritingTo: err), stdin: try FileHandle(forReadingFrom: inp), environment: environment)
        do {
            try await waitForExit(process, seconds: 300)
        } catch let error as CLIError {
            // Say which command hung and what it printed.
            let printed = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            throw CLIError(message: "\(error.message): chronicle \(arguments.joined(separator: " ")); its stderr: \(printed.suffix(4000))")
        }
        return Outcome(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8))
    }
}

func waitForExit(_ process: ChildProcess, seconds: Double) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while process.isRunning {
        if ContinuousClock.now > deadline {
            // What the database was doing, asked before the child's sessions end with it (and
            // within a bound of its own: a stuck server must not hold the test).
            let activity = (try? await withDeadline(seconds: 20, "PostgreSQL's activity") { await TestPostgres.activity() })
                ?? "PostgreSQL sessions: the server did not answer within 20 s"
            process.terminate()
            throw CLIError(message: "chronicle did not exit within \(seconds) s\n\(activity)")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

struct CLIError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A user entity whose email is unique, for the CLI tests of read models and rules.
let uniqueEmailSchema = """
    entities:
      user:
        unique: [email]
        events:
          UserCreated: create
          UserEmailVerified: { set: { emailVerified: true } }
    """

/// Runs `body` with a CLI on a fresh data directory; removes it afterwards, with every file
/// named after it (`<data>-schema.yaml`, `<data>-backup.ndjson`…).
func withCLI<T>(_ body: (CLI) async throws -> T) async throws -> T {
    let parent = FileManager.default.temporaryDirectory
    let name = "chronicle-cli-data-\(UUID().uuidString)"
    defer {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] where entry.hasPrefix(name) {
            try? FileManager.default.removeItem(atPath: parent.appendingPathComponent(entry).path)
        }
    }
    return try await body(CLI(data: parent.appendingPathComponent(name).path))
}

extension CLI {
    /// Writes an entity schema to `<data>-schema.yaml` (removed with the data directory by
    /// ``withCLI(_:)``) and returns its path.
    func writeSchema(_ yaml: String) throws -> String {
        let file = data + "-schema.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

func jsonObject(_ line: String) throws -> [String: JSONValue] {
    try #require(try JSONValue(parsing: line).objectValue)
}

@Suite("chronicle CLI")
struct CLITests {
    @Test("append, read, log and verify round-trip, in human and JSON form")
    func roundTrip() async throws {
        try await withCLI { cli in
            let first = try await cli.run("append", "user-1", "UserCreated", #"{"email":"ada@example.com"}"#, "--expected-revision", "noStream", "--json")
            #expect(first.status == 0, "\(first.stderr)")
            let appended = try jsonObject(first.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(appended["revision"] == 0 && appended["position"] == 1)
            let second = try await cli.run("append", "user-1", "UserRenamed", "-", "--expected-revision", "0", input: #"{"name": "Ada"}"#)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout.contains("revision 1, position 2"))
            try #require(try await cli.run("append", "order-1", "OrderPlaced", "{}").status == 0)

            let read = try await cli.run("read", "user-1", "--json")
            #expect(read.status == 0)
            let events = try read.lines.map(jsonObject)
            #expect(events.map { $0["type"] } == ["UserCreated", "UserRenamed"])
            #expect(events[0]["data"] == ["email": "ada@example.com"])
            #expect(events[1]["revision"] == 1)
            let explicit = try await cli.run("read", "user-1", "--data", cli.data)
            #expect(explicit.lines.count == 2, "--data names the same directory as CHRONICLE_DATA")
            let backwards = try await cli.run("read", "user-1", "--backwards", "--limit", "1")
            #expect(backwards.lines.count == 1 && backwards.stdout.contains("UserRenamed"))

            let log = try await cli.run("log", "--category", "order", "--json")
            #expect(try log.lines.map(jsonObject).map { $0["stream"] } == ["order-1"])
            let paged = try await cli.run("log", "--after", "1", "--limit", "1")
            #expect(paged.lines.count == 1 && paged.stdout.hasPrefix("2\t"))
            #expect(paged.stderr.contains("chronicle log --after 2"))

            let verify = try await cli.run("verify", "--json")
            #expect(verify.status == 0)
            #expect(try jsonObject(verify.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["intact"] == true)
        }
    }

    @Test("bad input gets one line on stderr, a non-zero exit, and stores nothing", arguments: [
        (["append", "user 1", "UserCreated", "{}"], "whitespace", Int32(1)),
        (["append", "user-1", "UserCreated", "[1, 2]"], "must be a JSON object", 1),
        (["append", "user-1", "UserCreated", #"{"a": }"#], "line 1, column 7", 1),
        (["append", "user-1", "User Created", "{}"], "Event type", 1),
        (["append", "user-1", "UserCreated", "{}", "--expected-revision", "latest"], "--expected-revision", 64),
        (["append", "user-1", "UserCreated", "{}", "--expected-revision", "3"], "has no events", 1),
        (["append", "user-1", "UserCreated", "{}", "--id", "nope"], "not a UUID", 64),
        (["append", "$streams", "X", "{}"], "reserved", 1),
        (["read", "user-404"], "does not exist", 1),
        (["log", "--limit", "x"], "--limit", 64),
        (["frobnicate"], "Unexpected argument", 64),
    ])
    func badInput(arguments: [String], fragment: String, status: Int32) async throws {
        try await withCLI { cli in
            let process = try await cli.run(arguments: arguments)
            #expect(process.status == status, "\(process.stderr)")
            let lines = process.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(process.stderr)")
            #expect(process.stderr.hasPrefix("chronicle: error: "))
            #expect(process.stderr.contains(fragment), "\(process.stderr)")
            #expect(process.stdout.isEmpty)
            let log = try await cli.run("log", "--json")
            #expect(log.stdout.isEmpty, "a refused command stored something")
        }
    }

    @Test("verify exits non-zero when the log was tampered with")
    func verifyFails() async throws {
        try await withCLI { cli in
            for index in 0..<3 {
                try #require(try await cli.run("append", "ledger-1", "Entry", #"{"n":\#(index)}"#).status == 0)
            }
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") {
                let sqlite = try ChildProcess(
                    executable: URL(fileURLWithPath: "/usr/bin/sqlite3"),
                    arguments: [cli.data + "/chronicle.sqlite", #"UPDATE events SET data = '{"n":99}' WHERE position = 2"#],
                    environment: ProcessInfo.processInfo.environment, stdin: .nullDevice, stdout: .nullDevice, stderr: .nullDevice
                )
                try await waitForExit(sqlite, seconds: 60)
                #expect(sqlite.terminationStatus == 0)
                let verify = try await cli.run("verify")
                #expect(verify.status == 1)
                #expect(verify.stderr.contains("position 2"))
            } else {
                Issue.record("sqlite3 is not installed; .ci/run installs it")
            }
        }
    }

    @Test("tail prints stored events, then live ones as they are appended")
    func tail() async throws {
        try await withCLI { cli in
            try #require(try await cli.run("append", "feed-1", "Posted", #"{"n":1}"#).status == 0)
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-tail-\(UUID().uuidString)")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: output) }
            let tail = try cli.process(["tail", "--after", "0", "--json"], stdout: try FileHandle(forWritingTo: output), stderr: FileHandle.nullDevice)
            defer { if tail.isRunning { tail.terminate() } }
            func lines() -> [String] {
                ((try? String(contentsOf: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            }
            try await pollUntil("tail to print the stored event") { lines().count >= 1 }
            try #require(try await cli.run("append", "feed-1", "Posted", #"{"n":2}"#).status == 0)
            try await pollUntil("tail to print the live event") { lines().count >= 2 }
            let events = try lines().map(jsonObject)
            #expect(events.map { $0["data"] } == [["n": 1], ["n": 2]])
            #expect(tail.isRunning, "tail must keep following")
            tail.interrupt()
            try await waitForExit(tail, seconds: 60)
        }
    }

    @Test("bench --json prints the four figures, the baselines, the storage figures, and the HTTP, read-model, personal-data and DCB figures")
    func bench() async throws {
        try await withCLI { cli in
            let bench = try await cli.run(arguments: [
                "bench", "--runs", "1", "--writers", "4", "--single-events", "40", "--batch-events", "400", "--json",
                "--http", "--connections", "4", "--http-events", "40", "--push-events", "50", "--push-rate", "500",
                "--projections", "--projection-events", "2000", "--personal",
                "--dcb", "--dcb-events", "8", "--dcb-prefill", "2000",
            ])
            #expect(bench.status == 0, "\(bench.stderr)")
            let report = try jsonObject(bench.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            guard case .array(let results)? = report["results"] else {
                Issue.record("no results in \(bench.stdout)")
                return
            }
            let names = results.compactMap { $0["name"] }
            #expect(names == [
                "append-single", "append-batch", "read-stream", "scan-log", "baseline-sqlite-commit", "baseline-batch", "baseline-scan", "http-append-single", "projection-rebuild", "projection-fanout", "inline-append-batch", "schemaless-append-batch",
                "dcb-append-conditional", "dcb-append-conditional-full", "dcb-read-query", "dcb-read-rare",
                "personal-append-single", "plain-append-single", "personal-append-batch", "plain-append-batch", "personal-append-known", "plain-append-known",
            ])
            if case .double(let ratio)? = report["personalData"]?["singleRatioToPlain"], case .array(let samples)? = report["personalData"]?["batchSamples"],
               case .double(let known)? = report["personalData"]?["knownRatioToPlain"], case .array(let knownSamples)? = report["personalData"]?["knownSamples"] {
                #expect(ratio > 0 && samples.count == 1 && known > 0 && knownSamples.count == 1, "the cost of sealing, as a ratio of the same run: \(bench.stdout)")
            } else {
                Issue.record("no personalData ratios in \(bench.stdout)")
            }
            if case .double(let ratio)? = report["fanOutRebuild"]?["ratioToSingleEntityRebuild"] {
                #expect(ratio > 0, "the fan-out rebuild's ratio to the single-entity one: \(bench.stdout)")
            } else {
                Issue.record("no fanOutRebuild ratio in \(bench.stdout)")
            }
            #expect(report["pushLatency"]?["events"] == 50, "\(bench.stdout)")
            #expect(report["entityRead"]?["httpP99Milliseconds"] != nil)
            try checkBenchFigures(results, oneRowBaseline: "baseline-sqlite-commit", output: bench.stdout)
            try checkBenchStorage(report, output: bench.stdout)
            #expect(bench.stderr.contains("run 1/1"), "bench shows progress")
        }
    }

    @Test("bench --postgres --json prints the same figures against PostgreSQL's own baselines (one-row and multi-row INSERT, COPY, a range scan), the storage figures and the DCB figures", TestPostgres.enabled)
    func benchPostgres() async throws {
        try await withCLI { cli in
            let url = try TestDatabase.freshURL()
            let bench = try await cli.run(arguments: [
                "bench", "--postgres", url, "--runs", "1", "--writers", "4", "--single-events", "40", "--batch-events", "1000", "--json",
                "--dcb", "--dcb-events", "8", "--dcb-prefill", "2000",
            ])
            #expect(bench.status == 0, "\(bench.stderr)")
            let report = try jsonObject(bench.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            guard case .array(let results)? = report["results"] else {
                Issue.record("no results in \(bench.stdout)")
                return
            }
            #expect(results.compactMap { $0["name"] } == [
                "append-single", "append-batch", "read-stream", "scan-log", "baseline-postgres-insert", "baseline-batch", "baseline-copy", "baseline-scan",
                "dcb-append-conditional", "dcb-append-conditional-full", "dcb-read-query", "dcb-read-rare",
            ])
            #expect(results.first { $0["name"] == "append-batch" }?["baseline"] == "baseline-copy", "appends of 100 compare with COPY: \(bench.stdout)")
            try checkBenchFigures(results, oneRowBaseline: "baseline-postgres-insert", output: bench.stdout)
            try checkBenchStorage(report, output: bench.stdout)
            #expect(bench.stderr.contains("run 1/1"), "bench shows progress")
        }
    }
}

/// Checks each figure of a one-run `bench --json`: a plausible rate that is its only sample,
/// its ratio to the one-row baseline, and (where it names one) its ratio to its own raw baseline.
func checkBenchFigures(_ results: [JSONValue], oneRowBaseline: String, output: String) throws {
    func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .integer(let number)?: Double(number)
        case .double(let number)?: number
        default: nil
        }
    }
    let baseline = try #require(results.first { $0["name"] == .string(oneRowBaseline) }.flatMap { number($0["eventsPerSecond"]) }, "\(output)")
    #expect(baseline > 0)
    var ownBaselines = 0
    for result in results {
        guard case .integer(let rate)? = result["eventsPerSecond"], case .array(let samples)? = result["samples"],
              let ratio = number(result["ratioToBaseline"]) else {
            Issue.record("no rate, samples or ratio in \(result)")
            continue
        }
        // One run: the figure is that run's sample, a plausible rate, and its ratio to the
        // baseline is the two rates divided (printed to two places).
        #expect(samples == [.integer(rate)], "\(result)")
        #expect(rate > 0 && rate < 1_000_000_000, "\(result)")
        // The printed rates are truncated to whole events/s and the ratio rounded to two
        // places: allow exactly that (0.005, plus up to (r + 1) / baseline from the
        // truncations), no more.
        let expected = Double(rate) / baseline
        #expect(abs(ratio - expected) <= 0.005 + (expected + 1) / baseline + 1e-9, "\(result)")
        // A figure with a raw counterpart names it and gives the ratio to it, likewise.
        if case .string(let name)? = result["baseline"] {
            ownBaselines += 1
            guard let own = number(result["ratio"]), case .integer(let other)? = results.first(where: { $0["name"] == .string(name) })?["eventsPerSecond"] else {
                Issue.record("\(result) names baseline \(name), which has no rate, or gives no ratio")
                continue
            }
            let expectedOwn = Double(rate) / Double(other)
            #expect(abs(own - expectedOwn) <= 0.005 + (expectedOwn + 1) / Double(other) + 1e-9, "\(result)")
        }
    }
    #expect(ownBaselines >= 4, "append-single, append-batch, read-stream and scan-log each name their raw baseline: \(output)")
}

/// Checks the `storage` member of `bench --json`: bytes per event above the payload's, the
/// payload's the size of the bench's event data, and their ratio.
func checkBenchStorage(_ report: [String: JSONValue], output: String) throws {
    guard case .array(let storage)? = report["storage"]?["results"], storage.count == 2,
          case .integer(let stored)? = storage[0]["bytes"], case .integer(let payload)? = storage[1]["bytes"],
          case .double(let ratio)? = report["storage"]?["ratioToPayload"] else {
        Issue.record("no storage figures in \(output)")
        return
    }
    #expect(storage.compactMap { $0["name"] } == ["bytes-per-event", "payload-bytes-per-event"], "\(output)")
    // The bench's events carry {"index":N,"text":"a short payload of about forty bytes...."}.
    #expect(payload >= 55 && payload <= 70, "the data as stored: \(output)")
    #expect(stored > payload, "an event takes more than its data: \(output)")
    // The ratio is of the unrounded medians, printed to two places; the bytes are rounded.
    let low = (Double(stored) - 0.5) / (Double(payload) + 0.5) - 0.005, high = (Double(stored) + 0.5) / (Double(payload) - 0.5) + 0.005
    #expect(ratio >= low && ratio <= high, "\(output)")
}

func pollUntil(_ what: String, seconds: Double = 60, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        if ContinuousClock.now > deadline { throw CLIError(message: "gave up after \(seconds) s waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}
