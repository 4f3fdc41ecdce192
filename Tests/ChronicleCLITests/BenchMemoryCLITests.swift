import ChronicleCore
import ChronicleTestSupport
import Foundation
import Testing

@Suite("chronicle bench --memory-store")
struct BenchMemoryCLITests {
    /// The named figure's median, from `bench --memory-store --json`.
    func median(_ report: [String: JSONValue], _ name: String) -> Double? {
        guard case .array(let results)? = report["results"], let figure = results.first(where: { $0["name"] == .string(name) }) else { return nil }
        switch figure["median"] {
        case .integer(let value)?: return Double(value)
        case .double(let value)?: return value
        default: return nil
        }
    }

    @Test("bench --memory-store builds the store once, fills it up when asked for more, reuses it, and reports the serving server's peak RSS against a small store's")
    func memory() async throws {
        try await withCLI { cli in
            let directory = cli.data + "-memory"
            func bench(_ events: Int) async throws -> (report: [String: JSONValue], stderr: String) {
                let outcome = try await cli.run(arguments: [
                    "bench", "--memory-store", directory, "--memory-events", String(events), "--memory-seconds", "1", "--runs", "1", "--connections", "4", "--json",
                ])
                #expect(outcome.status == 0, "\(outcome.stderr)")
                return (try jsonObject(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), outcome.stderr)
            }
            let first = try await bench(2000)
            #expect(first.stderr.contains("building the store") && first.stderr.contains("wrote 2000/2000 events"), "\(first.stderr)")
            #expect(first.stderr.contains("memory run 1/1"), "bench shows progress: \(first.stderr)")
            #expect(first.report["storeEvents"] == 2000 && first.report["filledEvents"] == 2000 && first.report["baselineEvents"] == 1000, "\(first.report)")
            guard case .array(let results)? = first.report["results"] else {
                Issue.record("no results in \(first.report)")
                return
            }
            #expect(results.compactMap { $0["name"] } == ["rss-serving", "rss-ready", "rss-anonymous", "requests-serving", "baseline-rss-serving", "baseline-requests-serving"])
            let peak = try #require(median(first.report, "rss-serving")), ready = try #require(median(first.report, "rss-ready"))
            let baseline = try #require(median(first.report, "baseline-rss-serving"))
            // A real process's resident set, in MiB: more than a few MiB, and the peak no lower
            // than the reading taken before the load.
            #expect(peak > 4 && peak < 4096 && ready > 4 && ready <= peak && baseline > 4, "\(first.report)")
            #expect((median(first.report, "requests-serving") ?? 0) > 0 && (median(first.report, "baseline-requests-serving") ?? 0) > 0, "every request was answered 200 or 201, and some were: \(first.report)")
            let ratio = try #require(results.first { $0["name"] == "rss-serving" }?["ratio"].flatMap { value -> Double? in
                if case .double(let ratio) = value { return ratio }
                if case .integer(let ratio) = value { return Double(ratio) }
                return nil
            })
            #expect(abs(ratio - peak / baseline) < 1e-6, "the ratio is the two medians divided: \(first.report)")

            let more = try await bench(3000)
            #expect(more.stderr.contains("filling up the store") && more.stderr.contains("from 2000 to 3000"), "\(more.stderr)")
            // The first run's load appended to the store too: those count as stored, not filled.
            #expect(more.report["filledEvents"] == 3000, "\(more.report)")
            guard case .integer(let storedAfterMore)? = more.report["storeEvents"] else {
                Issue.record("no storeEvents in \(more.report)")
                return
            }
            #expect(storedAfterMore > 3000, "\(more.report)")
            let again = try await bench(3000)
            #expect(again.stderr.contains("reusing the store") && !again.stderr.contains("wrote"), "\(again.stderr)")
            #expect(again.report["filledEvents"] == 3000, "\(again.report)")

            // The store is a real one, with the schema's read model: every user has its document.
            let got = try await cli.run(arguments: ["get", "user", "29", "--data", directory + "/store", "--schema", directory + "/schema.yaml", "--json"])
            #expect(got.status == 0 && got.stdout.contains("user29@example.com"), "\(got.stderr)")
        }
    }

    @Test("bench --memory-store refuses what it cannot measure, in one line")
    func badInput() async throws {
        try await withCLI { cli in
            // A store the bench did not build is not taken for one, nor written to.
            let foreign = cli.data + "-foreign"
            #expect(try await cli.run(arguments: ["append", "user-1", "UserCreated", "{}", "--data", foreign + "/store"]).status == 0)
            let refused = try await cli.run(arguments: ["bench", "--memory-store", foreign, "--memory-events", "1000", "--runs", "1"])
            #expect(refused.status != 0 && refused.stderr.contains("holds events this bench did not write"), "\(refused.stderr)")
            let log = try await cli.run(arguments: ["log", "--data", foreign + "/store", "--json"])
            #expect(log.lines.count == 1, "\(log.stdout)")
            for (arguments, message) in [
                (["--memory-events", "10"], "--memory-events must be at least 1000"),
                (["--memory-seconds", "0"], "--memory-seconds 1 or more"),
                (["--postgres", "postgres://127.0.0.1:1/db"], "not available with --postgres"),
            ] {
                let outcome = try await cli.run(arguments: ["bench", "--memory-store", cli.data + "-memory"] + arguments)
                #expect(outcome.status != 0 && outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
                #expect(!FileManager.default.fileExists(atPath: cli.data + "-memory"), "nothing is built on bad input")
            }
        }
    }
}
