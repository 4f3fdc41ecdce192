@testable import ChroniclePostgres
import Testing

@Suite("PostgreSQL store: what a caller that got no connection is told")
struct PostgresLeasesTests {
    @Test("the connections held, the oldest's age and the callers waiting; a caller that gave up or got one no longer waits")
    func summary() {
        let leases = PostgresLeases(maximumConnections: 4)
        #expect(leases.summary == "Of its 4 connections this store held none then, with 0 callers waiting: the pool could not open one.")
        leases.wait()
        leases.wait()
        leases.wait()
        let first = leases.acquire()
        _ = leases.acquire()
        let two = leases.summary
        #expect(two.hasPrefix("Of its 4 connections this store held 2 then (the oldest for ") && two.hasSuffix(" s), with 1 caller waiting."), "\(two)")
        leases.giveUp()
        leases.release(first)
        let one = leases.summary
        #expect(one.hasPrefix("Of its 4 connections this store held 1 then") && one.hasSuffix("with 0 callers waiting."), "\(one)")
    }
}
