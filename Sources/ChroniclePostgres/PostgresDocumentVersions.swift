import ChronicleCore
import Logging
import PostgresNIO

/// The `document_versions` table on PostgreSQL, each projection's temporal table (see the
/// `v6-document-versions` migration): plans sent as a few `unnest` statements, and the
/// as-of and changes reads.
enum PostgresDocumentVersions {
    static let columns = "valid_from, valid_to, state::text, version, position, updated_at, deleted"

    /// Applies plans (each of its projection) to `table`, in order: purges, closes, inserts.
    static func apply(_ plans: [(projection: String, plan: DocumentHistoryPlan)], table: String = "document_versions", on connection: PostgresConnection, logger: Logger) async throws {
        let plans = plans.filter { !$0.plan.isEmpty }
        if plans.isEmpty { return }
        let purges = plans.flatMap { item in item.plan.purges.map { (item.projection, $0) } }
        if !purges.isEmpty {
            try await connection.run(PostgresQuery(unsafeSQL: """
                DELETE FROM \(table) v USING unnest($1::text[], $2::text[], $3::text[]) AS k(projection, entity, id)
                WHERE v.projection = k.projection AND v.entity = k.entity AND v.id = k.id
                """, binds: binds(purges.map(\.0), purges.map(\.1.entity), purges.map(\.1.id))), logger: logger)
        }
        let closes = plans.flatMap { item in item.plan.closes.map { (item.projection, $0) } }
        if !closes.isEmpty {
            var bindings = binds(closes.map(\.0), closes.map(\.1.entity), closes.map(\.1.id))
            bindings.append(closes.map(\.1.validFrom))
            bindings.append(closes.map(\.1.validTo))
            try await connection.run(PostgresQuery(unsafeSQL: """
                UPDATE \(table) v SET valid_to = k.valid_to FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[]) AS k(projection, entity, id, valid_from, valid_to)
                WHERE v.projection = k.projection AND v.entity = k.entity AND v.id = k.id AND v.valid_from = k.valid_from
                """, binds: bindings), logger: logger)
        }
        let inserts = plans.flatMap { item in item.plan.inserts.map { (item.projection, $0) } }
        var start = 0
        while start < inserts.count {
            let chunk = inserts[start..<min(inserts.count, start + 1000)]
            start += chunk.count
            let rows = chunk.map(\.1)
            var bindings = binds(chunk.map(\.0), rows.map(\.entity), rows.map(\.id))
            bindings.append(rows.map(\.validFrom))
            bindings.append(rows.map(\.storedValidTo))
            bindings.append(rows.map { $0.document?.state.canonicalText ?? "" })
            bindings.append(rows.map { $0.document?.version ?? -1 })
            bindings.append(rows.map { $0.document?.position ?? $0.validFrom })
            bindings.append(rows.map { $0.document?.updatedAtMicroseconds ?? 0 })
            bindings.append(rows.map { $0.document?.deleted ?? false })
            try await connection.run(PostgresQuery(unsafeSQL: """
                INSERT INTO \(table) (projection, entity, id, valid_from, valid_to, state, version, position, updated_at, deleted)
                SELECT projection, entity, id, valid_from, valid_to, NULLIF(state, '')::jsonb, version, position, updated_at, deleted
                FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[], $7::int8[], $8::int8[], $9::int8[], $10::bool[])
                    AS u(projection, entity, id, valid_from, valid_to, state, version, position, updated_at, deleted)
                ON CONFLICT (projection, entity, id, valid_from) DO UPDATE SET valid_to = excluded.valid_to, state = excluded.state,
                    version = excluded.version, position = excluded.position, updated_at = excluded.updated_at, deleted = excluded.deleted
                """, binds: bindings), logger: logger)
        }
    }

    private static func binds(_ projections: [String], _ entities: [String], _ ids: [String]) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(projections)
        bindings.append(entities)
        bindings.append(ids)
        return bindings
    }

    /// Decodes a row of ``columns`` (after `offset` other columns).
    static func decode(_ row: PostgresRow, entity: String, id: String) throws -> DocumentVersion {
        let (validFrom, validTo, state, version, position, updatedAt, deleted) = try row.decode((Int64, Int64, String?, Int64, Int64, Int64, Bool).self)
        var document: Document?
        if let state {
            document = Document(entity: entity, id: id, state: try JSONValue(parsing: state), version: version, position: position, updatedAtMicroseconds: updatedAt, deleted: deleted)
        }
        return DocumentVersion(entity: entity, id: id, validFrom: validFrom, validTo: validTo == DocumentVersion.openEnd ? nil : validTo, document: document)
    }

    /// The row in force right after `position`.
    static func version(projection: String, entity: String, id: String, asOf position: Int64, on connection: PostgresConnection, logger: Logger) async throws -> DocumentVersion? {
        let rows = try await connection.run("""
            SELECT \(unescaped: columns) FROM document_versions WHERE projection = \(projection) AND entity = \(entity) AND id = \(id) AND valid_from <= \(position)
            ORDER BY valid_from DESC LIMIT 1
            """, logger: logger)
        for try await row in rows { return try decode(row, entity: entity, id: id) }
        return nil
    }

    /// The entities changed in `(from, to]`; see ``ProjectionStore/changedDocuments(projection:from:to:entity:after:limit:)``.
    static func changed(projection: String, from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int, on connection: PostgresConnection, logger: Logger) async throws -> [ChangedDocument] {
        var bindings = PostgresBindings()
        bindings.append(projection)
        bindings.append(from)
        bindings.append(to)
        var conditions = "projection = $1 AND valid_from > $2 AND valid_from <= $3"
        if let entity {
            bindings.append(entity)
            conditions += " AND entity = $\(bindings.count)"
        }
        var having = ""
        if let cursor {
            bindings.append(cursor.position)
            bindings.append(cursor.entity)
            bindings.append(cursor.id)
            let n = bindings.count
            having = "HAVING (max(valid_from), entity, id) > ($\(n - 2)::int8, $\(n - 1)::text COLLATE \"C\", $\(n)::text COLLATE \"C\")"
        }
        bindings.append(Int64(limit))
        var keys: [(String, String, Int64)] = []
        let sql = """
            SELECT entity, id, max(valid_from) AS last FROM document_versions WHERE \(conditions)
            GROUP BY entity, id \(having) ORDER BY last, entity, id LIMIT $\(bindings.count)
            """
        for try await row in try await connection.run(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger) {
            keys.append(try row.decode((String, String, Int64).self))
        }
        var changes: [ChangedDocument] = []
        for (entity, id, last) in keys {
            guard let after = try await version(projection: projection, entity: entity, id: id, asOf: last, on: connection, logger: logger) else {
                throw ChronicleError(.storageFailure, "The temporal table lost the version of \(entity)/\(id) at \(last) while reading it.")
            }
            let before = try await version(projection: projection, entity: entity, id: id, asOf: from, on: connection, logger: logger)
            changes.append(ChangedDocument(entity: entity, id: id, position: last, before: before, after: after))
        }
        return changes
    }
}
