import ChronicleCore
import Foundation
import Logging
import PostgresNIO

extension NeedsData {
    /// Adds the documents (and holders) an operation will most likely ask for, so that a
    /// batch reads them in one go: the entities of its events, as the projection maps them,
    /// and those its rules name. Events are looked at before they are recorded (no position
    /// or revision yet); what this misses is asked for by the operation itself.
    mutating func prefetchDocuments(for operation: PostgresEventStore.WriteOperation, projections: [ProjectionRegistration]) {
        let inline = ProjectionRegistration.inline(projections)
        func events(of request: PreparedAppend) {
            for part in request.streams {
                for event in part.events {
                    let recorded = RecordedEvent(
                        id: event.id, stream: part.stream, type: event.type, revision: 0, position: 0,
                        recordedAtMicroseconds: 0, dataJSON: event.data, metadataJSON: event.metadata, hash: .zero
                    )
                    if projections.contains(where: { $0.projection.erases(eventType: event.type, in: part.stream) }) { streams.insert(.deletions) }
                    for projection in inline {
                        let name = projection.name
                        for target in projection.targets(of: recorded) { documents.insert(DocumentKey(projection: name, entity: target.entity, id: target.id)) }
                        for read in projection.readsForCheck(of: recorded) {
                            switch read {
                            case .document(let entity, let id): documents.insert(DocumentKey(projection: name, entity: entity, id: id))
                            case .holder(let entity, let field, let value): holders.insert(HolderKey(projection: name, entity: entity, field: field, value: value))
                            }
                        }
                    }
                }
            }
            // The request's own rules read the projection they name, or the first inline one (as LogWriter does).
            for rule in request.rules {
                guard let name = rule.projection ?? inline.first?.name else { continue }
                switch rule.check {
                case .exists(let entity, let id), .absent(let entity, let id), .matches(let entity, let id, _), .version(let entity, let id, _):
                    documents.insert(DocumentKey(projection: name, entity: entity, id: id))
                case .unique(let entity, let field, let value, _):
                    holders.insert(HolderKey(projection: name, entity: entity, field: field, value: value))
                }
            }
        }
        switch operation {
        case .append(let request):
            events(of: request)
        case .delete(let stream, let mode, _):
            let deletion = RecordedEvent(
                id: UUID(), stream: .deletions, type: StreamDeletion.eventType, revision: 0, position: 0, recordedAtMicroseconds: 0,
                dataJSON: StreamDeletion.data(stream: stream, mode: mode, revision: 0).canonicalText, metadataJSON: "{}", hash: .zero
            )
            for projection in inline {
                if let (entity, id) = projection.entity(of: deletion) { documents.insert(DocumentKey(projection: projection.name, entity: entity, id: id)) }
            }
        case .reactor(.complete(_, _, _, let outcomes?)):
            events(of: outcomes)
            prefetchSubjects(of: outcomes, projections: projections)
        case .reactor, .erase:
            break
        }
    }
}

extension PostgresEventStore {
    /// The write lock every write transaction takes first; see the type's documentation.
    static let writeLock = "SELECT pg_advisory_xact_lock((x'4348524E'::bigint << 32) | 'events'::regclass::oid::bigint)"

    static let documentColumns = "entity, id, state::text, version, position, updated_at, deleted"

    static func decodeDocument(_ row: PostgresRow) throws -> Document {
        let (entity, id, state, version, position, updatedAt, deleted) = try row.decode((String, String, String, Int64, Int64, Int64, Bool).self)
        return Document(entity: entity, id: id, state: try JSONValue(parsing: state), version: version, position: position, updatedAtMicroseconds: updatedAt, deleted: deleted)
    }

    /// Reads documents by key; keys without a document map to `nil`.
    static func readDocuments(_ keys: Set<DocumentKey>, on connection: PostgresConnection, logger: Logger) async throws -> [DocumentKey: Document?] {
        guard !keys.isEmpty else { return [:] }
        var documents: [DocumentKey: Document?] = [:]
        for key in keys { documents[key] = .some(nil) }
        let ordered = Array(keys)
        let rows = try await connection.run("""
            SELECT d.projection, d.entity, d.id, d.state::text, d.version, d.position, d.updated_at, d.deleted
            FROM documents d JOIN unnest(\(ordered.map(\.projection))::text[], \(ordered.map(\.entity))::text[], \(ordered.map(\.id))::text[]) AS k(projection, entity, id)
                ON d.projection = k.projection AND d.entity = k.entity AND d.id = k.id
            """, logger: logger)
        for try await row in rows {
            let (projection, entity, id, state, version, position, updatedAt, deleted) = try row.decode((String, String, String, String, Int64, Int64, Int64, Bool).self)
            documents[DocumentKey(projection: projection, entity: entity, id: id)] = Document(
                entity: entity, id: id, state: try JSONValue(parsing: state), version: version, position: position, updatedAtMicroseconds: updatedAt, deleted: deleted
            )
        }
        return documents
    }

    /// The live documents that may hold a value in a field: JSONB containment (served by the
    /// GIN index) finds a superset, which ``PostgresSnapshotTransaction/holder(entity:field:value:)``
    /// narrows to exact matches. A boolean and the number 1 or 0 count as equal, as in SQLite.
    static func readHolders(_ key: HolderKey, on connection: PostgresConnection, logger: Logger) async throws -> [Document] {
        var alternatives: [JSONValue] = [key.value]
        switch key.value {
        case .bool(let flag): alternatives.append(.integer(flag ? 1 : 0))
        case .integer(1), .double(1): alternatives.append(.bool(true))
        case .integer(0), .double(0): alternatives.append(.bool(false))
        case .null: return []
        default: break
        }
        var binds = PostgresBindings()
        binds.append(key.projection)
        binds.append(key.entity)
        var conditions: [String] = []
        for alternative in alternatives {
            binds.append(JSONValue.object([key.field: alternative]).canonicalText)
            conditions.append("state @> $\(binds.count)::jsonb")
        }
        let sql = "SELECT \(documentColumns) FROM documents WHERE projection = $1 AND entity = $2 AND NOT deleted AND (\(conditions.joined(separator: " OR ")))"
        var documents: [Document] = []
        for try await row in try await connection.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
            documents.append(try decodeDocument(row))
        }
        return documents
    }

    /// Sends the batch's document changes (after its events): removals, upserts, snapshots.
    static func flushDocuments(_ snapshot: PostgresSnapshotTransaction, on connection: PostgresConnection, logger: Logger) async throws {
        let (upserts, removals) = snapshot.documentChanges
        if !removals.isEmpty {
            try await connection.run("""
                DELETE FROM documents d USING unnest(\(removals.map(\.projection))::text[], \(removals.map(\.entity))::text[], \(removals.map(\.id))::text[]) AS k(projection, entity, id)
                WHERE d.projection = k.projection AND d.entity = k.entity AND d.id = k.id
                """, logger: logger)
        }
        try await upsert(upserts, on: connection, logger: logger)
        let gone = Array(snapshot.removedSnapshots)
        if !gone.isEmpty {
            try await connection.run("""
                DELETE FROM document_snapshots s USING unnest(\(gone.map(\.projection))::text[], \(gone.map(\.entity))::text[], \(gone.map(\.id))::text[]) AS k(projection, entity, id)
                WHERE s.projection = k.projection AND s.entity = k.entity AND s.id = k.id
                """, logger: logger)
        }
        try await PostgresDocumentVersions.apply(snapshot.historyPlans, on: connection, logger: logger)
        let snapshots = snapshot.pendingSnapshots.map(\.document), owners = snapshot.pendingSnapshots.map(\.projection)
        if !snapshots.isEmpty {
            try await connection.run("""
                INSERT INTO document_snapshots (projection, entity, id, version, state, position, updated_at, deleted)
                SELECT projection, entity, id, version, state::jsonb, position, updated_at, deleted
                FROM unnest(\(owners)::text[], \(snapshots.map(\.entity))::text[], \(snapshots.map(\.id))::text[], \(snapshots.map(\.version))::int8[],
                            \(snapshots.map(\.state.canonicalText))::text[], \(snapshots.map(\.position))::int8[],
                            \(snapshots.map(\.updatedAtMicroseconds))::int8[], \(snapshots.map(\.deleted))::bool[])
                    AS u(projection, entity, id, version, state, position, updated_at, deleted)
                ON CONFLICT (projection, entity, id, version) DO UPDATE SET state = excluded.state, position = excluded.position,
                    updated_at = excluded.updated_at, deleted = excluded.deleted
                """, logger: logger)
        }
    }

    /// Stores documents (each of its projection) with one statement per thousand.
    static func upsert(_ documents: [(projection: String, document: Document)], on connection: PostgresConnection, logger: Logger) async throws {
        var start = 0
        while start < documents.count {
            let slice = documents[start..<min(documents.count, start + 1000)]
            let chunk = slice.map(\.document)
            start += chunk.count
            try await connection.run("""
                INSERT INTO documents (projection, entity, id, state, version, position, updated_at, deleted)
                SELECT projection, entity, id, state::jsonb, version, position, updated_at, deleted
                FROM unnest(\(slice.map(\.projection))::text[], \(chunk.map(\.entity))::text[], \(chunk.map(\.id))::text[], \(chunk.map(\.state.canonicalText))::text[],
                            \(chunk.map(\.version))::int8[], \(chunk.map(\.position))::int8[], \(chunk.map(\.updatedAtMicroseconds))::int8[],
                            \(chunk.map(\.deleted))::bool[])
                    AS u(projection, entity, id, state, version, position, updated_at, deleted)
                ON CONFLICT (projection, entity, id) DO UPDATE SET state = excluded.state, version = excluded.version,
                    position = excluded.position, updated_at = excluded.updated_at, deleted = excluded.deleted
                """, logger: logger)
        }
    }

    // MARK: Rebuilds

    /// Rebuilds the documents if the projection is new or its definition changed (checked
    /// again under the write lock, so that of several nodes starting at once one rebuilds).
    static func ensureCurrent(_ projection: any Projection, on connection: PostgresConnection, reader: PersonalDataReader, logger: Logger) async throws {
        guard try await storedDefinition(projection, on: connection, logger: logger) != projection.definitionHash else { return }
        try await connection.run("BEGIN", logger: logger)
        do {
            try await connection.run(PostgresQuery(unsafeSQL: writeLock), logger: logger)
            let stored = try await storedDefinition(projection, on: connection, logger: logger)
            if stored != projection.definitionHash {
                logger.notice("Rebuilding documents", metadata: ["chronicle.projection": "\(projection.name)", "chronicle.reason": "\(stored == nil ? "new projection" : "definition changed")"])
                let count = try await rebuild(projection, on: connection, reader: reader, logger: logger)
                logger.notice("Rebuilt documents", metadata: ["chronicle.projection": "\(projection.name)", "chronicle.events": "\(count)"])
            }
            try await connection.run("COMMIT", logger: logger)
        } catch {
            if connectionSurvives(error) {
                _ = try? await connection.run("ROLLBACK", logger: logger)
            }
            throw error
        }
    }

    private static func storedDefinition(_ projection: any Projection, on connection: PostgresConnection, logger: Logger) async throws -> String? {
        for try await hash in try await connection.run("SELECT definition_hash FROM projections WHERE name = \(projection.name)", logger: logger).decode(String.self) {
            return hash
        }
        return nil
    }

    /// Replays the whole log into fresh documents, in the caller's transaction (which holds
    /// the write lock): readers see the old documents until it commits. Returns the number
    /// of events replayed. For opening and importing; a rebuild of a serving store is
    /// ``rebuildDocuments(projection:progress:)``.
    static func rebuild(_ projection: any Projection, on connection: PostgresConnection, reader: PersonalDataReader, logger: Logger) async throws -> Int {
        var documents = DocumentSet(recordingHistory: true)
        var replayed = 0
        try await connection.run("DELETE FROM document_versions WHERE projection = \(projection.name)", logger: logger)
        // Page by page, so that each page's temporal-table rows are sent before the next is read.
        var position: Int64 = 0
        while true {
            var events: [RecordedEvent] = []
            for try await row in try await connection.run("SELECT \(unescaped: eventColumns) FROM events WHERE position > \(position) ORDER BY position LIMIT 10000", logger: logger) {
                events.append(try decodeEvent(row))
            }
            for event in try await revealed(events, reader: reader, on: connection, logger: logger) {
                try documents.apply(event, projection)
                position = event.position
            }
            let page = events.count
            replayed += page
            try await PostgresDocumentVersions.apply([(projection.name, DocumentHistoryPlan(documents.takeHistory()))], on: connection, logger: logger)
            if page < 10000 { break }
        }
        let head = try await lastEvent(connection, logger: logger)?.position ?? 0
        try await replaceDocuments(of: projection, with: documents.all, head: head, on: connection, logger: logger)
        return replayed
    }

    /// Under the write lock: replaces a projection's documents (its snapshots go) and records
    /// its definition at `head`.
    static func replaceDocuments(of projection: any Projection, with documents: [Document], head: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run("DELETE FROM documents WHERE projection = \(projection.name)", logger: logger)
        try await connection.run("DELETE FROM document_snapshots WHERE projection = \(projection.name)", logger: logger)
        try await upsert(documents.map { (projection.name, $0) }, on: connection, logger: logger)
        try await connection.run("""
            INSERT INTO projections (name, definition_hash, position, history_from) VALUES (\(projection.name), \(projection.definitionHash), \(head), 0)
            ON CONFLICT (name) DO UPDATE SET definition_hash = excluded.definition_hash, position = excluded.position, history_from = 0
            """, logger: logger)
    }
}

extension PostgresEventStore {
    // MARK: Reading documents

    /// An entity's document in a projection; see ``ProjectionStore/document(entity:id:projection:)``.
    public func document(entity: String, id: String, projection name: String) async throws -> Document? {
        let logger = self.logger, reader = personalData
        let registration = try registration(named: name)
        if registration.lifecycle == .live {
            let projection = registration.projection
            guard let stream = projection.stream(entity: entity, id: id) else { return nil }
            // The stream's state and its events from one snapshot.
            return try await readingSnapshot("fold \(entity)/\(id)") { connection in
                let status = try await Self.streamInfos([stream.rawValue], on: connection, logger: logger).first?.status
                var events: [RecordedEvent] = []
                for try await row in try await connection.run("SELECT \(unescaped: Self.eventColumns) FROM events WHERE stream = \(stream.rawValue) ORDER BY revision", logger: logger) {
                    events.append(try Self.decodeEvent(row))
                }
                return try projection.liveDocument(events: try await Self.revealed(events, reader: reader, on: connection, logger: logger), status: status)
            }
        }
        let key = DocumentKey(projection: name, entity: entity, id: id)
        return try await reading("read document \(entity)/\(id)") { connection in
            try await Self.readDocuments([key], on: connection, logger: logger)[key] ?? nil
        }
    }

    /// The latest snapshot at or before a point; see ``ProjectionStore/snapshot(entity:id:before:projection:)``.
    public func snapshot(entity: String, id: String, before point: EntityTimeline.Point, projection name: String) async throws -> Document? {
        let logger = self.logger
        return try await reading("read a snapshot of \(entity)/\(id)") { connection in
            let rows: PostgresRowSequence
            switch point {
            case .version(let version):
                rows = try await connection.run("""
                    SELECT \(unescaped: Self.documentColumns) FROM document_snapshots
                    WHERE projection = \(name) AND entity = \(entity) AND id = \(id) AND version <= \(version) ORDER BY version DESC LIMIT 1
                    """, logger: logger)
            case .instant(let instant):
                rows = try await connection.run("""
                    SELECT \(unescaped: Self.documentColumns) FROM document_snapshots
                    WHERE projection = \(name) AND entity = \(entity) AND id = \(id) AND updated_at <= \(instant) ORDER BY version DESC LIMIT 1
                    """, logger: logger)
            }
            for try await row in rows { return try Self.decodeDocument(row) }
            return nil
        }
    }

    /// Rebuilds one projection's documents from the events alone (``ProjectionRebuild``);
    /// see ``ProjectionStore/rebuildDocuments(projection:progress:)``. The other projections
    /// are not touched.
    ///
    /// The log is folded from pooled readers while appends go on; then one transaction under
    /// the write lock folds the events appended meanwhile and replaces the documents. Readers
    /// see the old documents until it commits; appends (on every node) wait only for that
    /// last transaction, which writes every document, so it is the part that grows with the
    /// number of documents.
    @discardableResult
    public func rebuildDocuments(projection name: String, progress: @Sendable (_ done: Int64, _ total: Int64) -> Void) async throws -> Int {
        try refuseLive(name, "rebuild documents")
        let projection = try registration(named: name).projection
        do {
            return try await ProjectionRebuild.run(projection, on: PostgresRebuild(store: self, projection: projection), progress: progress)
        } catch {
            throw Self.storageError(error, doing: "rebuild the documents of projection \(name)", configuration: configuration)
        }
    }

    /// A page of a projection's documents, in the same order as on SQLite; see ``ProjectionStore/documents(_:projection:)``.
    public func documents(_ query: DocumentQuery, projection name: String) async throws -> DocumentPage {
        try await page(query, projection: name, asOf: nil)
    }

    /// A page of the documents, or of the temporal table's rows in force at `asOf`.
    func page(_ query: DocumentQuery, projection name: String, asOf: Int64?) async throws -> DocumentPage {
        try refuseLive(name, "list documents")
        let logger = self.logger
        let (sql, binds) = Self.pageQuery(query, projection: name, asOf: asOf)
        var documents = try await reading("list \(query.entity) documents") { connection in
            var documents: [Document] = []
            for try await row in try await connection.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
                documents.append(try Self.decodeDocument(row))
            }
            return documents
        }
        var next: DocumentCursor?
        if documents.count > query.limit {
            documents.removeLast()
            next = documents.last.map { DocumentCursor(key: query.sortKey(of: $0), id: $0.id) }
        }
        return DocumentPage(documents: documents, next: next)
    }

    /// The SQL of a page (one more row than the limit, to know whether a next page exists).
    ///
    /// A field's value compares as the triple `(kind, number, text)`, which orders exactly as
    /// ``SortKey``: kind 0 for missing or `null`, 1 for numbers and booleans (as 1 and 0), 2
    /// for strings (compared by their bytes, `COLLATE "C"`) and for objects and arrays (by
    /// their JSONB text, which is not Chronicle's canonical text: sorting or filtering on
    /// object or array fields may order differently from SQLite).
    /// With `asOf`, the temporal table's rows in force right after that position.
    static func pageQuery(_ query: DocumentQuery, projection: String, asOf: Int64? = nil) -> (String, PostgresBindings) {
        var binds = PostgresBindings()
        func bind(_ value: some PostgresNonThrowingEncodable & Sendable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        func key(_ field: String) -> (kind: String, number: String, text: String) {
            let value = "(state -> \(bind(field))::text)"
            return (
                "(CASE jsonb_typeof(\(value)) WHEN 'number' THEN 1 WHEN 'boolean' THEN 1 WHEN 'string' THEN 2 WHEN 'object' THEN 2 WHEN 'array' THEN 2 ELSE 0 END)",
                "(CASE jsonb_typeof(\(value)) WHEN 'number' THEN (\(value) #>> '{}')::float8 WHEN 'boolean' THEN (CASE WHEN \(value) = 'true'::jsonb THEN 1 ELSE 0 END)::float8 ELSE 0 END)",
                "(CASE jsonb_typeof(\(value)) WHEN 'string' THEN \(value) #>> '{}' WHEN 'object' THEN \(value)::text WHEN 'array' THEN \(value)::text ELSE '' END COLLATE \"C\")"
            )
        }
        func literal(_ sortKey: SortKey) -> String {
            switch sortKey {
            case .missing: "(0, 0::float8, ''::text COLLATE \"C\")"
            case .number(let number): "(1, \(bind(number))::float8, ''::text COLLATE \"C\")"
            case .text(let text): "(2, 0::float8, \(bind(text))::text COLLATE \"C\")"
            }
        }
        var conditions = ["projection = \(bind(projection))", "entity = \(bind(query.entity))"]
        var table = "documents"
        if let asOf {
            // Every entity with a version has a document (a removal purges both): the
            // documents' key gives the ids in order, each one's version in force is one probe.
            table = """
                (SELECT d.projection, d.entity, d.id, v.state, v.version, v.position, v.updated_at, v.deleted FROM documents d
                 CROSS JOIN LATERAL (SELECT m.state, m.version, m.position, m.updated_at, m.deleted FROM document_versions m
                    WHERE m.projection = d.projection AND m.entity = d.entity AND m.id = d.id AND m.valid_from <= \(bind(asOf))
                    ORDER BY m.valid_from DESC LIMIT 1) v
                 WHERE v.state IS NOT NULL) AS t
                """
        }
        if !query.includeDeleted { conditions.append("NOT deleted") }
        for filter in query.filters {
            let operation = switch filter.comparison {
            case .eq: "="
            case .ne: "<>"
            case .gt: ">"
            case .gte: ">="
            case .lt: "<"
            case .lte: "<="
            }
            let field = key(filter.field)
            conditions.append("\(field.kind) <> 0 AND (\(field.kind), \(field.number), \(field.text)) \(operation) \(literal(SortKey(filter.value)))")
        }
        let direction = query.descending ? "DESC" : "ASC"
        var order = "id \(direction)"
        if let sortField = query.sortField {
            let field = key(sortField)
            if let cursor = query.cursor {
                let wanted = literal(cursor.key).dropLast()
                conditions.append("(\(field.kind), \(field.number), \(field.text), id) \(query.descending ? "<" : ">") \(wanted), \(bind(cursor.id))::text COLLATE \"C\")")
            }
            order = "\(field.kind) \(direction), \(field.number) \(direction), \(field.text) \(direction), id \(direction)"
        } else if let cursor = query.cursor {
            conditions.append("id \(query.descending ? "<" : ">") \(bind(cursor.id))::text")
        }
        let limit = bind(Int64(max(0, query.limit) + 1))
        return ("SELECT \(documentColumns) FROM \(table) WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order) LIMIT \(limit)", binds)
    }
}

extension PostgresEventStore: AsyncProjectionStore {
    /// An asynchronous projection's checkpoint; see ``ProjectionStore/projectionCheckpoint(projection:)``.
    public func projectionCheckpoint(projection name: String) async throws -> Int64 {
        _ = try registration(named: name)
        let logger = self.logger
        return try await reading("read the checkpoint of projection \(name)") { connection in
            for try await position in try await connection.run("SELECT position FROM projections WHERE name = \(name)", logger: logger).decode(Int64.self) {
                return position
            }
            return 0
        }
    }

    /// Applies a page of events and moves the checkpoint, in one transaction; see
    /// ``AsyncProjectionStore/applyProjection(_:after:through:)``.
    ///
    /// The checkpoint row is locked (`FOR UPDATE`) for the transaction, so two nodes applying
    /// the same page (say, around a lease change) apply it once: the second finds the
    /// checkpoint moved and applies nothing.
    public func applyProjection(_ events: [RecordedEvent], after checkpoint: Int64, through: Int64, projection name: String) async throws -> Int64 {
        let projection = try asyncRegistration(name).projection
        let logger = self.logger, snapshotInterval = configuration.snapshotInterval
        return try await reading("apply projection \(name)") { connection in
            try await connection.run("BEGIN", logger: logger)
            do {
                var stored: Int64 = 0
                for try await position in try await connection.run("SELECT position FROM projections WHERE name = \(projection.name) FOR UPDATE", logger: logger).decode(Int64.self) {
                    stored = position
                }
                guard stored == checkpoint, through > checkpoint else {
                    try await connection.run("COMMIT", logger: logger)
                    return stored
                }
                // Only the events of (checkpoint, through], as the other stores apply them: one
                // given past `through` is the next call's, and applying it here too would fold
                // it twice.
                let events = events.filter { $0.position > checkpoint && $0.position <= through }
                var transaction = PostgresSnapshotTransaction(applying: projection, snapshotInterval: snapshotInterval)
                let keys = Set(events.flatMap { projection.targets(of: $0).map { DocumentKey(projection: name, entity: $0.entity, id: $0.id) } })
                transaction.learn(streams: [:], events: [:], documents: try await Self.readDocuments(keys, on: connection, logger: logger))
                for event in events {
                    try projection.apply(event, to: &transaction, snapshotInterval: snapshotInterval)
                }
                try await Self.flushDocuments(transaction, on: connection, logger: logger)
                try await connection.run("UPDATE projections SET position = \(through) WHERE name = \(projection.name)", logger: logger)
                try await connection.run("COMMIT", logger: logger)
                return through
            } catch {
                if Self.connectionSurvives(error) {
                    _ = try? await connection.run("ROLLBACK", logger: logger)
                }
                throw error
            }
        }
    }
}

extension PostgresEventStore {
    /// The names of the projections whose documents the database keeps (recorded by the
    /// stores that opened it with one), in name order.
    public func projectionNames() async throws -> [String] {
        let logger = self.logger
        return try await reading("list the projections") { connection in
            var names: [String] = []
            for try await name in try await connection.run("SELECT name FROM projections ORDER BY name", logger: logger).decode(String.self) {
                names.append(name)
            }
            return names
        }
    }
}
