import ChronicleCore
import GRDB

/// The named, versioned migrations of a Chronicle SQLite file. Never edit a shipped
/// migration: add a new one, so that files made by this version open in later ones.
enum SQLiteSchema {
    /// `PRAGMA application_id` of Chronicle files: "CHRN".
    static let applicationID: Int32 = 0x4348_524E

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-events") { db in
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: """
                CREATE TABLE stream_deletions (
                    name TEXT PRIMARY KEY NOT NULL,
                    revision INTEGER NOT NULL,
                    status INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE events (
                    position INTEGER PRIMARY KEY,
                    id BLOB NOT NULL UNIQUE,
                    stream TEXT NOT NULL,
                    revision INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    category TEXT NOT NULL,
                    recorded_at INTEGER NOT NULL,
                    data TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    hash BLOB NOT NULL
                );
                CREATE UNIQUE INDEX events_by_stream ON events(stream, revision);
                CREATE INDEX events_by_type ON events(type, position);
                CREATE INDEX events_by_category ON events(category, position);
                CREATE TABLE purged_events (
                    position INTEGER PRIMARY KEY,
                    hash BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-documents") { db in
            try db.execute(sql: """
                CREATE TABLE documents (
                    entity TEXT NOT NULL,
                    id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    PRIMARY KEY (entity, id)
                ) WITHOUT ROWID;
                CREATE TABLE snapshots (
                    entity TEXT NOT NULL,
                    id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    PRIMARY KEY (entity, id, version)
                ) WITHOUT ROWID;
                CREATE TABLE projections (
                    name TEXT PRIMARY KEY NOT NULL,
                    definition_hash TEXT NOT NULL,
                    position INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3-correlations") { db in
            try db.execute(sql: """
                CREATE INDEX events_by_correlation ON events(json_extract(metadata, '$.correlationId'), position)
                    WHERE json_extract(metadata, '$.correlationId') IS NOT NULL
                """)
        }
        migrator.registerMigration("v4-reactors") { db in
            try db.execute(sql: """
                CREATE TABLE reactors (
                    name TEXT PRIMARY KEY NOT NULL,
                    position INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE parked_events (
                    reactor TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    event_id BLOB NOT NULL,
                    attempts INTEGER NOT NULL,
                    error TEXT NOT NULL,
                    parked_at INTEGER NOT NULL,
                    PRIMARY KEY (reactor, position)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v5-leases") { db in
            try db.execute(sql: """
                CREATE TABLE leases (
                    name TEXT PRIMARY KEY NOT NULL,
                    owner TEXT NOT NULL,
                    expires_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v6-named-projections") { db in
            // Documents and snapshots are keyed by projection. The rows of a file that one
            // projection wrote are kept as that projection's; if several projections were
            // recorded (a file opened with different ones over time), which one wrote the
            // rows is unknown: they go, and each projection rebuilds when next opened.
            try db.execute(sql: """
                CREATE TABLE documents_v6 (
                    projection TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    PRIMARY KEY (projection, entity, id)
                ) WITHOUT ROWID;
                CREATE TABLE snapshots_v6 (
                    projection TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    id TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    PRIMARY KEY (projection, entity, id, version)
                ) WITHOUT ROWID;
                INSERT INTO documents_v6 SELECT (SELECT name FROM projections), entity, id, state, version, position, updated_at, deleted
                    FROM documents WHERE (SELECT count(*) FROM projections) = 1;
                INSERT INTO snapshots_v6 SELECT (SELECT name FROM projections), entity, id, version, state, position, updated_at, deleted
                    FROM snapshots WHERE (SELECT count(*) FROM projections) = 1;
                DELETE FROM projections WHERE (SELECT count(*) FROM projections) > 1;
                DROP TABLE documents;
                DROP TABLE snapshots;
                ALTER TABLE documents_v6 RENAME TO documents;
                ALTER TABLE snapshots_v6 RENAME TO snapshots;
                """)
        }
        migrator.registerMigration("v7-tags") { db in
            // Tags twice: with the event (space-separated; tags hold no whitespace) for reading,
            // and in a (tag, position) index for queries and append conditions.
            try db.execute(sql: """
                ALTER TABLE events ADD COLUMN tags TEXT NOT NULL DEFAULT '';
                CREATE TABLE event_tags (
                    tag TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (tag, position)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v8-document-versions") { db in
            // Every projection's temporal table (as-of reads, changes, blame) and the table a
            // rebuild stages it in. Of existing documents only the current versions are known:
            // they are recorded from their positions, and `history_from` (the head now) says
            // that the read model before it was not recorded — until a rebuild records it all.
            for table in ["document_versions", "document_versions_staging"] {
                try db.execute(sql: """
                    CREATE TABLE \(table) (
                        projection TEXT NOT NULL,
                        entity TEXT NOT NULL,
                        id TEXT NOT NULL,
                        valid_from INTEGER NOT NULL,
                        valid_to INTEGER NOT NULL,
                        state TEXT,
                        version INTEGER NOT NULL,
                        position INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        deleted INTEGER NOT NULL,
                        PRIMARY KEY (projection, entity, id, valid_from)
                    ) WITHOUT ROWID;
                    """)
            }
            try db.execute(sql: """
                CREATE INDEX document_versions_by_change ON document_versions (projection, valid_from);
                ALTER TABLE projections ADD COLUMN history_from INTEGER NOT NULL DEFAULT 0;
                UPDATE projections SET history_from = (SELECT IFNULL(MAX(position), 0) FROM events);
                INSERT INTO document_versions (projection, entity, id, valid_from, valid_to, state, version, position, updated_at, deleted)
                    SELECT projection, entity, id, position, 9223372036854775807, state, version, position, updated_at, deleted FROM documents;
                """)
        }
        migrator.registerMigration("v9-subject-keys") { db in
            // Personal data: each subject's key wrapped under the master key (`wrapped` is NULL
            // once the subject is erased; `receipt` is the id of its last erasure's receipt).
            try db.execute(sql: """
                CREATE TABLE subject_keys (
                    subject TEXT PRIMARY KEY,
                    key_id BLOB NOT NULL,
                    wrapped BLOB,
                    receipt BLOB
                );
                CREATE INDEX subject_keys_by_id ON subject_keys (key_id);
                """)
        }
        return migrator
    }

    /// Refuses files that are not Chronicle's, or that a newer Chronicle wrote.
    static func checkCompatible(_ db: Database, path: String) throws {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        if applicationID != 0 && applicationID != Self.applicationID {
            throw ChronicleError(.incompatibleStorage, "\(path) is a SQLite database of another application (application_id \(applicationID)), not a Chronicle data file. Point --data at a Chronicle data directory or an empty one.")
        }
        if applicationID == 0 && !tables.isEmpty {
            throw ChronicleError(.incompatibleStorage, "\(path) is a SQLite database with other tables (\(tables.prefix(3).joined(separator: ", "))), not a Chronicle data file. Point --data at a Chronicle data directory or an empty one.")
        }
        let known = Set(migrator.migrations)
        let applied = applicationID == 0 ? [] : try migrator.appliedIdentifiers(db)
        let unknown = applied.subtracting(known)
        if !unknown.isEmpty {
            throw ChronicleError(.incompatibleStorage, "\(path) was written by a newer version of Chronicle (it has migrations \(unknown.sorted().joined(separator: ", ")) that this version does not know). Upgrade Chronicle to open it.")
        }
    }
}
