import ChronicleCore
import PostgresNIO
import Synchronization

extension PostgresEventStore {
    /// Whether an operation's connection or its deadline came first: decided once.
    private final class Wait: Sendable {
        private static let waiting: UInt8 = 0, connected: UInt8 = 1, timedOut: UInt8 = 2
        private let state = Atomic<UInt8>(Wait.waiting)

        /// The connection came first: the operation runs.
        func connect() -> Bool { end(as: Self.connected) }
        /// The deadline came first: the operation fails and never runs.
        func timeOut() -> Bool { end(as: Self.timedOut) }
        /// Whether the operation got its connection (once it has ended, final).
        var isConnected: Bool { state.load(ordering: .acquiring) == Self.connected }

        private func end(as outcome: UInt8) -> Bool {
            state.compareExchange(expected: Self.waiting, desired: outcome, ordering: .acquiringAndReleasing).exchanged
        }
    }

    /// Runs `body` on a pooled connection, giving up with ``ChronicleError/Code/storageFailure``
    /// if no connection comes within ``Configuration-swift.struct/connectTimeout``: while the
    /// server is unreachable the pool keeps trying to connect, and callers would otherwise
    /// wait for as long. Once `body` has its connection it runs to the end; once the caller is
    /// told that no connection came, `body` never runs (a connection the pool hands out after
    /// the deadline goes straight back), so "nothing was done" holds.
    func withPooledConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let wait = Wait()
        let client = self.client, leases = self.leases, timeout = configuration.connectTimeout
        let name = configuration.displayName
        @Sendable func noConnection() -> ChronicleError {
            ChronicleError(.storageFailure, "PostgreSQL at \(name) gave no connection within \(timeout): the server is down, unreachable or out of connections. Nothing was done; try again shortly. \(leases.summary)")
        }
        leases.wait()
        // After the group, whose tasks have all ended: a caller that got no connection (its
        // deadline came, or it was cancelled) waits no longer.
        defer { if !wait.isConnected { leases.giveUp() } }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    guard wait.connect() else { throw noConnection() }
                    let lease = leases.acquire()
                    defer { leases.release(lease) }
                    return try await body(connection)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                guard wait.timeOut() else { return nil }
                throw noConnection()
            }
            while let result = try await group.next() {
                if let value = result {
                    group.cancelAll()
                    return value
                }
            }
            throw CancellationError()
        }
    }
}
