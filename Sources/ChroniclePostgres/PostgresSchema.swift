import ChronicleCore
import Logging
import PostgresNIO

/// The named, versioned migrations of Chronicle's PostgreSQL tables, run in order when a
/// store starts. Never edit a shipped migration: add a new one, so that databases made by
/// this version open in later ones.
///
/// Migrations run in one transaction under an advisory lock, so several nodes starting at
/// once apply each migration exactly once; the others wait, then find nothing to do.
enum PostgresSchema {
    static let migrationsTable = "chronicle_migrations"

    /// `(name, SQL)`, in order.
    static let migrations: [(name: String, sql: [String])] = [
        ("v1-events", [
            """
            CREATE TABLE events (
                position BIGINT PRIMARY KEY,
                id UUID NOT NULL UNIQUE,
                stream TEXT NOT NULL,
                revision BIGINT NOT NULL,
                type TEXT NOT NULL,
                category TEXT NOT NULL,
                recorded_at BIGINT NOT NULL,
                data TEXT NOT NULL,
                metadata TEXT NOT NULL,
                hash BYTEA NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX events_by_stream ON events (stream, revision)",
            "CREATE INDEX events_by_type ON events (type, position)",
            "CREATE INDEX events_by_category ON events (category, position)",
            """
            CREATE INDEX events_by_correlation ON events (((metadata::jsonb) ->> 'correlationId'), position)
                WHERE ((metadata::jsonb) ->> 'correlationId') IS NOT NULL
            """,
            """
            CREATE TABLE stream_deletions (
                name TEXT PRIMARY KEY,
                revision BIGINT NOT NULL,
                status SMALLINT NOT NULL
            )
            """,
            """
            CREATE TABLE purged_events (
                position BIGINT PRIMARY KEY,
                hash BYTEA NOT NULL
            )
            """,
        ]),
        ("v2-reactors-and-leases", [
            "CREATE TABLE reactors (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
            """
            CREATE TABLE parked_events (
                reactor TEXT NOT NULL,
                position BIGINT NOT NULL,
                event_id UUID NOT NULL,
                attempts INTEGER NOT NULL,
                error TEXT NOT NULL,
                parked_at BIGINT NOT NULL,
                PRIMARY KEY (reactor, position)
            )
            """,
            "CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)",
        ]),
        // Entity and id compare by their bytes (COLLATE "C"), as SQLite does, so pages come
        // in the same order on both backends.
        ("v3-documents", [
            """
            CREATE TABLE documents (
                entity TEXT COLLATE "C" NOT NULL,
                id TEXT COLLATE "C" NOT NULL,
                state JSONB NOT NULL,
                version BIGINT NOT NULL,
                position BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                deleted BOOLEAN NOT NULL,
                PRIMARY KEY (entity, id)
            )
            """,
            "CREATE INDEX documents_by_state ON documents USING gin (state jsonb_path_ops)",
            """
            CREATE TABLE document_snapshots (
                entity TEXT COLLATE "C" NOT NULL,
                id TEXT COLLATE "C" NOT NULL,
                version BIGINT NOT NULL,
                state JSONB NOT NULL,
                position BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                deleted BOOLEAN NOT NULL,
                PRIMARY KEY (entity, id, version)
            )
            """,
            "CREATE TABLE projections (name TEXT PRIMARY KEY, definition_hash TEXT NOT NULL, position BIGINT NOT NULL)",
        ]),
        // Documents and snapshots are keyed by projection. The rows one projection wrote stay
        // that projection's; if several were recorded, which one wrote them is unknown: they
        // go, and each projection rebuilds when next opened.
        ("v4-named-projections", [
            "ALTER TABLE documents ADD COLUMN projection TEXT COLLATE \"C\" NOT NULL DEFAULT ''",
            "ALTER TABLE document_snapshots ADD COLUMN projection TEXT COLLATE \"C\" NOT NULL DEFAULT ''",
            "DELETE FROM documents WHERE (SELECT count(*) FROM projections) <> 1",
            "DELETE FROM document_snapshots WHERE (SELECT count(*) FROM projections) <> 1",
            "DELETE FROM projections WHERE (SELECT count(*) FROM projections) > 1",
            "UPDATE documents SET projection = (SELECT name FROM projections)",
            "UPDATE document_snapshots SET projection = (SELECT name FROM projections)",
            "ALTER TABLE documents ALTER COLUMN projection DROP DEFAULT",
            "ALTER TABLE document_snapshots ALTER COLUMN projection DROP DEFAULT",
            "ALTER TABLE documents DROP CONSTRAINT documents_pkey, ADD PRIMARY KEY (projection, entity, id)",
            "ALTER TABLE document_snapshots DROP CONSTRAINT document_snapshots_pkey, ADD PRIMARY KEY (projection, entity, id, version)",
        ]),
        // Tags twice: with the event (space-separated; tags hold no whitespace) for reading,
        // and in a B-tree (tag, position) index for queries and append conditions.
        ("v5-tags", [
            "ALTER TABLE events ADD COLUMN tags TEXT NOT NULL DEFAULT ''",
            "CREATE TABLE event_tags (tag TEXT COLLATE \"C\" NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (tag, position))",
        ]),
        // Every projection's temporal table (as-of reads, changes, blame): each document
        // version with the positions it held between (valid_to 2^63-1 while current; no state
        // for a removal), and the table a rebuild stages it in. Of existing documents only the
        // current versions are known: they are recorded from their positions, and
        // `history_from` (the head now) says the read model before it was not recorded —
        // until a rebuild records it all.
        ("v6-document-versions", [
            """
            CREATE TABLE document_versions (
                projection TEXT COLLATE "C" NOT NULL,
                entity TEXT COLLATE "C" NOT NULL,
                id TEXT COLLATE "C" NOT NULL,
                valid_from BIGINT NOT NULL,
                valid_to BIGINT NOT NULL,
                state JSONB,
                version BIGINT NOT NULL,
                position BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                deleted BOOLEAN NOT NULL,
                PRIMARY KEY (projection, entity, id, valid_from)
            )
            """,
            "CREATE INDEX document_versions_by_change ON document_versions (projection, valid_from)",
            "CREATE TABLE document_versions_staging (LIKE document_versions INCLUDING CONSTRAINTS INCLUDING INDEXES)",
            "DROP INDEX IF EXISTS document_versions_staging_projection_valid_from_idx",
            "ALTER TABLE projections ADD COLUMN history_from BIGINT NOT NULL DEFAULT 0",
            "UPDATE projections SET history_from = (SELECT COALESCE(MAX(position), 0) FROM events)",
            """
            INSERT INTO document_versions (projection, entity, id, valid_from, valid_to, state, version, position, updated_at, deleted)
            SELECT projection, entity, id, position, 9223372036854775807, state, version, position, updated_at, deleted FROM documents
            """,
        ]),
        // Personal data: each subject's key wrapped under the master key (`wrapped` is NULL
        // once the subject is erased; `receipt` is the id of its last erasure's receipt).
        ("v7-subject-keys", [
            "CREATE TABLE subject_keys (subject TEXT PRIMARY KEY, key_id UUID NOT NULL, wrapped BYTEA, receipt UUID)",
            "CREATE INDEX subject_keys_by_id ON subject_keys (key_id)",
        ]),
        // A commit's write lock and its first read in one round trip: the function takes
        // the lock, then reads the head and the streams' states in a statement of its own,
        // whose snapshot (a VOLATILE function's statements each take one, in READ
        // COMMITTED) is therefore taken after the lock is granted. The SELECT is
        // `HeadAndStreams`'s and the lock `PostgresEventStore.writeLock`'s, copied rather
        // than interpolated: a shipped migration's text never changes.
        ("v8-lock-and-head", [
            """
            CREATE FUNCTION chronicle_lock_and_head(names text[])
            RETURNS TABLE (head_position bigint, head_hash bytea, head_recorded_at bigint, stream_name text, deleted_revision bigint, deleted_status smallint, last_revision bigint)
            LANGUAGE plpgsql VOLATILE AS $$
            #variable_conflict use_column
            BEGIN
                PERFORM pg_advisory_xact_lock((x'4348524E'::bigint << 32) | 'events'::regclass::oid::bigint);
                RETURN QUERY
                SELECT h.position, h.hash, h.recorded_at, s.name, d.revision, d.status,
                       (SELECT e.revision FROM events e WHERE e.stream = s.name ORDER BY e.revision DESC LIMIT 1)
                FROM (SELECT 1) AS one
                LEFT JOIN (SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1) AS h ON true
                LEFT JOIN unnest(names) AS s(name) ON true
                LEFT JOIN stream_deletions d ON d.name = s.name;
            END
            $$
            """,
        ]),
    ]

    /// The lock that serialises migrations of one schema: "CHRM" in the high half, a hash
    /// of the schema's name in the low half.
    static let migrationLock = "SELECT pg_advisory_xact_lock((x'4348524D'::bigint << 32) | (hashtext(current_schema())::bigint & x'FFFFFFFF'::bigint))"

    /// Creates the schema if the configuration names one, then applies the missing migrations.
    ///
    /// - Throws: ``ChronicleError/Code/incompatibleStorage`` if the database has migrations
    ///   this version does not know (a newer Chronicle wrote it).
    static func migrate(_ connection: PostgresConnection, schema: String?, logger: Logger) async throws {
        if let schema {
            try await connection.run(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(PostgresEventStore.Configuration.quoted(schema))"), logger: logger)
        }
        let current = try await connection.run("SELECT current_schema()", logger: logger).collect().first?.decode(String?.self) ?? nil
        guard current != nil else {
            throw ChronicleError(.storageFailure, "PostgreSQL has no current schema to create Chronicle's tables in (the search_path names no existing schema). Set a schema in the URL (?schema=chronicle) or create one.")
        }
        try await connection.run("BEGIN", logger: logger)
        do {
            try await connection.run(PostgresQuery(unsafeSQL: migrationLock), logger: logger)
            try await connection.run(PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(migrationsTable) (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"), logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.run(PostgresQuery(unsafeSQL: "SELECT name FROM \(migrationsTable)"), logger: logger).decode(String.self) {
                applied.insert(name)
            }
            let unknown = applied.subtracting(migrations.map(\.name))
            if !unknown.isEmpty {
                throw ChronicleError(.incompatibleStorage, "This database was written by a newer version of Chronicle (it has migrations \(unknown.sorted().joined(separator: ", ")) that this version does not know). Upgrade Chronicle to open it.")
            }
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.sql {
                    try await connection.run(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.run("INSERT INTO chronicle_migrations (name) VALUES (\(migration.name))", logger: logger)
                logger.info("Applied migration", metadata: ["chronicle.migration": "\(migration.name)"])
            }
            try await connection.run("COMMIT", logger: logger)
        } catch {
            if PostgresEventStore.connectionSurvives(error) {
                _ = try? await connection.run("ROLLBACK", logger: logger)
            }
            throw error
        }
    }
}
