import ChronicleCore
import ChroniclePostgres
import ChronicleSQLite
import ChronicleTestSupport
import Foundation
import Logging
import Testing

/// Where the `ProjectionCrashChild` process kills itself, and what must be durable then.
struct CrashPoint: Sendable, CustomTestStringConvertible {
    /// What the point is.
    var name: String
    /// The position whose application kills the process.
    var position: Int64
    /// The checkpoint the crash must leave: the page before stays, the page under way is gone.
    var checkpoint: Int64

    var testDescription: String { "\(name) (position \(position))" }
}

/// The async projection's promise under `kill -9`: documents and checkpoint commit together,
/// so a crash never applies an event twice or skips one. The `ProjectionCrashChild` process
/// runs the runner (pages of 50) on a real SQLite file with ``TallyProjection`` (each event
/// adds one to a count and its id to a list, so a second application shows) and kills
/// itself at a confirmed position; a restarted process catches up, and the documents must
/// hold each event exactly once, as a rebuild does.
@Suite("Async projection: killed (-9) at a confirmed point of a page, restarted, every event applied exactly once")
struct ProjectionCrashTests {
    /// The log: 400 events; every 50th (the last of each page) is `audit-1`'s, which the
    /// projection ignores, the others are `Tallied` events of 7 tallies.
    static let events = 400

    /// The built `ProjectionCrashChild` executable, next to the test bundle.
    static let binary: URL? = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("ProjectionCrashChild")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }()

    static let points: [CrashPoint] = [
        // Events 101…124 are written in the page's transaction, 125 is next.
        CrashPoint(name: "mid-page", position: 125, checkpoint: 100),
        // 150 is the page's last event and the projection ignores it: every document of the
        // page is written, the checkpoint is not yet.
        CrashPoint(name: "between the page's documents and its checkpoint", position: 150, checkpoint: 100),
        // The page (100, 150] committed; the next one starts.
        CrashPoint(name: "right after a page's commit, at the next page's first event", position: 151, checkpoint: 150),
    ]

    /// Where the crashing and the restarted processes keep the events and documents.
    enum Backend {
        /// A fresh SQLite file in this directory.
        case sqlite(String)
        /// A fresh PostgreSQL schema (in the URL), with its configuration.
        case postgres(url: String, PostgresEventStore.Configuration)

        var childArguments: [String] {
            switch self {
            case .sqlite(let directory): ["--sqlite", directory]
            case .postgres(let url, _): ["--postgres", url]
            }
        }

        /// Runs `body` with a store on the backend's data (the projection as the child has it).
        func withStore<T: Sendable>(durability: SQLiteEventStore.Configuration.Durability = .full, _ body: (any AsyncProjectionStore) async throws -> T) async throws -> T {
            switch self {
            case .sqlite(let directory):
                return try await body(try SQLiteEventStore(directory: directory, configuration: .init(durability: durability, projection: TallyProjection(), lifecycle: .async), logger: testLogger))
            case .postgres(_, var configuration):
                configuration.projection = TallyProjection()
                configuration.lifecycle = .async
                return try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger) { try await body($0) }
            }
        }
    }

    /// The checkpoint, and whether every tally's document holds exactly the events up to it.
    func state(_ backend: Backend) async throws -> (checkpoint: Int64, mismatches: [String], documents: [String: Document]) {
        try await backend.withStore { store in
            let checkpoint = try await store.projectionCheckpoint()
            let log = try await store.readLog(after: 0, limit: 10_000, filter: LogFilter()).events
            let expected = TallyProjection.expected(log.filter { $0.position <= checkpoint })
            var mismatches: [String] = []
            var documents: [String: Document] = [:]
            for id in 0..<7 {
                let document = try await store.document(entity: "tally", id: String(id))
                documents[String(id)] = document
                let found = TallyProjection.tally(of: document)
                let wanted = expected[String(id)]
                if found?.count != wanted?.count || found?.events != wanted?.events {
                    mismatches.append("tally \(id): \(found.map { "count \($0.count), \($0.events.count) ids, \(Set($0.events).count) distinct" } ?? "no document"), expected \(wanted.map { "count \($0.count)" } ?? "none")")
                }
            }
            return (checkpoint, mismatches, documents)
        }
    }

    /// Runs the child to its end (at most 120 s); returns how it ended and what it printed.
    func runChild(_ backend: Backend, _ extra: [String]) async throws -> (ChildProcess.Termination?, String, String) {
        let binary = try #require(Self.binary, "ProjectionCrashChild is not built next to the tests (swift build --build-tests builds it)")
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-crash-out-\(UUID().uuidString)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-crash-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let child = try ChildProcess(
            executable: binary, arguments: backend.childArguments + extra, environment: ProcessInfo.processInfo.environment,
            stdin: .nullDevice, stdout: try FileHandle(forWritingTo: out), stderr: try FileHandle(forWritingTo: err)
        )
        // A restart waits for the killed process's lease on the projection to expire (6 s).
        let deadline = ContinuousClock.now + .seconds(120)
        while child.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if child.isRunning { child.send(SIGKILL) }
        while child.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (child.termination, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    @Test("SQLite: killed (-9) at a confirmed point, the page under way is not half there; restarted, each event counts once, as in a rebuild", arguments: points)
    func crashOnSQLite(_ point: CrashPoint) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chronicle-crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await crash(at: point, on: .sqlite(directory))
    }

    @Test("PostgreSQL: killed (-9) at a confirmed point, the page under way is not half there; restarted, each event counts once, as in a rebuild", TestPostgres.enabled, arguments: points)
    func crashOnPostgres(_ point: CrashPoint) async throws {
        let configuration = TestPostgres.freshConfiguration()
        let url = try #require(TestPostgres.url, "the child connects with the test server's URL")
        var components = try #require(URLComponents(string: url))
        components.queryItems = (components.queryItems ?? []).filter { $0.name != "schema" } + [URLQueryItem(name: "schema", value: configuration.schema)]
        let childURL = try #require(components.string)
        try await TestPostgres.withFreshSchema(configuration) { configuration in
            try await crash(at: point, on: .postgres(url: childURL, configuration))
        }
    }

    func crash(at point: CrashPoint, on backend: Backend) async throws {
        try await backend.withStore(durability: .lossyOnPowerFailure) { store async throws -> Void in
            for position in 1...Self.events {
                let stream = position % 50 == 0 ? "audit-1" : "tally-\(position % 7)"
                try await store.append(to: StreamName(stream), [EventData(type: position % 50 == 0 ? "Noted" : "Tallied")])
            }
        }

        let (crashed, crashOutput, crashErrors) = try await runChild(backend, ["--crash-at", String(point.position)])
        #expect(crashed == .signal(SIGKILL), "the child was to kill itself at \(point.position): \(crashErrors)")
        #expect(crashOutput == "crashing at position \(point.position)\n", "where it crashed: \(crashOutput)")
        let afterCrash = try await state(backend)
        #expect(afterCrash.checkpoint == point.checkpoint, "the checkpoint after the crash")
        #expect(afterCrash.mismatches.isEmpty, "the documents hold exactly the events up to the checkpoint: \(afterCrash.mismatches)")

        let (restarted, restartOutput, restartErrors) = try await runChild(backend, [])
        #expect(restarted == .exit(0), "the restarted child catches up: \(restartErrors)")
        #expect(restartOutput == "caught up at \(Self.events)\n")
        let caughtUp = try await state(backend)
        #expect(caughtUp.checkpoint == Int64(Self.events))
        #expect(caughtUp.mismatches.isEmpty, "each event applied once, none skipped: \(caughtUp.mismatches)")
        let total = caughtUp.documents.values.compactMap { TallyProjection.tally(of: $0)?.count }.reduce(0, +)
        #expect(total == Int64(Self.events - Self.events / 50), "the counts add up to the number of Tallied events")

        try await backend.withStore { store async throws -> Void in
            #expect(try await store.rebuildDocuments() == Self.events)
            for id in 0..<7 {
                #expect(try await store.document(entity: "tally", id: String(id)) == caughtUp.documents[String(id)], "tally \(id) equals its rebuild")
            }
        }
    }
}
