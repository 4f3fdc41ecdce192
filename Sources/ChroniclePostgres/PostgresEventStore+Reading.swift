import ChronicleCore
import Foundation
import Logging
import PostgresNIO

extension PostgresEventStore {

    static let eventColumns = "position, id, stream, revision, type, recorded_at, data, metadata, hash, tags"

    /// The SQL of the events after `$1` and at most `through` that meet `conditions`, in
    /// position order, at most `limit` (placeholders or literals).
    ///
    /// The upper bound is applied outside the `LIMIT`: the log grows at its end, past the
    /// statistics of the last `ANALYZE`, where PostgreSQL estimates a two-sided range on
    /// `position` at a few hundred rows, so it sorted a bitmap scan of the whole rest of the
    /// range for every page (on a store not yet analyzed, 100 ms for a page of 1,000 events
    /// with 120,000 after it: a scan of the log took time quadratic in its length). A
    /// one-sided range walks the primary key in order and stops at the limit.
    static func logRangeSQL(after: String, through: String, conditions: [String] = [], limit: String) -> String {
        let filter = (["position > \(after)"] + conditions).joined(separator: " AND ")
        return "SELECT \(eventColumns) FROM (SELECT \(eventColumns) FROM events WHERE \(filter) ORDER BY position ASC LIMIT \(limit)) AS page WHERE position <= \(through) ORDER BY position ASC"
    }

    static func decodeEvent(_ row: PostgresRow) throws -> RecordedEvent {
        let (position, id, stream, revision, type, recordedAt, data, metadata, hashBytes, tags) = try row.decode((Int64, UUID, String, Int64, String, Int64, String, String, ByteBuffer, ByteBuffer).self)
        guard let hash = hashBytes.withUnsafeReadableBytes({ EventHash(bytes: $0) }) else {
            throw ChronicleError(.storageFailure, "The event at position \(position) has a malformed hash; the database was changed outside Chronicle. Restore it from a backup.")
        }
        return RecordedEvent(
            id: id, stream: StreamName(stored: stream), type: type, revision: revision, position: position,
            recordedAtMicroseconds: recordedAt, dataJSON: data, metadataJSON: metadata, hash: hash,
            tags: tags.withUnsafeReadableBytes { StoredTags.decode($0) }
        )
    }

    /// The SQL (``DCBQuerySQL``, with `$n` placeholders) and bindings of the positions of the
    /// events matching `query` in `(after, through]`, each item led by its rarest tag
    /// (``DCBLeadingTags``, the reaches from ``reaches(_:through:on:logger:)``), in that
    /// order when the tags' rarity differs enough for it to matter (``DCBLeadingTags/isSkewed(_:after:reach:)``).
    static func positions(_ query: DCBQuery, after: Int64, through: Int64?, limit: Int, on connection: PostgresConnection, logger: Logger) async throws -> (String, PostgresBindings) {
        let reach = try await reaches([(query, after)], through: through, on: connection, logger: logger)
        let lookup = Self.lookup(reach, after: after)
        let leading = DCBLeadingTags.choose(query, reach: lookup)
        let probe: DCBQuerySQL.Probe = DCBLeadingTags.isSkewed(query, after: after, reach: lookup) ? .subquery : .join
        var binds = PostgresBindings()
        for value in DCBQuerySQL.values(query, after: after, through: through, limit: limit, leading: leading) {
            switch value {
            case .text(let text): binds.append(text)
            case .integer(let number): binds.append(number)
            }
        }
        return (DCBQuerySQL.sql(DCBQuerySQL.Shape(query, bounded: through != nil), prefix: "$", probe: probe), binds)
    }

    /// The events matching a DCB query, from the tag index; see ``EventStore/read(query:after:limit:)``.
    public func read(query: DCBQuery, after position: Int64, limit: Int) async throws -> DCBQueryPage {
        let logger = self.logger, reader = personalData
        return try await reading("read by query") { connection in
            let head = try await Self.lastEvent(connection, logger: logger)?.position ?? 0
            guard limit > 0, head > position else { return DCBQueryPage(events: [], head: max(head, position)) }
            let (positions, binds) = try await Self.positions(query, after: position, through: head, limit: limit, on: connection, logger: logger)
            var events: [RecordedEvent] = []
            for try await row in try await connection.run(PostgresQuery(unsafeSQL: "SELECT \(Self.eventColumns) FROM events WHERE position IN (\(positions)) ORDER BY position", binds: binds), logger: logger) {
                events.append(try Self.decodeEvent(row))
            }
            events = try await Self.revealed(events, reader: reader, on: connection, logger: logger)
            return DCBQueryPage(events: events, head: events.count < limit ? head : events[events.count - 1].position)
        }
    }

    static func lastEvent(_ connection: PostgresConnection, logger: Logger) async throws -> (position: Int64, hash: EventHash, recordedAt: Int64)? {
        let rows = try await connection.run("SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1", logger: logger)
        for try await (position, hashBytes, recordedAt) in rows.decode((Int64, ByteBuffer, Int64).self) {
            return (position, hashBytes.withUnsafeReadableBytes { EventHash(bytes: $0) } ?? .zero, recordedAt)
        }
        return nil
    }

    /// The streams' states (a stream never written has none): the statement of
    /// ``headAndStreams(_:locking:on:logger:)``, whose head (one index step) goes unused here.
    static func streamInfos(_ names: [String], on connection: PostgresConnection, logger: Logger) async throws -> [StreamInfo] {
        try await headAndStreams(names, on: connection, logger: logger).streams
    }

    /// The last event (``lastEvent(_:logger:)``) and the streams' states
    /// (``streamInfos(_:on:logger:)``) in one statement, one round trip of a commit: a row per
    /// name, each with the head, or one row with the head alone when `names` is empty.
    ///
    /// With `locking`, the statement takes the write lock first and reads once it has it
    /// (`chronicle_lock_and_head`, see ``PostgresSchema``): a commit's lock and its first
    /// read in one round trip.
    static func headAndStreams(_ names: [String], locking: Bool = false, on connection: PostgresConnection, logger: Logger) async throws -> (last: (position: Int64, hash: EventHash, recordedAt: Int64)?, streams: [StreamInfo]) {
        var last: (position: Int64, hash: EventHash, recordedAt: Int64)?
        var infos: [StreamInfo] = []
        let rows = locking ? try await connection.run(LockAndHeadAndStreams(names: names), logger: logger) : try await connection.run(HeadAndStreams(names: names), logger: logger)
        for (position, hashBytes, recordedAt, name, deletedRevision, status, lastRevision) in rows {
            if let position, let recordedAt {
                last = (position, hashBytes?.withUnsafeReadableBytes { EventHash(bytes: $0) } ?? .zero, recordedAt)
            }
            if let name, let info = streamInfo(name, deletedRevision, status, lastRevision) { infos.append(info) }
        }
        return (last, infos)
    }

    /// The statement of ``headAndStreams(_:locking:on:logger:)`` that takes the write lock.
    struct LockAndHeadAndStreams: PostgresPreparedStatement {
        static let name = "chronicle_lock_and_head"
        static let sql = "SELECT * FROM chronicle_lock_and_head($1::text[])"
        typealias Row = HeadAndStreams.Row
        var names: [String]

        func makeBindings() throws -> PostgresBindings { try HeadAndStreams(names: names).makeBindings() }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The statement of ``headAndStreams(_:locking:on:logger:)``.
    struct HeadAndStreams: PostgresPreparedStatement {
        static let name = "chronicle_head_and_streams"
        static let sql = """
            SELECT h.position, h.hash, h.recorded_at, s.name, d.revision, d.status,
                   (SELECT e.revision FROM events e WHERE e.stream = s.name ORDER BY e.revision DESC LIMIT 1)
            FROM (SELECT 1) AS one
            LEFT JOIN (SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1) AS h ON true
            LEFT JOIN unnest($1::text[]) AS s(name) ON true
            LEFT JOIN stream_deletions d ON d.name = s.name
            """
        typealias Row = (Int64?, ByteBuffer?, Int64?, String?, Int64?, Int16?, Int64?)
        var names: [String]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(names)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A stream's state from its deletion row and its last revision; `nil` if it has neither.
    private static func streamInfo(_ name: String, _ deletedRevision: Int64?, _ status: Int16?, _ lastRevision: Int64?) -> StreamInfo? {
        let stream = StreamName(stored: name)
        if let status, let deletedRevision {
            return StreamInfo(stream: stream, revision: deletedRevision, status: status == 2 ? .tombstoned : .softDeleted)
        }
        return lastRevision.map { StreamInfo(stream: stream, revision: $0, status: .active) }
    }

    /// Runs a read on a pooled connection. A read that got a connection the server had
    /// just closed is tried once more on another.
    func reading<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            do {
                return try await withPooledConnection(body)
            } catch is ConnectionClosed {
                return try await withPooledConnection(body)
            }
        } catch {
            throw Self.storageError(error, doing: what, configuration: configuration)
        }
    }

    /// Runs a read in one snapshot (a read-only, repeatable-read transaction) on a pooled
    /// connection, for reads of several statements that must agree with each other.
    func readingSnapshot<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await reading(what) { connection in
            try await connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.run("COMMIT", logger: logger)
                return result
            } catch {
                if Self.connectionSurvives(error) { _ = try? await connection.run("ROLLBACK", logger: logger) }
                throw error
            }
        }
    }

    /// Reads a stream; see ``EventStore/read(_:from:direction:limit:)``.
    public func read(_ stream: StreamName, from start: ReadStart, direction: ReadDirection, limit: Int) async throws -> [RecordedEvent] {
        let logger = self.logger, reader = personalData
        return try await reading("read \(stream)") { connection in
            let info = try StreamReadCheck.readable(try await Self.streamInfos([stream.rawValue], on: connection, logger: logger).first, stream: stream)
            guard limit > 0, let last = info.revision else { return [] }
            let from: Int64 = switch (start, direction) {
            case (.start, .forwards): 0
            case (.start, .backwards), (.end, _): last
            case (.revision(let revision), _): revision
            }
            let rows = direction == .forwards
                ? try await connection.run("SELECT \(unescaped: Self.eventColumns) FROM events WHERE stream = \(stream.rawValue) AND revision >= \(from) ORDER BY revision ASC LIMIT \(Int64(limit))", logger: logger)
                : try await connection.run("SELECT \(unescaped: Self.eventColumns) FROM events WHERE stream = \(stream.rawValue) AND revision <= \(from) ORDER BY revision DESC LIMIT \(Int64(limit))", logger: logger)
            var events: [RecordedEvent] = []
            for try await row in rows { events.append(try Self.decodeEvent(row)) }
            return try await Self.revealed(events, reader: reader, on: connection, logger: logger)
        }
    }

    /// Reads the global log; see ``EventStore/readLog(after:limit:filter:)``.
    ///
    /// The head is read first and the events after, up to it: every event at or below a
    /// committed head is committed (see the type's documentation), so the page is a gap-free
    /// prefix even though the two reads see different snapshots.
    public func readLog(after position: Int64, limit: Int, filter: LogFilter) async throws -> LogPage {
        let logger = self.logger, reader = personalData
        return try await reading("read the log") { connection in
            let head = try await Self.lastEvent(connection, logger: logger)?.position ?? 0
            guard limit > 0, head > position else { return LogPage(events: [], scannedThrough: position) }
            var binds = PostgresBindings()
            binds.append(position)
            binds.append(head)
            var conditions: [String] = []
            if !filter.types.isEmpty {
                binds.append(filter.types.sorted())
                conditions.append("type = ANY($\(binds.count)::text[])")
            }
            if !filter.categories.isEmpty {
                binds.append(filter.categories.sorted())
                conditions.append("category = ANY($\(binds.count)::text[])")
            }
            if let correlation = filter.correlation {
                binds.append(correlation)
                conditions.append("((metadata::jsonb) ->> 'correlationId') = $\(binds.count)")
            }
            binds.append(Int64(limit))
            let sql = Self.logRangeSQL(after: "$1", through: "$2", conditions: conditions, limit: "$\(binds.count)")
            var events: [RecordedEvent] = []
            for try await row in try await connection.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
                events.append(try Self.decodeEvent(row))
            }
            let scanned = events.count < limit ? head : events[events.count - 1].position
            return LogPage(events: try await Self.revealed(events, reader: reader, on: connection, logger: logger), scannedThrough: scanned)
        }
    }

    /// The state of a stream; see ``EventStore/info(_:)``.
    public func info(_ stream: StreamName) async throws -> StreamInfo? {
        let logger = self.logger
        return try await reading("read \(stream)") { connection in
            try await Self.streamInfos([stream.rawValue], on: connection, logger: logger).first
        }
    }

    /// The last position; see ``EventStore/headPosition()``.
    public func headPosition() async throws -> Int64 {
        let logger = self.logger
        let head = try await reading("read the head position") { connection in
            try await Self.lastEvent(connection, logger: logger)?.position ?? 0
        }
        notifier.advance(to: head)
        return head
    }

    /// Waits for a commit, from this process or another; see ``EventStore/waitForEvents(after:)``.
    ///
    /// Waiters share one poll of the head (every `pollInterval`), so an idle
    /// subscriber costs no query of its own.
    public func waitForEvents(after position: Int64) async throws {
        try await notifier.wait(after: position, polling: configuration.pollInterval) { try await self.headPosition() }
    }

    /// Checks the hash chain; see ``EventStore/verify()``.
    public func verify() async throws -> VerificationReport {
        let logger = self.logger
        // One snapshot for the head, the purged events and the events.
        return try await readingSnapshot("verify") { connection in
            try await Self.verify(on: connection, logger: logger)
        }
    }

    private static func verify(on connection: PostgresConnection, logger: Logger) async throws -> VerificationReport {
            let head = try await lastEvent(connection, logger: logger)?.position ?? 0
            var purged: [(position: Int64, hash: EventHash)] = []
            for try await (position, hashBytes) in try await connection.run("SELECT position, hash FROM purged_events ORDER BY position", logger: logger).decode((Int64, ByteBuffer).self) {
                purged.append((position, hashBytes.withUnsafeReadableBytes { EventHash(bytes: $0) } ?? .zero))
            }
            var verifier = HashChainVerifier()
            var nextPurged = 0
            for try await row in try await connection.run("SELECT \(unescaped: eventColumns) FROM events ORDER BY position", logger: logger) {
                if verifier.isBroken { continue }
                let event = try decodeEvent(row)
                while nextPurged < purged.count, purged[nextPurged].position < event.position {
                    verifier.skipPurged(position: purged[nextPurged].position, hash: purged[nextPurged].hash)
                    nextPurged += 1
                }
                verifier.check(event)
            }
            while nextPurged < purged.count, !verifier.isBroken {
                verifier.skipPurged(position: purged[nextPurged].position, hash: purged[nextPurged].hash)
                nextPurged += 1
            }
            return verifier.report(headPosition: head)
    }
}
