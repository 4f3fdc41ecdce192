import ChronicleCore
import ChroniclePostgres
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite("PostgreSQL store: the conformance matrix", TestPostgres.enabled)
struct PostgresConformanceTests {
    @Test(arguments: ConformanceMatrix.entries)
    func conformance(_ entry: ConformanceEntry) async throws {
        try await entry.run(on: PostgresBackend())
    }

    @Test("DCB: two nodes race conditional appends; exactly one claim wins each round")
    func conditionsTwoWriters() async throws {
        try await PostgresBackend().withTwoStores(projection: PersonalProjection()) { try await DCBConformance.runTwoWriters($0, $1) }
    }

    @Test("personal data: two nodes check each other's keys and erasures")
    func personalDataTwoWriters() async throws {
        try await PostgresBackend().withTwoStores(projection: PersonalProjection()) { try await PersonalDataConformance.runTwoWriters($0, $1) }
    }
}

@Suite("PostgreSQL store: gap-free log with several writers", TestPostgres.enabled)
struct PostgresGapTests {
    private enum Outcome: Sendable {
        case reader([RecordedEvent])
        case writer([UUID])
    }

    /// Two stores with separate connection pools are, to PostgreSQL, two writer processes:
    /// each has its own connections and its own group commit, and only the advisory lock
    /// orders their commits.
    @Test("a reader never sees a position below one it saw, and sees every committed event once, with two writer stores")
    func twoWriters() async throws {
        let configuration = TestPostgres.freshConfiguration()
        let writersPerStore = 4, appendsPerWriter = 40
        try await withPostgresStore(configuration) { first in
            try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger) { second in
                try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger) { reader in
                    // Batches of 1 to 3 events, so that positions advance unevenly.
                    let total = 2 * writersPerStore * (0..<appendsPerWriter).reduce(0) { $0 + 1 + $1 % 3 }
                    let outcomes = try await withDeadline(seconds: 120, "\(total) events seen by the reader") {
                        try await withThrowingTaskGroup(of: Outcome.self) { group in
                            group.addTask {
                                var seen: [RecordedEvent] = []
                                var last: Int64 = 0
                                while seen.count < total {
                                    let page = try await reader.readLog(after: last, limit: 37)
                                    for event in page.events {
                                        #expect(event.position == last + 1, "after position \(last) the reader saw \(event.position): a gap")
                                        last = event.position
                                        seen.append(event)
                                    }
                                    if page.events.isEmpty {
                                        try await reader.waitForEvents(after: last)
                                    }
                                }
                                return .reader(seen)
                            }
                            for (storeIndex, store) in [first, second].enumerated() {
                                for writer in 0..<writersPerStore {
                                    group.addTask {
                                        var ids: [UUID] = []
                                        for index in 0..<appendsPerWriter {
                                            let events = (0...(index % 3)).map { _ in EventData(type: "Wrote", data: ["store": .integer(Int64(storeIndex)), "i": .integer(Int64(index))]) }
                                            ids += events.map(\.id)
                                            try await store.append(to: StreamName("writer-\(storeIndex)-\(writer)"), events, expected: index == 0 ? .noStream : .any)
                                        }
                                        return .writer(ids)
                                    }
                                }
                            }
                            var all: [Outcome] = []
                            for try await outcome in group { all.append(outcome) }
                            return all
                        }
                    }
                    var seen: [RecordedEvent] = [], appended: [UUID] = []
                    for outcome in outcomes {
                        switch outcome {
                        case .reader(let events): seen = events
                        case .writer(let ids): appended += ids
                        }
                    }
                    #expect(seen.count == total)
                    #expect(Set(seen.map(\.id)).count == seen.count, "an event was seen twice")
                    #expect(Set(seen.map(\.id)) == Set(appended), "the reader's events differ from the appended ones")
                    #expect(try await reader.readLog(after: 0, limit: total + 10).events.map(\.id) == seen.map(\.id))
                    #expect(try await reader.verify().isIntact)
                }
            }
        }
    }
}

@Suite("PostgreSQL store: bad input and failures", TestPostgres.enabled)
struct PostgresFailureTests {
    @Test("an unreachable server fails to open with a storage error that names it")
    func unreachable() async throws {
        var configuration = TestPostgres.freshConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 1
        configuration.connectTimeout = .seconds(5)
        do {
            _ = try await PostgresEventStore(configuration: configuration, logger: testLogger)
            Issue.record("opening a store on a closed port succeeded")
        } catch let error as ChronicleError {
            #expect(error.code == .storageFailure)
            #expect(error.message.contains("127.0.0.1:1"), "\(error.message)")
        }
    }

    @Test("an unknown database fails to open and says to create it")
    func unknownDatabase() async throws {
        var configuration = TestPostgres.freshConfiguration()
        configuration.database = "chronicle_no_such_database"
        do {
            _ = try await PostgresEventStore(configuration: configuration, logger: testLogger)
            Issue.record("opening a store on a missing database succeeded")
        } catch let error as ChronicleError {
            #expect(error.code == .storageFailure)
            #expect(error.message.contains("createdb"), "\(error.message)")
        }
    }

    @Test("losing the connection during an append fails it, stores nothing, and a retry succeeds")
    func lostConnection() async throws {
        let configuration = TestPostgres.freshConfiguration()
        let schema = configuration.schema!
        try await withPostgresStore(configuration) { store in
            try await store.append(to: StreamName("order-1"), [EventData(type: "Placed")])
            let event = EventData(type: "Paid")
            try await TestPostgres.withConnection(schema: schema) { blocker in
                // Hold the store's write lock so that the append waits inside its transaction.
                try await blocker.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_lock((x'4348524E'::bigint << 32) | 'events'::regclass::oid::bigint)"), logger: testLogger)
                async let append: AppendResult.StreamResult = store.append(to: StreamName("order-1"), [event], expected: .exact(0))
                do {
                    let terminated = try await withDeadline(seconds: 30, "the append to wait for the lock") {
                        while true {
                            let rows = try await blocker.query("""
                                SELECT pg_terminate_backend(pid) FROM pg_locks
                                WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                                  AND classid::bigint = x'4348524E'::bigint AND objid::bigint = 'events'::regclass::oid::bigint
                                """, logger: testLogger)
                            var count = 0
                            for try await _ in rows { count += 1 }
                            if count > 0 { return count }
                            try await Task.sleep(for: .milliseconds(20))
                        }
                    }
                    #expect(terminated == 1)
                    do {
                        _ = try await append
                        Issue.record("an append whose connection was killed reported success")
                    } catch let error as ChronicleError {
                        #expect(error.code == .storageFailure, "\(error)")
                        #expect(error.message.contains("Nothing was stored"), "\(error.message)")
                    }
                } catch {
                    // Let the append finish before leaving the scope, which awaits it.
                    _ = try? await blocker.query("SELECT pg_advisory_unlock_all()", logger: testLogger)
                    _ = try? await append
                    throw error
                }
                try await blocker.query("SELECT pg_advisory_unlock_all()", logger: testLogger)
            }
            #expect(try await store.read(StreamName("order-1")).count == 1, "the failed append stored its event")
            let retried = try await store.append(to: StreamName("order-1"), [event], expected: .exact(0))
            #expect(retried.firstRevision == 1)
            #expect(try await store.verify().isIntact)
        }
    }

    @Test("rules on a store without a projection are refused with a clear error and store nothing")
    func rulesRefused() async throws {
        try await withPostgresStore { store in
            let request = AppendRequest(
                [.init(stream: try StreamName("ad-1"), events: [EventData(type: "Posted")])],
                rules: [AppendRule(.unique(entity: "ad", field: "slug", value: "x", id: "1"), status: 409, detail: "taken")]
            )
            do {
                try await store.append(request)
                Issue.record("an append with rules succeeded")
            } catch let error as ChronicleError {
                #expect(error.code == .invalidInput)
                #expect(error.message.contains("inline projection"))
            }
            #expect(try await store.headPosition() == 0)
        }
    }
}

@Suite("PostgreSQL store: configuration")
struct PostgresConfigurationTests {
    @Test("URLs parse, with user, password, port, database, sslmode and schema")
    func goodURLs() throws {
        let full = try PostgresEventStore.Configuration(url: "postgres://ada:s%40cret@db.example:6543/events?sslmode=disable&schema=chronicle")
        #expect(full.host == "db.example" && full.port == 6543 && full.username == "ada" && full.password == "s@cret")
        #expect(full.database == "events" && full.tls == .disable && full.schema == "chronicle")
        let short = try PostgresEventStore.Configuration(url: "postgresql://chronicle@127.0.0.1")
        #expect(short.port == 5432 && short.password == nil && short.database == nil && short.tls == .prefer && short.schema == nil)
    }

    @Test(arguments: [
        "not a url at all",
        "http://user@host/db",
        "postgres://host/db",
        "postgres://user@/db",
        "postgres://user@host:70000/db",
        "postgres://user@host/db/extra",
        "postgres://user@host/db?sslmode=sometimes",
        "postgres://user@host/db?colour=blue",
    ])
    func badURLs(_ url: String) {
        do {
            _ = try PostgresEventStore.Configuration(url: url)
            Issue.record("\(url) was accepted")
        } catch let error as ChronicleError {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("postgres://"), "\(error.message)")
        } catch {
            Issue.record("\(url): \(error)")
        }
    }

    @Test("the pool: its size and connect timeout from the configuration, and no keep-alive pings (a ping started after the pool closed its connection is never answered, and the pool then never stops)")
    func pool() throws {
        var configuration = try PostgresEventStore.Configuration(url: "postgres://ada@host/db?connect_timeout=3")
        configuration.maximumConnections = 7
        let client = configuration.clientConfiguration
        #expect(client.options.maximumConnections == 7 && client.options.connectTimeout == .seconds(3))
        #expect(client.options.keepAliveBehavior == nil)
    }

    @Test("the password never appears in error messages")
    func redaction() {
        do {
            _ = try PostgresEventStore.Configuration(url: "postgres://ada:hunter2@host/db?bad=1")
            Issue.record("a URL with an unknown parameter was accepted")
        } catch let error as ChronicleError {
            #expect(!error.message.contains("hunter2"), "\(error.message)")
            #expect(error.message.contains("ada:***@host"), "the URL is shown with its password redacted: \(error.message)")
            #expect(error.message.contains("\"bad\""), "the message names what is wrong: \(error.message)")
        } catch {
            Issue.record("\(error)")
        }
    }
}

@Suite("PostgreSQL tests: their configuration")
struct PostgresTestConfigurationTests {
    @Test("the environment's PostgreSQL settings are usable (a malformed variable, or no server under CHRONICLE_TEST_REQUIRE_POSTGRES=1, fails here)")
    func environmentIsUsable() throws {
        if try !TestPostgres.shouldRun() {
            #if compiler(>=6.3)
            try Test.cancel(TestPostgres.skipReason)
            #endif
        }
    }

    @Test("a malformed URL or port is an error that names the variable and says what is wrong, never a skip")
    func malformed() {
        guard case .invalid(let url) = TestPostgres.setting(from: ["CHRONICLE_TEST_POSTGRES_URL": "postgres://nobody-knows"]) else {
            Issue.record("a URL without a user was not refused"); return
        }
        #expect(url.contains("CHRONICLE_TEST_POSTGRES_URL") && url.contains("names no user"), "\(url)")
        guard case .invalid(let port) = TestPostgres.setting(from: ["CHRONICLE_TEST_POSTGRES_HOST": "127.0.0.1", "CHRONICLE_TEST_POSTGRES_PORT": "54x2"]) else {
            Issue.record("a port that is not a number was not refused"); return
        }
        #expect(port.contains("CHRONICLE_TEST_POSTGRES_PORT") && port.contains("\"54x2\""), "\(port)")
        #expect {
            try TestPostgres.shouldRun(.invalid(url), required: false)
        } throws: { error in
            "\(error)".contains("CHRONICLE_TEST_POSTGRES_URL")
        }
    }

    @Test("no server is a skip, unless CHRONICLE_TEST_REQUIRE_POSTGRES=1 makes it a failure that says so")
    func required() throws {
        guard case .unset = TestPostgres.setting(from: ["CHRONICLE_TEST_POSTGRES_URL": "", "CHRONICLE_TEST_POSTGRES_HOST": ""]) else {
            Issue.record("empty variables name a server"); return
        }
        #expect(try TestPostgres.shouldRun(.unset, required: false) == false)
        #expect {
            try TestPostgres.shouldRun(.unset, required: true)
        } throws: { error in
            "\(error)".contains("CHRONICLE_TEST_REQUIRE_POSTGRES=1") && "\(error)".contains("no PostgreSQL server")
        }
        guard case .configured(let configuration) = TestPostgres.setting(from: ["CHRONICLE_TEST_POSTGRES_URL": "postgres://ada@db.example:6543/events?sslmode=disable"]) else {
            Issue.record("a good URL was refused"); return
        }
        #expect(configuration.host == "db.example" && configuration.port == 6543)
        #expect(try TestPostgres.shouldRun(.configured(configuration), required: true))
    }

    @Test("the activity a timed-out test prints names the statement another session waits in, and who blocks it", TestPostgres.enabled)
    func activityNamesWaitingStatements() async throws {
        let key = Int64.random(in: 1...Int64(Int32.max)), marker = "chronicle_activity_\(key)"
        try await TestPostgres.withConnection { holder in
            try await holder.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_lock(\(key))"), logger: testLogger)
            try await TestPostgres.withConnection { waiter in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await waiter.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_lock(\(key)) AS \(marker)"), logger: testLogger)
                        try await waiter.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_unlock(\(key))"), logger: testLogger)
                    }
                    let deadline = ContinuousClock.now + .seconds(60)
                    var activity = await TestPostgres.activity()
                    while !activity.contains(marker), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                        activity = await TestPostgres.activity()
                    }
                    let line = activity.split(separator: "\n").first { $0.contains(marker) } ?? ""
                    #expect(line.contains("active Lock:advisory blocked by "), "\(activity)")
                    try await holder.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_unlock(\(key))"), logger: testLogger)
                    try await group.waitForAll()
                }
            }
        }
        #expect(!(await TestPostgres.activity()).contains(marker), "a statement that ended is not listed")
    }
}
