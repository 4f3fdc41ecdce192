import ChronicleCore
import ChronicleReactors
import ChronicleServer
import ChronicleTestSupport
import Foundation
import Testing

/// A failing delivery is visible to an operator: `GET /v1/reactors/{name}` shows the last
/// error and when the next attempt is due (issue 19, item 13).
@Suite("HTTP: a reactor's failures")
struct ReactorFailureEndpointTests {
    struct ReceiverDown: Error, CustomStringConvertible {
        var description: String { "the receiver is down (503)" }
    }

    @Test("lastError and nextAttemptAt while a retry waits, then after the event is parked (SQLite)")
    func onSQLite() async throws { try await failures(backend: .sqlite) }

    @Test("lastError and nextAttemptAt while a retry waits, then after the event is parked (PostgreSQL)", TestPostgres.enabled)
    func onPostgres() async throws { try await failures(backend: .postgres) }

    func failures(backend: TestBackend) async throws {
        // "waiting" retries after about 60 s (the test ends long before); "gives-up" has one attempt.
        let waiting = Reactor(name: "waiting", startsAtBeginning: true, maximumAttempts: 5, backoff: .seconds(60)) { _ in throw ReceiverDown() }
        let givesUp = Reactor(name: "gives-up", startsAtBeginning: true, maximumAttempts: 1) { _ in throw ReceiverDown() }
        try await withServer(reactors: [waiting, givesUp], backend: backend) { server in
            let fresh = try await server.get("/v1/reactors/waiting")
            #expect(fresh.json["lastError"] == .null && fresh.json["nextAttemptAt"] == .null, "nothing failed yet: \(fresh.body)")
            let before = Timestamp.now()
            #expect(try await server.post("/v1/streams/job-1", #"[{"type":"Started"}]"#).status == 201)
            try await poll("the first attempt to fail") {
                try await server.get("/v1/reactors/waiting").json["failures"] == 1
            }
            let status = try await server.get("/v1/reactors/waiting")
            #expect(status.json["lastError"] == "the receiver is down (503)", "\(status.body)")
            guard case .string(let failedAt)? = status.json["lastErrorAt"], let failed = Timestamp.microseconds(parsing: failedAt),
                  case .string(let nextText)? = status.json["nextAttemptAt"], let next = Timestamp.microseconds(parsing: nextText) else {
                Issue.record("lastErrorAt and nextAttemptAt are instants: \(status.body)")
                return
            }
            #expect(failed >= before - 1_000_000 && failed <= Timestamp.now() + 1_000_000)
            #expect(next > failed + 30_000_000 && next < failed + 90_000_000, "the retry is due after the backoff (60 s ± jitter): \(status.body)")
            #expect(status.json["inFlight"] == 1 && status.json["parked"] == 0)

            try await poll("the other reactor to park the event") {
                try await server.get("/v1/reactors/gives-up").json["parked"] == 1
            }
            let parked = try await server.get("/v1/reactors/gives-up")
            #expect(parked.json["lastError"] == "the receiver is down (503)" && parked.json["lastErrorAt"] != .null, "\(parked.body)")
            #expect(parked.json["nextAttemptAt"] == .null, "a parked event waits for an operator, not a retry: \(parked.body)")
        }
    }
}
