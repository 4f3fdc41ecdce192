import ChronicleCore
@testable import ChronicleSQLite
import ChronicleTestSupport
import ChronicleTesting
import Foundation
import GRDB
import Testing

@Suite("SQLite store")
struct SQLiteEventStoreTests {
    let user = try! StreamName("user-1")

    @Test("events survive closing and reopening the file, and the log continues")
    func reopen() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/data"
            do {
                let store = try SQLiteEventStore(directory: path, logger: testLogger)
                try await store.append(to: user, [EventData(type: "UserCreated", data: ["email": "a@example.com"])])
                try await store.append(to: user, [EventData(type: "UserRenamed", data: ["name": "Ada"])], expected: .exact(0))
            }
            let reopened = try SQLiteEventStore(directory: path, logger: testLogger)
            #expect(try await reopened.headPosition() == 2)
            #expect(try await reopened.read(user).map(\.type) == ["UserCreated", "UserRenamed"])
            let next = try await reopened.append(to: user, [EventData(type: "UserVerified")], expected: .exact(1))
            #expect(next.firstPosition == 3 && next.firstRevision == 2)
            #expect(try await reopened.verify().isIntact)
        }
    }

    @Test("the file carries Chronicle's application id and named migrations")
    func migrations() async throws {
        try await withSQLiteStore { store, _ in
            let queue = try DatabaseQueue(path: store.path)
            let (applicationID, migrations, journalMode) = try await queue.read { db in
                (
                    try Int32.fetchOne(db, sql: "PRAGMA application_id"),
                    try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
                    try String.fetchOne(db, sql: "PRAGMA journal_mode")
                )
            }
            #expect(applicationID == 0x4348_524E)
            #expect(migrations == ["v1-events", "v2-documents", "v3-correlations", "v4-reactors", "v5-leases", "v6-named-projections", "v7-tags", "v8-document-versions", "v9-subject-keys"])
            #expect(journalMode == "wal")
        }
    }

    @Test("a file from before named projections keeps its documents as its one projection's; with several recorded, they are rebuilt", arguments: [1, 2])
    func namedProjectionsMigration(recorded: Int) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/data"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let queue = try DatabaseQueue(path: path + "/" + SQLiteEventStore.fileName)
            try SQLiteSchema.migrator.migrate(queue, upTo: "v5-leases")
            try await queue.write { db in
                // A document the projection would not derive from the (empty) log: kept only
                // if the migration keeps the rows.
                try db.execute(sql: "INSERT INTO documents (entity, id, state, version, position, updated_at, deleted) VALUES ('counter', '1', '{\"count\":7}', 0, 1, 0, 0)")
                try db.execute(sql: "INSERT INTO snapshots (entity, id, version, state, position, updated_at, deleted) VALUES ('counter', '1', 0, '{\"count\":7}', 1, 0, 0)")
                try db.execute(sql: "INSERT INTO projections (name, definition_hash, position) VALUES ('counters', 'counter-v1', 0)")
                if recorded == 2 {
                    try db.execute(sql: "INSERT INTO projections (name, definition_hash, position) VALUES ('older', 'x', 0)")
                }
            }
            try queue.close()
            let store = try SQLiteEventStore(directory: path, configuration: .init(projection: CounterProjection()), logger: testLogger)
            let document = try await store.document(entity: "counter", id: "1")
            let snapshot = try await store.snapshot(entity: "counter", id: "1", before: .version(0))
            if recorded == 1 {
                #expect(document?.state == ["count": 7], "the one recorded projection's rows are its documents")
                #expect(snapshot?.state == ["count": 7])
                #expect(try await store.projectionNames() == ["counters"])
            } else {
                #expect(document == nil, "rows of an unknown projection are dropped; the rebuild derives nothing from an empty log")
                #expect(snapshot == nil)
                #expect(try await store.projectionNames() == ["counters"], "the projections are recorded again as they rebuild")
            }
        }
    }

    @Test("durable by default: every commit is fsynced (synchronous=FULL); the lossy option says so", arguments: [
        (SQLiteEventStore.Configuration.Durability.full, "2"), (.lossyOnPowerFailure, "1"),
    ])
    func durability(_ durability: SQLiteEventStore.Configuration.Durability, synchronous: String) async throws {
        try await withSQLiteStore(.init(durability: durability)) { store, _ in
            let settings = try await store.storageSettings()
            #expect(settings["synchronous"] == synchronous)
            #expect(settings["journal_mode"] == "wal")
        }
    }

    @Test("a batch of concurrent appends keeps each outcome apart")
    func independentOutcomesUnderGroupCommit() async throws {
        try await withSQLiteStore { store, _ in
            for index in 0..<40 {
                try await store.append(to: StreamName("slot-\(index)"), [EventData(type: "Opened")])
            }
            let before = store.commitStatistics
            #expect(before.operations == 40)
            // Each outcome: nil when stored, else the error the append was refused with.
            let outcomes = await withTaskGroup(of: (Int, ChronicleError?).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let expected: ExpectedRevision = index.isMultiple(of: 2) ? .exact(0) : .exact(7)
                        do {
                            _ = try await store.append(to: StreamName("slot-\(index)"), [EventData(type: "Taken")], expected: expected)
                            return (index, nil)
                        } catch let error as ChronicleError {
                            return (index, error)
                        } catch {
                            return (index, ChronicleError(.storageFailure, "not a ChronicleError: \(error)"))
                        }
                    }
                }
                var all: [Int: ChronicleError?] = [:]
                for await (index, error) in group { all[index] = error }
                return all
            }
            for index in 0..<40 {
                let refusal = try #require(outcomes[index], "slot \(index) has no outcome")
                if index.isMultiple(of: 2) {
                    #expect(refusal == nil, "slot \(index): \(refusal?.message ?? "")")
                } else {
                    // Refused for its own stale expectation, naming the revision found.
                    #expect(refusal?.code == .wrongExpectedRevision, "slot \(index): \(refusal.map { "\($0.code): \($0.message)" } ?? "stored")")
                    #expect(refusal?.message.contains("slot-\(index)") == true && refusal?.message.contains("revision 0") == true, "slot \(index): \(refusal?.message ?? "stored")")
                }
                #expect(try await store.info(StreamName("slot-\(index)"))?.revision == (index.isMultiple(of: 2) ? 1 : 0))
            }
            #expect(try await store.headPosition() == 60)
            #expect(try await store.verify().isIntact)
            let after = store.commitStatistics
            #expect(after.operations - before.operations == 40)
            // Else no two of them shared a commit, and this did not test a batch at all.
            #expect(after.commits - before.commits < 40, "the 40 concurrent appends took \(after.commits - before.commits) commits")
        }
    }

    @Test("a subscriber sees events appended through another connection to the same file")
    func externalCommits() async throws {
        try await withSQLiteStore(.init(externalCommitPollInterval: .milliseconds(20))) { store, path in
            let other = try SQLiteEventStore(directory: path, logger: testLogger)
            let seen = try await withDeadline(seconds: 60, "an event written by another connection") {
                try await withThrowingTaskGroup(of: RecordedEvent?.self) { group in
                    group.addTask {
                        for try await event in store.subscribe(after: 0) { return event }
                        return nil
                    }
                    group.addTask {
                        try await other.append(to: StreamName("remote-1"), [EventData(type: "Arrived")])
                        return nil
                    }
                    var found: RecordedEvent?
                    for try await event in group where event != nil { found = event }
                    return found
                }
            }
            #expect(seen?.type == "Arrived")
            let next = try await store.append(to: StreamName("local-1"), [EventData(type: "Local")])
            #expect(next.firstPosition == 2, "the writer must see the other connection's commit")
        }
    }

    @Test("a full disk (here, the configured maximum size) fails the append cleanly and loses nothing")
    func storageFull() async throws {
        try await withSQLiteStore(.init(maximumSize: 256 * 1024)) { store, path in
            var stored = 0
            var failure: ChronicleError?
            let payload = String(repeating: "x", count: 8 * 1024)
            for index in 0..<200 {
                do {
                    try await store.append(to: StreamName("fill-\(index)"), [EventData(type: "Filled", data: ["blob": .string(payload)])])
                    stored += 1
                } catch let error as ChronicleError {
                    failure = error
                    break
                }
            }
            let error = try #require(failure, "the limit was never reached")
            #expect(error.code == .storageFull)
            #expect(error.message.contains("full"))
            #expect(stored > 0)
            #expect(try await store.headPosition() == Int64(stored))
            #expect(try await store.verify().isIntact)
            let reopened = try SQLiteEventStore(directory: path, logger: testLogger)
            #expect(try await reopened.headPosition() == Int64(stored))
            #expect(try await reopened.verify().isIntact)
        }
    }

    @Test("verify finds an event changed behind Chronicle's back")
    func tamperingIsDetected() async throws {
        try await withSQLiteStore { store, _ in
            for index in 0..<5 {
                try await store.append(to: StreamName("ledger-1"), [EventData(type: "Entry", data: ["amount": .integer(Int64(index))])])
            }
            #expect(try await store.verify().isIntact)
            let queue = try DatabaseQueue(path: store.path)
            try await queue.write { db in
                try db.execute(sql: #"UPDATE events SET data = '{"amount":1000}' WHERE position = 3"#)
            }
            let report = try await store.verify()
            #expect(report.firstBrokenPosition == 3)
            #expect(report.problem?.contains("does not match its hash") == true)
            try await queue.write { db in
                try db.execute(sql: #"UPDATE events SET data = '{"amount":2}' WHERE position = 3"#)
                try db.execute(sql: "DELETE FROM events WHERE position = 2")
            }
            let missing = try await store.verify()
            #expect(missing.firstBrokenPosition == 2)
            #expect(missing.problem?.contains("missing") == true)
        }
    }

    @Test("a file that is not a database is refused, and left as it was")
    func notADatabase() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory + "/" + SQLiteEventStore.fileName
            let content = String(repeating: "not a database\n", count: 200)
            try content.write(toFile: file, atomically: true, encoding: .utf8)
            #expect {
                _ = try SQLiteEventStore(directory: directory, logger: testLogger)
            } throws: { error in
                (error as? ChronicleError)?.code == .incompatibleStorage
            }
            #expect(try String(contentsOfFile: file, encoding: .utf8) == content)
        }
    }

    @Test("another application's SQLite database is refused")
    func foreignDatabase() async throws {
        try await withTemporaryDirectory { directory in
            let queue = try DatabaseQueue(path: directory + "/" + SQLiteEventStore.fileName)
            try await queue.write { db in
                try db.execute(sql: "CREATE TABLE invoices (id INTEGER PRIMARY KEY); INSERT INTO invoices VALUES (1)")
            }
            #expect {
                _ = try SQLiteEventStore(directory: directory, logger: testLogger)
            } throws: { error in
                let error = error as? ChronicleError
                return error?.code == .incompatibleStorage && error?.message.contains("invoices") == true
            }
            #expect(try await queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM invoices") } == 1)
        }
    }

    @Test("a file written by a newer version is refused with a hint to upgrade")
    func newerVersion() async throws {
        try await withTemporaryDirectory { directory in
            do {
                let store = try SQLiteEventStore(directory: directory, logger: testLogger)
                try await store.append(to: StreamName("user-1"), [EventData(type: "UserCreated")])
            }
            let queue = try DatabaseQueue(path: directory + "/" + SQLiteEventStore.fileName)
            try await queue.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
            }
            #expect {
                _ = try SQLiteEventStore(directory: directory, logger: testLogger)
            } throws: { error in
                let error = error as? ChronicleError
                return error?.code == .incompatibleStorage && error?.message.contains("newer version") == true
            }
        }
    }

    @Test("a data path that is a file, or under a file, is a clear error")
    func unusablePaths() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory + "/plain-file"
            try "x".write(toFile: file, atomically: true, encoding: .utf8)
            for path in [file, file + "/data"] {
                #expect {
                    _ = try SQLiteEventStore(directory: path, logger: testLogger)
                } throws: { error in
                    let error = error as? ChronicleError
                    return error?.code == .storageFailure && error?.message.contains(path) == true
                }
            }
        }
    }
}
