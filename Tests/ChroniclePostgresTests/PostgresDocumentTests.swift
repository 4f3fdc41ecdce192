import ChronicleCore
import ChroniclePostgres
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import Synchronization
import Testing

/// A fresh schema's configuration with an inline projection.
private func configuration(_ projection: any Projection, snapshotInterval: Int = 100) -> PostgresEventStore.Configuration {
    var configuration = TestPostgres.freshConfiguration()
    configuration.projection = projection
    configuration.snapshotInterval = snapshotInterval
    return configuration
}

/// `user-<id>` streams: `UserCreated` sets the state to the event's data, `UserEmailVerified`
/// sets `emailVerified`; deletions as usual.
private struct UserProjection: Projection {
    var name: String { "users" }
    var definitionHash: String { "users-v1" }

    func entity(of event: RecordedEvent) -> (entity: String, id: String)? {
        let stream = StreamDeletion.stream(of: event) ?? event.stream
        guard stream.category == "user", let id = stream.entityID else { return nil }
        return ("user", id)
    }

    func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange {
        guard let (entity, id) = entity(of: event) else { return .none }
        if StreamDeletion.stream(of: event) != nil {
            return StreamDeletion.change(for: event, document: document, entity: entity, id: id)
        }
        let state: JSONValue
        switch event.type {
        case "UserCreated": state = event.data
        case "UserEmailVerified":
            guard case .object(var fields)? = document?.state else { return .none }
            fields["emailVerified"] = true
            state = .object(fields)
        default: return .none
        }
        return .save(Document(entity: entity, id: id, state: state, version: event.revision, position: event.position, updatedAtMicroseconds: event.recordedAtMicroseconds))
    }
}

private func user(_ id: String) -> StreamName { try! StreamName("user-\(id)") }

private func create(_ id: String, email: String) -> AppendRequest {
    AppendRequest(
        [.init(stream: user(id), events: [EventData(type: "UserCreated", data: ["email": .string(email)])])],
        rules: [AppendRule(.unique(entity: "user", field: "email", value: .string(email), id: id), status: 409, detail: "This email address is taken.")]
    )
}

@Suite("PostgreSQL store: rules and documents", TestPostgres.enabled)
struct PostgresDocumentTests {
    @Test("unique: of 20 concurrent creates with one email exactly one succeeds")
    func uniqueUnderConcurrency() async throws {
        try await withPostgresStore(configuration(UserProjection())) { store in
            let outcomes = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        do {
                            try await store.append(create("u\(index)", email: "race@x.org"))
                            return 201
                        } catch let error as ChronicleError where error.code == .ruleViolated {
                            return error.status ?? 0
                        }
                    }
                }
                var all: [Int] = []
                for try await status in group { all.append(status) }
                return all
            }
            #expect(outcomes.filter { $0 == 201 }.count == 1, "\(outcomes)")
            #expect(outcomes.filter { $0 == 409 }.count == 19, "\(outcomes)")
            let holders = try await store.documents(DocumentQuery(entity: "user", filters: [.init(field: "email", .eq, "race@x.org")]))
            #expect(holders.documents.count == 1)
        }
    }

    @Test("unique holds across two nodes (two stores, two pools): of 20 creates split between them exactly one succeeds")
    func uniqueAcrossNodes() async throws {
        let shared = configuration(UserProjection())
        try await withPostgresStore(shared) { first in
            try await PostgresEventStore.withStore(configuration: shared, logger: testLogger) { second in
                let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<20 {
                        let store = index.isMultiple(of: 2) ? first : second
                        group.addTask {
                            do {
                                try await store.append(create("n\(index)", email: "node@x.org"))
                                return true
                            } catch let error as ChronicleError where error.code == .ruleViolated {
                                return false
                            }
                        }
                    }
                    var all: [Bool] = []
                    for try await succeeded in group { all.append(succeeded) }
                    return all
                }
                #expect(outcomes.filter { $0 }.count == 1, "\(outcomes)")
                #expect(try await second.documents(DocumentQuery(entity: "user")).documents.count == 1)
            }
        }
    }

    @Test("unique: a value held by a stored document is refused; freed by a delete, it can be taken again")
    func uniqueFreed() async throws {
        try await withPostgresStore(configuration(UserProjection())) { store in
            try await store.append(create("a", email: "same@x.org"))
            await #expect(throws: ChronicleError.self) { try await store.append(create("b", email: "same@x.org")) }
            try await store.append(create("a", email: "same@x.org"))
            _ = try await store.delete(user("a"), mode: .soft, expected: .any)
            try await store.append(create("b", email: "same@x.org"))
            #expect(try await store.document(entity: "user", id: "b")?.state == ["email": "same@x.org"])
        }
    }

    @Test("require: an append whose precondition fails is refused with the rule's status and stores nothing")
    func requirePrecondition() async throws {
        try await withPostgresStore(configuration(UserProjection())) { store in
            try await store.append(to: user("ada"), [EventData(type: "UserCreated", data: ["email": "ada@x.org"])])
            let post = AppendRequest(
                [.init(stream: try StreamName("advertisement-1"), events: [EventData(type: "AdvertisementPosted", data: ["userId": "ada"])])],
                rules: [AppendRule(.matches(entity: "user", id: "ada", conditions: ["emailVerified": .equals(true)]), status: 403, detail: "Verify your email address before posting.")]
            )
            let head = try await store.headPosition()
            do {
                try await store.append(post)
                Issue.record("the append should have been refused")
            } catch let error as ChronicleError {
                #expect(error.code == .ruleViolated && error.status == 403 && error.message == "Verify your email address before posting.")
            }
            #expect(try await store.headPosition() == head, "a refused append stores nothing")
            try await store.append(to: user("ada"), [EventData(type: "UserEmailVerified")])
            try await store.append(post)
            #expect(try await store.info(try StreamName("advertisement-1"))?.revision == 0)
        }
    }

    /// One node keeps taking ada's verification away and giving it back while the other posts
    /// advertisements that require it: every stored advertisement must come, in the log, at
    /// a moment when ada was verified — the rule is checked against the state at its commit,
    /// whichever node wrote the last change.
    @Test("require: raced across two nodes, every stored advertisement follows a verified state in the log")
    func requireAcrossNodes() async throws {
        let shared = configuration(UserProjection())
        try await withPostgresStore(shared) { first in
            try await PostgresEventStore.withStore(configuration: shared, logger: testLogger) { second in
                try await first.append(to: user("ada"), [EventData(type: "UserCreated", data: ["email": "ada@x.org"]), EventData(type: "UserEmailVerified")])
                func post(_ index: Int) -> AppendRequest {
                    AppendRequest(
                        [.init(stream: try! StreamName("advertisement-\(index)"), events: [EventData(type: "AdvertisementPosted", data: ["userId": "ada"])])],
                        rules: [AppendRule(.matches(entity: "user", id: "ada", conditions: ["emailVerified": .equals(true)]), status: 403, detail: "Verify your email address before posting.")]
                    )
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for _ in 0..<20 {
                            try await first.append(to: user("ada"), [EventData(type: "UserCreated", data: ["email": "ada@x.org"])])
                            try await first.append(to: user("ada"), [EventData(type: "UserEmailVerified")])
                        }
                    }
                    group.addTask {
                        for index in 0..<40 {
                            do {
                                try await second.append(post(index))
                            } catch let error as ChronicleError where error.code == .ruleViolated {
                                #expect(error.status == 403)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                try await second.append(post(40))
                var verified = false, advertisements = 0
                for event in try await first.readLog(after: 0, limit: 1000).events {
                    switch event.type {
                    case "UserCreated": verified = false
                    case "UserEmailVerified": verified = true
                    case "AdvertisementPosted":
                        advertisements += 1
                        #expect(verified, "advertisement at position \(event.position) was stored while ada was not verified")
                    default: break
                    }
                }
                #expect(advertisements >= 1)
            }
        }
    }

    @Test("listing orders, filters and pages mixed values exactly as the in-memory reference (SQLite's order)")
    func listingMatchesReference() async throws {
        let values: [JSONValue?] = [
            nil, .null, true, false, 0, 1, -2.5, 10, 1e3, "", "a", "B", "b", "é", "z", "Zoë", "10", "ä", "ab",
        ]
        try await withPostgresStore(configuration(UserProjection())) { store in
            for (index, value) in values.enumerated() {
                var data: [String: JSONValue] = ["n": .integer(Int64(index % 3))]
                if let value { data["v"] = value }
                try await store.append(to: user(String(format: "%02d", index)), [EventData(type: "UserCreated", data: .object(data))])
            }
            try await store.append(to: user("Ä"), [EventData(type: "UserCreated", data: ["v": "a", "n": 1])])
            _ = try await store.delete(user("05"), mode: .soft, expected: .any)
            var all: [Document] = []
            var query = DocumentQuery(entity: "user", limit: 1000, includeDeleted: true)
            all = try await store.documents(query).documents
            #expect(all.count == values.count + 1)
            var queries: [DocumentQuery] = []
            for sortField in [nil, "v", "n"] as [String?] {
                for descending in [false, true] {
                    for filters in [[], [DocumentQuery.Filter(field: "v", .gte, "a")], [.init(field: "v", .lt, 5)], [.init(field: "v", .ne, "a"), .init(field: "n", .eq, 1)], [.init(field: "v", .eq, true)]] {
                        query = DocumentQuery(entity: "user", filters: filters, sortField: sortField, descending: descending, limit: 4, includeDeleted: descending)
                        queries.append(query)
                    }
                }
            }
            for query in queries {
                var stored: [[String]] = [], expected: [[String]] = []
                var page = query, reference = query
                for _ in 0..<20 {
                    let got = try await store.documents(page)
                    stored.append(got.documents.map(\.id))
                    guard let next = got.next else { break }
                    page.cursor = next
                }
                for _ in 0..<20 {
                    let got = reference.page(of: all)
                    expected.append(got.documents.map(\.id))
                    guard let next = got.next else { break }
                    reference.cursor = next
                }
                #expect(stored == expected, "\(query)")
            }
        }
    }

    @Test("a changed projection definition rebuilds the documents on open; rebuildDocuments replays the log")
    func rebuildOnOpen() async throws {
        let first = configuration(CounterProjection())
        var doubled = first
        doubled.projection = CounterProjection(version: 2)
        try await withPostgresStore(first) { store in
            for index in 0..<20 {
                try await store.append(to: StreamName("counter-\(index % 4)"), [EventData(type: "Incremented", data: ["by": .integer(Int64(index))])])
            }
            let reopened = try await PostgresEventStore.withStore(configuration: doubled, logger: testLogger) { reopened in
                try await reopened.document(entity: "counter", id: "0")?.state
            }
            #expect(reopened == ["count": .integer(2 * (0 + 4 + 8 + 12 + 16))])
            let reports = ReportCount()
            #expect(try await store.rebuildDocuments { done, total in reports.add(done == total) } == 20)
            #expect(reports.finished)
            #expect(try await store.document(entity: "counter", id: "0")?.state == ["count": .integer(0 + 4 + 8 + 12 + 16)])
        }
    }

    @Test("a rebuild while appends go on ends with the documents of the whole log")
    func rebuildWhileAppending() async throws {
        try await withPostgresStore(configuration(CounterProjection())) { store in
            for index in 0..<200 {
                try await store.append(to: StreamName("counter-\(index % 7)"), [EventData(type: "Incremented", data: ["by": .integer(Int64(index))])])
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for index in 200..<300 {
                        try await store.append(to: StreamName("counter-\(index % 7)"), [EventData(type: "Incremented", data: ["by": .integer(Int64(index))])])
                    }
                }
                group.addTask { _ = try await store.rebuildDocuments() }
                try await group.waitForAll()
            }
            var reference = DocumentSet()
            for event in try await store.readLog(after: 0, limit: 1000).events {
                try reference.apply(event, CounterProjection())
            }
            for id in 0..<7 {
                #expect(try await store.document(entity: "counter", id: String(id)) == reference.documents["counter"]?[String(id)], "counter \(id)")
            }
        }
    }

    @Test("documents are kept as snapshots every snapshotInterval versions, for time travel")
    func snapshots() async throws {
        try await withPostgresStore(configuration(CounterProjection(), snapshotInterval: 2)) { store in
            for by in 1...5 {
                try await store.append(to: StreamName("counter-t"), [EventData(type: "Incremented", data: ["by": .integer(Int64(by))])])
            }
            let snapshot = try #require(try await store.snapshot(entity: "counter", id: "t", before: .version(4)))
            #expect(snapshot.version == 3 && snapshot.state == ["count": 10])
            #expect(try await store.snapshot(entity: "counter", id: "t", before: .version(0)) == nil)
            _ = try await store.delete(StreamName("counter-t"), mode: .hard, expected: .any)
            #expect(try await store.snapshot(entity: "counter", id: "t", before: .version(4)) == nil, "a hard delete removes the snapshots")
        }
    }
}

/// Progress reports seen by a rebuild.
private final class ReportCount: Sendable {
    private let last = Mutex(false)
    func add(_ finished: Bool) { last.withLock { $0 = finished } }
    var finished: Bool { last.withLock { $0 } }
}
