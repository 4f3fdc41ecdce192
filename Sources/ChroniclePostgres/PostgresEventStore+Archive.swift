import ChronicleCore
import Foundation
import Logging
import PostgresNIO

extension PostgresEventStore: LogArchive {
    /// Entries after a position, events and purged positions in one snapshot; see
    /// ``LogArchive/exportLog(after:limit:)``.
    public func exportLog(after position: Int64, limit: Int) async throws -> [LogEntry] {
        let logger = self.logger
        // One snapshot: a hard delete moves events to purged_events between two reads.
        return try await readingSnapshot("export the log") { connection in
            var entries: [LogEntry] = []
            for try await row in try await connection.run("SELECT \(unescaped: Self.eventColumns) FROM events WHERE position > \(position) ORDER BY position LIMIT \(Int64(limit))", logger: logger) {
                entries.append(.event(try Self.decodeEvent(row)))
            }
            for try await (purged, hashBytes) in try await connection.run("SELECT position, hash FROM purged_events WHERE position > \(position) ORDER BY position LIMIT \(Int64(limit))", logger: logger).decode((Int64, ByteBuffer).self) {
                entries.append(.purged(position: purged, hash: hashBytes.withUnsafeReadableBytes { EventHash(bytes: $0) } ?? .zero))
            }
            return Array(entries.sorted { $0.position < $1.position }.prefix(limit))
        }
    }

    /// Loads a log into an empty store, all or nothing, under the write lock; see
    /// ``LogArchive/importLog(_:reactors:progress:)``. The documents of every projection that keeps
    /// them are rebuilt in the same transaction (an asynchronous one's checkpoint is the head).
    public func importLog(_ entries: [LogEntry], reactors: ReactorArchive, progress: @Sendable (Int) -> Void) async throws {
        try reactors.check(against: entries)
        var snapshot = PostgresSnapshotTransaction()
        var check = LogImportCheck()
        var purged: [(position: Int64, hash: EventHash)] = []
        for (index, entry) in entries.enumerated() {
            let deletion = try check.check(entry, index: index)
            switch entry {
            case .event(let event):
                try snapshot.insert(event, stream: StreamInfo(stream: event.stream, revision: event.revision, status: .active))
                if let deletion { try snapshot.save(deletion) }
            case .purged(let position, let hash):
                purged.append((position, hash))
            }
        }
        let checked = snapshot, lost = purged, logger = self.logger, name = configuration.displayName
        let rebuilt = projections.filter { $0.lifecycle != .live }.map(\.projection)
        do {
            try await load(checked, purged: lost, reactors: reactors, rebuilding: rebuilt, storeName: name, logger: logger)
        } catch {
            throw Self.storageError(error, doing: "import the log", configuration: configuration)
        }
        progress(entries.count)
        notifier.advance(to: entries.last?.position ?? 0)
    }

    /// Writes a checked import in one transaction, if the store is empty.
    private func load(_ checked: PostgresSnapshotTransaction, purged lost: [(position: Int64, hash: EventHash)], reactors: ReactorArchive, rebuilding projections: [any Projection], storeName name: String, logger: Logger) async throws {
        try await withPooledConnection { connection in
            try await connection.run("BEGIN", logger: logger)
            do {
                try await connection.run(PostgresQuery(unsafeSQL: Self.writeLock), logger: logger)
                let count = try await connection.run("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM purged_events)", logger: logger).collect().first?.decode(Int64.self) ?? 0
                guard count == 0 else {
                    throw ChronicleError(.invalidInput, "The store at \(name) is not empty; import into a new schema (?schema=NAME in the URL) or an empty database.")
                }
                var unannounced: CommitNotification?
                try await Self.flush(checked, notify: &unannounced, on: connection, logger: logger)
                if !lost.isEmpty {
                    try await connection.run("""
                        INSERT INTO purged_events (position, hash)
                        SELECT * FROM unnest(\(lost.map(\.position))::int8[], \(lost.map { $0.hash.withUnsafeBytes { ByteBuffer(bytes: $0) } })::bytea[])
                        """, logger: logger)
                }
                try await Self.insert(reactors, on: connection, logger: logger)
                for projection in projections {
                    _ = try await Self.rebuild(projection, on: connection, reader: self.personalData, logger: logger)
                }
                try await connection.run("COMMIT", logger: logger)
            } catch {
                if Self.connectionSurvives(error) { _ = try? await connection.run("ROLLBACK", logger: logger) }
                throw error
            }
        }
    }

    /// The reactors' checkpoints and parked events, in one snapshot; see
    /// ``LogArchive/exportReactors()``.
    public func exportReactors() async throws -> ReactorArchive {
        let logger = self.logger
        return try await readingSnapshot("export the reactors' state") { connection in
            var checkpoints: [String: Int64] = [:]
            for try await (name, position) in try await connection.run("SELECT name, position FROM reactors", logger: logger).decode((String, Int64).self) {
                checkpoints[name] = position
            }
            var parked: [ParkedEvent] = []
            let rows = try await connection.run("SELECT reactor, position, event_id, attempts, error, parked_at FROM parked_events ORDER BY reactor, position", logger: logger)
            for try await (reactor, position, id, attempts, error, parkedAt) in rows.decode((String, Int64, UUID, Int32, String, Int64).self) {
                parked.append(ParkedEvent(reactor: reactor, position: position, eventID: id, attempts: Int(attempts), error: error, parkedAtMicroseconds: parkedAt))
            }
            return ReactorArchive(checkpoints: checkpoints, parked: parked)
        }
    }

    /// Writes imported reactor state (inside the import's transaction).
    private static func insert(_ reactors: ReactorArchive, on connection: PostgresConnection, logger: Logger) async throws {
        for (name, position) in reactors.checkpoints {
            try await connection.run("INSERT INTO reactors (name, position) VALUES (\(name), \(position)) ON CONFLICT (name) DO UPDATE SET position = excluded.position", logger: logger)
        }
        for parked in reactors.parked {
            try await connection.run("""
                INSERT INTO parked_events (reactor, position, event_id, attempts, error, parked_at)
                VALUES (\(parked.reactor), \(parked.position), \(parked.eventID), \(Int32(clamping: parked.attempts)), \(parked.error), \(parked.parkedAtMicroseconds))
                ON CONFLICT (reactor, position) DO UPDATE SET event_id = excluded.event_id, attempts = excluded.attempts, error = excluded.error, parked_at = excluded.parked_at
                """, logger: logger)
        }
    }
}
