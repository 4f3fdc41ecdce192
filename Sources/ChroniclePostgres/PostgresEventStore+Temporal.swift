import ChronicleCore
import Logging
import PostgresNIO

extension PostgresEventStore {
    /// An entity's document as of a position; see ``ProjectionStore/document(entity:id:projection:asOf:)``.
    public func document(entity: String, id: String, projection name: String, asOf position: Int64) async throws -> Document? {
        let logger = self.logger, reader = personalData
        let registration = try registration(named: name)
        if registration.lifecycle == .live {
            let projection = registration.projection
            guard let stream = projection.stream(entity: entity, id: id) else { return nil }
            let events = try await reading("fold \(entity)/\(id)") { connection in
                var events: [RecordedEvent] = []
                // The stream's events and the deletions recorded of it, in log order.
                for try await row in try await connection.run("""
                    SELECT \(unescaped: Self.eventColumns) FROM events WHERE position <= \(position)
                    AND (stream = \(stream.rawValue) OR (stream = \(StreamName.deletions.rawValue) AND (data::jsonb) ->> 'stream' = \(stream.rawValue))) ORDER BY position
                    """, logger: logger) {
                    events.append(try Self.decodeEvent(row))
                }
                return try await Self.revealed(events, reader: reader, on: connection, logger: logger)
            }
            return try liveDocument(projection, events: events, asOf: position)
        }
        return try await reading("read document \(entity)/\(id) as of \(position)") { connection in
            try await PostgresDocumentVersions.version(projection: name, entity: entity, id: id, asOf: position, on: connection, logger: logger)?.document
        }
    }

    /// A page of a projection's documents as of a position; see ``ProjectionStore/documents(_:projection:asOf:)``.
    public func documents(_ query: DocumentQuery, projection name: String, asOf position: Int64) async throws -> DocumentPage {
        try await page(query, projection: name, asOf: position)
    }

    /// Where the projection's recorded past starts; see ``ProjectionStore/historyStart(projection:)``.
    public func historyStart(projection name: String) async throws -> Int64 {
        _ = try registration(named: name)
        let logger = self.logger
        return try await reading("read where the past of projection \(name) starts") { connection in
            for try await start in try await connection.run("SELECT history_from FROM projections WHERE name = \(name)", logger: logger).decode(Int64.self) {
                return start
            }
            return 0
        }
    }

    /// The positions an entity's document changed at; see ``ProjectionStore/changePositions(entity:id:projection:after:)``.
    public func changePositions(entity: String, id: String, projection name: String, after position: Int64) async throws -> [Int64] {
        guard try registration(named: name).lifecycle != .live else { return [] }
        let logger = self.logger
        return try await reading("list the changes of \(entity)/\(id)") { connection in
            var positions: [Int64] = []
            let rows = try await connection.run("SELECT valid_from FROM document_versions WHERE projection = \(name) AND entity = \(entity) AND id = \(id) AND valid_from > \(position) ORDER BY valid_from", logger: logger)
            for try await position in rows.decode(Int64.self) { positions.append(position) }
            return positions
        }
    }

    /// The entities changed between two positions, read in one snapshot; see ``ProjectionStore/changedDocuments(projection:from:to:entity:after:limit:)``.
    public func changedDocuments(projection name: String, from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int) async throws -> [ChangedDocument] {
        try refuseLive(name, "list changes")
        let logger = self.logger
        return try await readingSnapshot("list the changes from \(from) to \(to)") { connection in
            try await PostgresDocumentVersions.changed(projection: name, from: from, to: to, entity: entity, after: cursor, limit: limit, on: connection, logger: logger)
        }
    }
}
