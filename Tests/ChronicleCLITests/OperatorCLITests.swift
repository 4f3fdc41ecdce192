import ChronicleCore
import ChronicleTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// The operator's commands work on a data directory and on PostgreSQL alike (issue 19, item
/// 13): read, log, verify, delete, projections, export and import, with `--postgres URL` or
/// `CHRONICLE_POSTGRES_URL`.
@Suite("chronicle operator commands on SQLite and PostgreSQL")
struct OperatorCLITests {
    @Test("--version prints the version and exits 0")
    func version() async throws {
        let outcome = try await CLI(data: "/nonexistent-chronicle-data").run("--version")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.range(of: #"^chronicle [0-9]+\.[0-9]+\.[0-9]+\n$"#, options: .regularExpression) != nil, "\(outcome.stdout)")
    }

    @Test("SQLite (--data): read, log, verify, delete soft and hard, projections, export and import")
    func sqlite() async throws {
        try await withCLI { cli in
            defer { try? FileManager.default.removeItem(atPath: cli.data + "-copy") }
            try await commands(cli, store: ["--data", cli.data], copy: ["--data", cli.data + "-copy"])
        }
    }

    @Test("PostgreSQL (--postgres and CHRONICLE_POSTGRES_URL): read, log, verify, delete soft and hard, projections, export and import", TestPostgres.enabled)
    func postgres() async throws {
        try await withCLI { cli in
            let url = try TestDatabase.freshURL()
            try await commands(cli, store: ["--postgres", url], copy: ["--postgres", try TestDatabase.freshURL()])
            // The environment variable stands in for the flag.
            let out = temporaryFile("log")
            defer { try? FileManager.default.removeItem(at: out) }
            let process = try cli.process(["log", "--json"], stdout: try FileHandle(forWritingTo: out), stderr: FileHandle.nullDevice, environment: ["CHRONICLE_POSTGRES_URL": url])
            try await waitForExit(process, seconds: 120)
            #expect(process.terminationStatus == 0)
            let viaFlag = try await cli.run("log", "--json", "--postgres", url).lines
            #expect(!viaFlag.isEmpty && lines(of: out) == viaFlag, "the database's log, not the empty data directory's: \(lines(of: out))")
            let both = try await cli.run("log", "--data", cli.data, "--postgres", url)
            #expect(both.status == 64 && both.stderr.contains("give one"), "\(both.stderr)")
        }
    }

    @Test("verify --postgres exits non-zero and names the position when a stored event was changed in the database", TestPostgres.enabled)
    func verifyCatchesTamperingOnPostgres() async throws {
        try await withCLI { cli in
            let url = try TestDatabase.freshURL()
            for index in 0..<3 {
                try #require(try await cli.run("append", "ledger-1", "Entry", #"{"n":\#(index)}"#, "--postgres", url).status == 0)
            }
            #expect(try await cli.run("verify", "--postgres", url).status == 0)
            let schema = try #require(URLComponents(string: url)?.queryItems?.first { $0.name == "schema" }?.value)
            try await TestPostgres.withConnection(schema: schema) { connection in
                try await connection.query(#"UPDATE events SET data = '{"n":99}' WHERE position = 2"#, logger: Logger(label: "test"))
            }
            let verify = try await cli.run("verify", "--postgres", url)
            #expect(verify.status == 1)
            #expect(verify.stderr.contains("position 2"), "\(verify.stderr)")
        }
    }

    func commands(_ cli: CLI, store: [String], copy: [String]) async throws {
        func run(_ arguments: String..., on target: [String]? = nil) async throws -> CLI.Outcome {
            try await cli.run(arguments: arguments + (target ?? store))
        }
        let schemaFile = try cli.writeSchema("""
            entities:
              user:
                events:
                  UserCreated: create
                  UserRenamed: merge
            """)
        let backup = cli.data + "-backup.ndjson"
        defer { for file in [schemaFile, backup] { try? FileManager.default.removeItem(atPath: file) } }

        #expect(try await run("append", "user-1", "UserCreated", #"{"name":"Ada"}"#).status == 0)
        #expect(try await run("append", "user-2", "UserCreated", #"{"name":"Bob"}"#).status == 0)
        #expect(try await run("append", "user-1", "UserRenamed", #"{"name":"Ada L."}"#).status == 0)
        #expect(try await run("read", "user-1", "--json").lines.count == 2)
        #expect(try await run("log", "--json").lines.count == 3)
        let verified = try await run("verify")
        #expect(verified.status == 0 && verified.stdout.contains("intact: 3 events"), "\(verified.stdout) \(verified.stderr)")

        // A hard delete asks for confirmation; without it nothing changes.
        let unconfirmed = try await run("delete", "user-2", "--mode", "hard")
        #expect(unconfirmed.status == 64 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
        #expect(try await run("read", "user-2").status == 0, "not deleted without --yes")
        #expect(try await run("delete", "user-2", "--mode", "sideways").status == 64)
        let hard = try await run("delete", "user-2", "--mode", "hard", "--yes", "--json")
        #expect(hard.status == 0, "\(hard.stderr)")
        #expect(try jsonObject(hard.stdout.trimmingCharacters(in: .whitespacesAndNewlines))["mode"] == "hard")
        let gone = try await run("read", "user-2")
        #expect(gone.status == 1, "a hard-deleted stream is gone: \(gone.stdout)")
        #expect(try await run("append", "user-2", "UserCreated", "{}").status == 1, "and can never be written again")
        let stale = try await run("delete", "user-1", "--expected-revision", "0")
        #expect(stale.status == 1 && stale.stderr.contains("revision 1"), "a stale expectation is refused: \(stale.stderr)")
        let soft = try await run("delete", "user-1")
        #expect(soft.status == 0 && soft.stdout.contains("deleted user-1 (soft) at revision 1"), "\(soft.stdout) \(soft.stderr)")
        #expect(try await run("read", "user-1").status == 1, "a soft-deleted stream is hidden")
        #expect(try await run("append", "user-1", "UserCreated", #"{"name":"Ada again"}"#).status == 0, "and can be written again")
        let intact = try await run("verify", "--json")
        #expect(intact.status == 0 && intact.stdout.contains(#""intact":true"#) && intact.stdout.contains(#""purgedEvents":1"#), "\(intact.stdout)")

        let rebuilt = try await run("projections", "rebuild", "entities", "--schema", schemaFile)
        #expect(rebuilt.status == 0 && rebuilt.stdout.contains("rebuilt entities"), "\(rebuilt.stdout) \(rebuilt.stderr)")
        let listed = try await run("projections", "list", "--schema", schemaFile)
        #expect(listed.status == 0 && listed.stdout.hasPrefix("entities\t"), "\(listed.stdout) \(listed.stderr)")
        let user = try await run("get", "user", "1", "--schema", schemaFile, "--json")
        #expect(user.status == 0 && user.stdout.contains("Ada again"), "\(user.stdout) \(user.stderr)")
        let unschemed = try await run("delete", "user-1")
        #expect(unschemed.status == 64 && unschemed.stderr.contains("--schema"), "a store with read models is only changed with its schema: \(unschemed.stderr)")

        let export = try await run("export", "--output", backup)
        #expect(export.status == 0, "\(export.stderr)")
        let imported = try await run("import", backup, on: copy)
        #expect(imported.status == 0 && imported.stderr.contains("hash chain intact"), "\(imported.stderr)")
        #expect(try await run("log", "--json", on: copy).stdout == (try await run("log", "--json").stdout), "the copy has the same log")
        #expect(try await run("verify", on: copy).status == 0)
    }
}
