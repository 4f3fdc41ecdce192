import ChronicleCore
import Foundation
import GRDB

extension SQLiteEventStore {

    /// A reactor's checkpoint; see ``ReactorStore/reactorCheckpoint(_:fromBeginning:)``.
    public func reactorCheckpoint(_ reactor: String, fromBeginning: Bool) async throws -> Int64 {
        do {
            return try await pool.write { db in
                if let position = try Int64.fetchOne(db, sql: "SELECT position FROM reactors WHERE name = ?", arguments: [reactor]) {
                    return position
                }
                let start = fromBeginning ? 0 : try Self.lastEvent(db)?.position ?? 0
                try db.execute(sql: "INSERT INTO reactors (name, position) VALUES (?, ?)", arguments: [reactor, start])
                return start
            }
        } catch {
            throw Self.storageError(error, doing: "read the checkpoint of reactor \(reactor)")
        }
    }

    /// A reactor's checkpoint if it started; see ``ReactorStore/reactorPosition(_:)``.
    public func reactorPosition(_ reactor: String) async throws -> Int64? {
        try await reading("read the checkpoint of reactor \(reactor)") { db in
            try Int64.fetchOne(db, sql: "SELECT position FROM reactors WHERE name = ?", arguments: [reactor])
        }
    }

    /// Appends a reaction's outcomes and moves the checkpoint in one transaction; see
    /// ``ReactorStore/completeReaction(_:after:through:outcomes:)``.
    public func completeReaction(_ reactor: String, after checkpoint: Int64, through: Int64, outcomes: [ReactorOutcome]) async throws {
        let prepared = outcomes.isEmpty ? nil : try AppendRequest(outcomes.map { .init(stream: $0.stream, events: $0.events) }).prepared(limits: configuration.limits)
        let projections = configuration.projections, snapshotInterval = configuration.snapshotInterval
        let head: Int64
        do {
            head = try await pool.write { db -> Int64 in
                let stored = try Int64.fetchOne(db, sql: "SELECT position FROM reactors WHERE name = ?", arguments: [reactor])
                guard stored == checkpoint else { return 0 }
                if let prepared {
                    let last = try Self.lastEvent(db)
                    var writer = LogWriter(head: last?.position ?? 0, lastHash: last?.hash ?? .zero, lastRecordedAt: last?.recordedAt ?? 0, masterKey: masterKey, sealer: sealer)
                    var transaction = SQLiteWriteTransaction(db: db, deletionsExist: try SQLiteWriteTransaction.deletionsExist(db), projections: projections, snapshotInterval: snapshotInterval)
                    _ = try writer.append(prepared, in: &transaction, now: Timestamp.now(), projections: projections)
                    try transaction.flush()
                }
                try db.execute(sql: "UPDATE reactors SET position = ? WHERE name = ?", arguments: [through, reactor])
                return try Self.lastEvent(db)?.position ?? 0
            }
        } catch {
            throw Self.storageError(error, doing: "complete a reaction of \(reactor)")
        }
        notifier.advance(to: head)
    }

    /// Parks an event (recording `$reactorParked`) and moves the checkpoint; see ``ReactorStore/park(_:trigger:after:)``.
    public func park(_ parked: ParkedEvent, trigger: RecordedEvent, after checkpoint: Int64?) async throws {
        let projections = configuration.projections, snapshotInterval = configuration.snapshotInterval
        let head: Int64
        do {
            head = try await pool.write { db -> Int64 in
                if let checkpoint {
                    let stored = try Int64.fetchOne(db, sql: "SELECT position FROM reactors WHERE name = ?", arguments: [parked.reactor])
                    guard stored == checkpoint else { return 0 }
                    try db.execute(sql: "UPDATE reactors SET position = ? WHERE name = ?", arguments: [parked.position, parked.reactor])
                }
                try db.execute(sql: "INSERT OR REPLACE INTO parked_events (reactor, position, event_id, attempts, error, parked_at) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [parked.reactor, parked.position, SQLiteEventRow.blob(parked.eventID), parked.attempts, parked.error, parked.parkedAtMicroseconds])
                let last = try Self.lastEvent(db)
                var writer = LogWriter(head: last?.position ?? 0, lastHash: last?.hash ?? .zero, lastRecordedAt: last?.recordedAt ?? 0)
                var transaction = SQLiteWriteTransaction(db: db, deletionsExist: try SQLiteWriteTransaction.deletionsExist(db), projections: projections, snapshotInterval: snapshotInterval)
                let record = parked.systemEvent(trigger: trigger)
                _ = try writer.appendSystemEvent("$reactorParked", to: .reactors, data: record.data, metadata: record.metadata, in: &transaction, now: Timestamp.now())
                try transaction.flush()
                return writer.head
            }
        } catch {
            throw Self.storageError(error, doing: "park an event of \(parked.reactor)")
        }
        notifier.advance(to: head)
    }

    /// A reactor's parked events; see ``ReactorStore/parkedEvents(_:)``.
    public func parkedEvents(_ reactor: String) async throws -> [ParkedEvent] {
        try await reading("list the parked events of \(reactor)") { db in
            try Row.fetchAll(db, sql: "SELECT position, event_id, attempts, error, parked_at FROM parked_events WHERE reactor = ? ORDER BY position", arguments: [reactor]).map { row in
                let id = (row[1] as Data).withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
                return ParkedEvent(reactor: reactor, position: row[0], eventID: id, attempts: row[2], error: row[3], parkedAtMicroseconds: row[4])
            }
        }
    }

    /// Removes a parked event; see ``ReactorStore/unpark(_:eventID:)``.
    public func unpark(_ reactor: String, eventID: UUID) async throws -> ParkedEvent? {
        let parked = try await parkedEvents(reactor).first { $0.eventID == eventID }
        guard let parked else { return nil }
        do {
            try await pool.write { db in
                try db.execute(sql: "DELETE FROM parked_events WHERE reactor = ? AND position = ?", arguments: [reactor, parked.position])
            }
        } catch {
            throw Self.storageError(error, doing: "unpark an event of \(reactor)")
        }
        return parked
    }
}

extension SQLiteEventStore {
    /// The reactors' checkpoints and parked events; see ``LogArchive/exportReactors()``.
    public func exportReactors() async throws -> ReactorArchive {
        try await reading("export the reactors' state") { db in
            var checkpoints: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, position FROM reactors") {
                checkpoints[row[0]] = row[1]
            }
            let parked = try Row.fetchAll(db, sql: "SELECT reactor, position, event_id, attempts, error, parked_at FROM parked_events ORDER BY reactor, position").map { row in
                let id = (row[2] as Data).withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
                return ParkedEvent(reactor: row[0], position: row[1], eventID: id, attempts: row[3], error: row[4], parkedAtMicroseconds: row[5])
            }
            return ReactorArchive(checkpoints: checkpoints, parked: parked)
        }
    }

    /// Writes imported reactor state (inside the import's transaction).
    static func insert(_ reactors: ReactorArchive, in db: Database) throws {
        for (name, position) in reactors.checkpoints {
            try db.execute(sql: "INSERT OR REPLACE INTO reactors (name, position) VALUES (?, ?)", arguments: [name, position])
        }
        for parked in reactors.parked {
            try db.execute(sql: "INSERT OR REPLACE INTO parked_events (reactor, position, event_id, attempts, error, parked_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [parked.reactor, parked.position, SQLiteEventRow.blob(parked.eventID), parked.attempts, parked.error, parked.parkedAtMicroseconds])
        }
    }
}
