import Foundation
import PostgresNIO

extension TestPostgres {
    /// What the test server's other sessions are doing, one line each for those that are not
    /// idle (state, what they wait on, which sessions block them, for how long, the query): for
    /// the message of a test that gave up waiting on a child process, so a hang names the
    /// statement it hung in, or shows that none was running. Empty without a server; a line
    /// saying why when the server cannot be asked.
    public static func activity() async -> String {
        guard isConfigured else { return "" }
        do {
            return try await withConnection { connection in
                let rows = try await connection.query("""
                    SELECT concat_ws(' ', pid, state, wait_event_type || ':' || wait_event,
                                     'blocked by ' || nullif(array_to_string(pg_blocking_pids(pid), ','), ''),
                                     'for ' || (now() - query_start)::text, left(regexp_replace(query, '\\s+', ' ', 'g'), 200))
                    FROM pg_stat_activity
                    WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'
                    ORDER BY query_start LIMIT 100
                    """, logger: testLogger)
                var lines: [String] = []
                for try await line in rows.decode(String.self) { lines.append(line) }
                return "PostgreSQL sessions not idle: " + (lines.isEmpty ? "none" : "\n" + lines.joined(separator: "\n"))
            }
        } catch {
            return "PostgreSQL sessions: cannot ask the server (\(error))"
        }
    }
}
