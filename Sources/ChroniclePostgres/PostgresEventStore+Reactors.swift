import ChronicleCore
import Foundation
import Logging
import PostgresNIO

/// A reactor's write, made in a write batch (under the write lock) because it may append
/// events: completing a reaction (outcomes + checkpoint) or parking an event
/// (`$reactorParked` + parked row + checkpoint).
enum ReactorWrite: Sendable {
    case complete(reactor: String, after: Int64, through: Int64, outcomes: PreparedAppend?)
    case park(ParkedEvent, trigger: RecordedEvent, after: Int64?)

    var reactor: String {
        switch self {
        case .complete(let reactor, _, _, _): reactor
        case .park(let parked, _, _): parked.reactor
        }
    }

    /// The streams whose state the write needs.
    var streams: [StreamName] {
        switch self {
        case .complete(_, _, _, let outcomes): outcomes?.streams.map(\.stream) ?? []
        case .park: [.reactors]
        }
    }
}

/// The reactor rows one write batch reads (under the write lock) and changes: checkpoints
/// move only from the position the caller saw, as on every backend.
struct ReactorBatch {
    private var positions: [String: Int64] = [:]
    private var checkpoints: [String: Int64] = [:]
    private var parked: [ParkedEvent] = []

    /// Reads the checkpoints of the reactors the batch writes for.
    static func read(_ batch: [PostgresEventStore.WriteOperation], on connection: PostgresConnection, logger: Logger) async throws -> ReactorBatch {
        var names: Set<String> = []
        for case .reactor(let write) in batch { names.insert(write.reactor) }
        var reactors = ReactorBatch()
        guard !names.isEmpty else { return reactors }
        for try await (name, position) in try await connection.run("SELECT name, position FROM reactors WHERE name = ANY(\(Array(names)))", logger: logger).decode((String, Int64).self) {
            reactors.positions[name] = position
        }
        return reactors
    }

    /// Applies a write to the batch: nothing if the checkpoint moved since the caller saw it.
    /// Outcome events go through the projections' rules like any append.
    mutating func apply(_ write: ReactorWrite, writer: inout LogWriter, transaction: inout PostgresSnapshotTransaction, now: Int64, projections: [ProjectionRegistration]) throws -> PostgresEventStore.WriteOutcome {
        switch write {
        case .complete(let reactor, let after, let through, let outcomes):
            guard positions[reactor] == after else { return .reacted }
            if let outcomes { _ = try writer.append(outcomes, in: &transaction, now: now, projections: projections) }
            positions[reactor] = through
            checkpoints[reactor] = through
        case .park(let event, let trigger, let after):
            if let after {
                guard positions[event.reactor] == after else { return .reacted }
                positions[event.reactor] = event.position
                checkpoints[event.reactor] = event.position
            }
            let record = event.systemEvent(trigger: trigger)
            _ = try writer.appendSystemEvent("$reactorParked", to: .reactors, data: record.data, metadata: record.metadata, in: &transaction, now: now)
            parked.removeAll { $0.reactor == event.reactor && $0.position == event.position }
            parked.append(event)
        }
        return .reacted
    }

    /// Sends the checkpoint moves and parked rows.
    func flush(on connection: PostgresConnection, logger: Logger) async throws {
        if !checkpoints.isEmpty {
            let names = Array(checkpoints.keys)
            try await connection.run("""
                UPDATE reactors SET position = u.position
                FROM unnest(\(names)::text[], \(names.map { checkpoints[$0]! })::int8[]) AS u(name, position)
                WHERE reactors.name = u.name
                """, logger: logger)
        }
        if !parked.isEmpty {
            try await connection.run("""
                INSERT INTO parked_events (reactor, position, event_id, attempts, error, parked_at)
                SELECT * FROM unnest(\(parked.map(\.reactor))::text[], \(parked.map(\.position))::int8[], \(parked.map(\.eventID))::uuid[],
                                     \(parked.map { Int32($0.attempts) })::int4[], \(parked.map(\.error))::text[], \(parked.map(\.parkedAtMicroseconds))::int8[])
                ON CONFLICT (reactor, position) DO UPDATE SET event_id = excluded.event_id, attempts = excluded.attempts,
                    error = excluded.error, parked_at = excluded.parked_at
                """, logger: logger)
        }
    }
}

extension PostgresEventStore: ReactorStore {
    /// A reactor's checkpoint, created at the head (or 0) if new; see ``ReactorStore/reactorCheckpoint(_:fromBeginning:)``.
    public func reactorCheckpoint(_ reactor: String, fromBeginning: Bool) async throws -> Int64 {
        let logger = self.logger
        return try await reading("read the checkpoint of reactor \(reactor)") { connection in
            let start = fromBeginning ? 0 : try await Self.lastEvent(connection, logger: logger)?.position ?? 0
            let rows = try await connection.run("""
                WITH created AS (INSERT INTO reactors (name, position) VALUES (\(reactor), \(start)) ON CONFLICT (name) DO NOTHING RETURNING position)
                SELECT position FROM created UNION ALL SELECT position FROM reactors WHERE name = \(reactor)
                """, logger: logger)
            for try await position in rows.decode(Int64.self) { return position }
            throw ChronicleError(.storageFailure, "The checkpoint of reactor \(reactor) could not be created.")
        }
    }

    /// A reactor's checkpoint, if it started; see ``ReactorStore/reactorPosition(_:)``.
    public func reactorPosition(_ reactor: String) async throws -> Int64? {
        let logger = self.logger
        return try await reading("read the checkpoint of reactor \(reactor)") { connection in
            for try await position in try await connection.run("SELECT position FROM reactors WHERE name = \(reactor)", logger: logger).decode(Int64.self) {
                return position
            }
            return nil
        }
    }

    /// Appends a reaction's outcomes and moves the checkpoint, in one transaction; see
    /// ``ReactorStore/completeReaction(_:after:through:outcomes:)``.
    public func completeReaction(_ reactor: String, after checkpoint: Int64, through: Int64, outcomes: [ReactorOutcome]) async throws {
        let prepared = outcomes.isEmpty ? nil : try AppendRequest(outcomes.map { .init(stream: $0.stream, events: $0.events) }).prepared(limits: configuration.limits)
        _ = try await queue.submit(.reactor(.complete(reactor: reactor, after: checkpoint, through: through, outcomes: prepared)))
    }

    /// Parks an event, records `$reactorParked` and moves the checkpoint, in one transaction;
    /// see ``ReactorStore/park(_:trigger:after:)``.
    public func park(_ parked: ParkedEvent, trigger: RecordedEvent, after checkpoint: Int64?) async throws {
        _ = try await queue.submit(.reactor(.park(parked, trigger: trigger, after: checkpoint)))
    }

    /// A reactor's parked events, oldest first; see ``ReactorStore/parkedEvents(_:)``.
    public func parkedEvents(_ reactor: String) async throws -> [ParkedEvent] {
        let logger = self.logger
        return try await reading("list the parked events of \(reactor)") { connection in
            var events: [ParkedEvent] = []
            let rows = try await connection.run("SELECT position, event_id, attempts, error, parked_at FROM parked_events WHERE reactor = \(reactor) ORDER BY position", logger: logger)
            for try await (position, id, attempts, error, parkedAt) in rows.decode((Int64, UUID, Int32, String, Int64).self) {
                events.append(ParkedEvent(reactor: reactor, position: position, eventID: id, attempts: Int(attempts), error: error, parkedAtMicroseconds: parkedAt))
            }
            return events
        }
    }

    /// Removes a parked event; see ``ReactorStore/unpark(_:eventID:)``.
    public func unpark(_ reactor: String, eventID: UUID) async throws -> ParkedEvent? {
        let logger = self.logger
        return try await reading("unpark an event of \(reactor)") { connection in
            let rows = try await connection.run("DELETE FROM parked_events WHERE reactor = \(reactor) AND event_id = \(eventID) RETURNING position, attempts, error, parked_at", logger: logger)
            for try await (position, attempts, error, parkedAt) in rows.decode((Int64, Int32, String, Int64).self) {
                return ParkedEvent(reactor: reactor, position: position, eventID: eventID, attempts: Int(attempts), error: error, parkedAtMicroseconds: parkedAt)
            }
            return nil
        }
    }
}

extension PostgresEventStore: LeaseStore {
    /// Takes or renews a lease, with the database's clock; see ``LeaseStore/acquireLease(_:owner:duration:)``.
    public func acquireLease(_ name: String, owner: String, duration: Duration) async throws -> Bool {
        let logger = self.logger
        let microseconds = duration.microseconds
        return try await reading("take the lease \(name)") { connection in
            let rows = try await connection.run("""
                INSERT INTO leases (name, owner, expires_at) VALUES (\(name), \(owner), clock_timestamp() + \(microseconds) * interval '1 microsecond')
                ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
                WHERE leases.owner = excluded.owner OR leases.expires_at <= clock_timestamp()
                RETURNING owner
                """, logger: logger)
            for try await _ in rows { return true }
            return false
        }
    }

    /// Gives a lease up; see ``LeaseStore/releaseLease(_:owner:)``.
    public func releaseLease(_ name: String, owner: String) async throws {
        let logger = self.logger
        try await reading("release the lease \(name)") { connection -> Void in
            _ = try await connection.run("DELETE FROM leases WHERE name = \(name) AND owner = \(owner)", logger: logger)
        }
    }

    /// The holder of an unexpired lease; see ``LeaseStore/leaseHolder(_:)``.
    public func leaseHolder(_ name: String) async throws -> String? {
        let logger = self.logger
        return try await reading("read the lease \(name)") { connection in
            for try await owner in try await connection.run("SELECT owner FROM leases WHERE name = \(name) AND expires_at > clock_timestamp()", logger: logger).decode(String.self) {
                return owner
            }
            return nil
        }
    }
}
