import ChronicleCore
import Foundation
import Testing

/// Checks a ``LeaseStore``: one owner at a time, renewal (which extends the lease), expiry and
/// release.
public enum LeaseConformance {
    /// Runs the checks on a fresh store.
    public static func run(_ store: any LeaseStore) async throws {
        let name = "reactor:conformance-\(UUID().uuidString.prefix(8))"
        #expect(try await store.leaseHolder(name) == nil)
        #expect(try await store.acquireLease(name, owner: "node-a", duration: .seconds(60)), "a free lease is taken")
        #expect(try await store.leaseHolder(name) == "node-a")
        #expect(try await store.acquireLease(name, owner: "node-b", duration: .seconds(60)) == false, "another owner is refused while it runs")
        #expect(try await store.acquireLease(name, owner: "node-a", duration: .seconds(60)), "the holder renews")
        #expect(try await store.acquireLease("other-\(name)", owner: "node-b", duration: .seconds(60)), "leases are independent")

        // A renewal extends the lease: of two leases taken together for a short time, the
        // renewed one is still held once the other has expired (the store's own clock says
        // when the short time is over, so nothing here sleeps for a guessed time).
        let renewed = "renewed-\(name)", control = "control-\(name)"
        #expect(try await store.acquireLease(renewed, owner: "node-a", duration: .milliseconds(500)))
        #expect(try await store.acquireLease(control, owner: "node-a", duration: .milliseconds(500)))
        #expect(try await store.acquireLease(renewed, owner: "node-a", duration: .seconds(60)), "the holder renews for longer")
        try await withDeadline(seconds: 30, "the unrenewed lease to expire") {
            while try await !store.acquireLease(control, owner: "node-b", duration: .seconds(60)) {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(try await store.acquireLease(renewed, owner: "node-b", duration: .seconds(60)) == false, "the renewed lease outlives its first term")
        #expect(try await store.leaseHolder(renewed) == "node-a")

        try await store.releaseLease(name, owner: "node-b")
        #expect(try await store.leaseHolder(name) == "node-a", "only the holder releases")
        try await store.releaseLease(name, owner: "node-a")
        #expect(try await store.leaseHolder(name) == nil)
        #expect(try await store.acquireLease(name, owner: "node-b", duration: .milliseconds(300)), "a released lease is taken at once")

        // An expired lease passes to the next owner that asks.
        try await withDeadline(seconds: 30, "the lease to expire") {
            while try await !store.acquireLease(name, owner: "node-c", duration: .seconds(60)) {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(try await store.leaseHolder(name) == "node-c")
        #expect(try await store.acquireLease(name, owner: "node-b", duration: .seconds(60)) == false, "the old holder does not get it back")

        // Of several owners asking at once, one wins.
        let contested = "projection:contested-\(UUID().uuidString.prefix(8))"
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for owner in 0..<8 {
                group.addTask { try await store.acquireLease(contested, owner: "node-\(owner)", duration: .seconds(60)) }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
    }
}
