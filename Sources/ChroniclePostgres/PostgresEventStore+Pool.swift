import ChronicleCore
import PostgresNIO
import Synchronization

extension PostgresEventStore {
    /// Whether an operation got its connection.
    private final class Started: Sendable {
        private let flag = Atomic(false)
        private let waited = Atomic(false)
        func mark() { flag.store(true, ordering: .releasing) }
        var isSet: Bool { flag.load(ordering: .acquiring) }
        /// Whether this is the first call: the caller's wait ends once, however it ends.
        func endWait() -> Bool { !waited.exchange(true, ordering: .acquiringAndReleasing) }
    }

    /// Runs `body` on a pooled connection, giving up with ``ChronicleError/Code/storageFailure``
    /// if no connection comes within ``Configuration-swift.struct/connectTimeout``: while the
    /// server is unreachable the pool keeps trying to connect, and callers would otherwise
    /// wait for as long. Once `body` has its connection it runs to the end.
    func withPooledConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let started = Started()
        let client = self.client, leases = self.leases, timeout = configuration.connectTimeout, name = configuration.displayName
        let maximum = configuration.maximumConnections
        leases.wait()
        defer { if started.endWait() { leases.giveUp() } }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    started.mark()
                    let lease = leases.acquire(endingWait: started.endWait())
                    defer { leases.release(lease) }
                    return try await body(connection)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                guard started.isSet else {
                    let held = leases.summary(maximum: maximum)
                    throw ChronicleError(.storageFailure, "PostgreSQL at \(name) gave no connection within \(timeout): the server is down, unreachable or out of connections. Nothing was done; try again shortly. \(held)")
                }
                return nil
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
