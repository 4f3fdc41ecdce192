import ChronicleCore
import GRDB

extension SQLiteEventStore: LeaseStore {
    /// Takes or renews a lease; see ``LeaseStore/acquireLease(_:owner:duration:)``. Several
    /// processes may open one SQLite file; the lease keeps each worker on one of them.
    public func acquireLease(_ name: String, owner: String, duration: Duration) async throws -> Bool {
        let now = Timestamp.now()
        let expiry = now + duration.microseconds
        do {
            return try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
                    WHERE leases.owner = excluded.owner OR leases.expires_at <= ?
                    """, arguments: [name, owner, expiry, now])
                return try String.fetchOne(db, sql: "SELECT owner FROM leases WHERE name = ?", arguments: [name]) == owner
            }
        } catch {
            throw Self.storageError(error, doing: "take the lease \(name)")
        }
    }

    /// Gives a lease up; see ``LeaseStore/releaseLease(_:owner:)``.
    public func releaseLease(_ name: String, owner: String) async throws {
        do {
            try await pool.write { db in
                try db.execute(sql: "DELETE FROM leases WHERE name = ? AND owner = ?", arguments: [name, owner])
            }
        } catch {
            throw Self.storageError(error, doing: "release the lease \(name)")
        }
    }

    /// The holder of an unexpired lease; see ``LeaseStore/leaseHolder(_:)``.
    public func leaseHolder(_ name: String) async throws -> String? {
        let now = Timestamp.now()
        do {
            return try await pool.read { db in
                try String.fetchOne(db, sql: "SELECT owner FROM leases WHERE name = ? AND expires_at > ?", arguments: [name, now])
            }
        } catch {
            throw Self.storageError(error, doing: "read the lease \(name)")
        }
    }
}
