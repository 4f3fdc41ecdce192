import ChronicleCore
import ChroniclePostgres
import ChronicleTestSupport
import ChronicleTesting
import Foundation
import PostgresNIO
import Testing

/// `LISTEN`/`NOTIFY` only wakes a node's subscribers sooner; a notification that never comes
/// (the `LISTEN` connection is down and cannot come back) is covered by the poll.
@Suite("PostgreSQL: a missed notification is covered by the poll", TestPostgres.enabled)
struct PostgresMissedNotificationTests {
    static func run(_ sql: String) async throws {
        try await TestPostgres.withConnection { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger)
        }
    }

    /// Node `a` connects as a role of its own; once its pool is open, the role may open no
    /// more connections (CONNECTION LIMIT 0: open ones stay, superusers are exempt) and its
    /// `LISTEN` connection is terminated, so it cannot listen again. Node `b` (another
    /// role) appends: `a`'s waiting subscriber must still see the commit, through the poll.
    @Test("node a's LISTEN connection is gone for good; a commit of node b still reaches a's waiting subscriber within a few polls")
    func pollCoversAMissedNotification() async throws {
        let role = "chronicle_listen_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        var configuration = TestPostgres.freshConfiguration(maximumConnections: 2)
        configuration.pollInterval = .milliseconds(300)
        var asRole = configuration
        asRole.username = String(role)
        asRole.password = nil
        let database = configuration.database ?? configuration.username
        try await Self.run("CREATE ROLE \"\(role)\" LOGIN")
        try await Self.run("GRANT CREATE ON DATABASE \"\(database)\" TO \"\(role)\"")
        do {
            try await PostgresEventStore.withStore(configuration: asRole, logger: testLogger) { a in
                try await PostgresEventStore.withStore(configuration: configuration, logger: testLogger) { b in
                    try await b.append(to: StreamName("order-1"), [EventData(type: "Placed")])
                    // a's pool is open (two connections at once), and it listens.
                    async let first = a.headPosition(), second = a.headPosition()
                    #expect(try await [first, second] == [1, 1])
                    try await waitUntil("a's LISTEN connection", seconds: 60, every: .milliseconds(20)) { try await Self.listeners(role) == 1 }

                    try await Self.run("ALTER ROLE \"\(role)\" CONNECTION LIMIT 0")
                    try await Self.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(role)' AND query ILIKE 'LISTEN%'")
                    try await waitUntil("a's LISTEN connection gone", seconds: 60, every: .milliseconds(20)) { try await Self.listeners(role) == 0 }

                    try await b.append(to: StreamName("order-1"), [EventData(type: "Paid")])
                    try await withDeadline(seconds: 60, "a's subscriber to see b's commit with no notification") {
                        try await a.waitForEvents(after: 1)
                    }
                    #expect(try await a.read(StreamName("order-1")).map(\.type) == ["Placed", "Paid"])
                    #expect(try await Self.listeners(role) == 0, "a could not listen again: the poll woke its subscriber")
                }
            }
        } catch {
            try? await Self.cleanUp(role: String(role), schema: configuration.schema!, database: database)
            throw error
        }
        try await Self.cleanUp(role: String(role), schema: configuration.schema!, database: database)
    }

    /// How many connections of `role` are listening.
    static func listeners(_ role: some StringProtocol) async throws -> Int {
        try await TestPostgres.withConnection { connection in
            var count = 0
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM pg_stat_activity WHERE usename = '\(role)' AND query ILIKE 'LISTEN%'"), logger: testLogger).decode(Int64.self) {
                count = Int(value)
            }
            return count
        }
    }

    static func cleanUp(role: String, schema: String, database: String) async throws {
        try await TestPostgres.dropSchema(schema)
        try await run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(role)'")
        try await run("REVOKE CREATE ON DATABASE \"\(database)\" FROM \"\(role)\"")
        try await run("DROP OWNED BY \"\(role)\"")
        try await run("DROP ROLE \"\(role)\"")
    }
}
