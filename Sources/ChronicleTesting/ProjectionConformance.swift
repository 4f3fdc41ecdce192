import ChronicleCore
import Foundation
import Testing

/// A small projection for the conformance suite: `counter-<id>` streams, whose
/// `Incremented {"by": n}` events add to `count`; a soft delete marks the document deleted,
/// a hard delete removes it, and a new event brings it back.
public struct CounterProjection: Projection {
    /// Creates the projection; `version` changes its definition (to test rebuilds), and
    /// counts by `version` times each event's `by`; `name` tells several apart.
    public init(version: Int = 1, name: String = "counters") {
        self.version = version
        self.name = name
    }

    let version: Int

    /// `counters` unless told otherwise.
    public let name: String

    /// Changes with `version`.
    public var definitionHash: String { "counter-v\(version)" }

    /// `counter` streams and their deletions.
    public func entity(of event: RecordedEvent) -> (entity: String, id: String)? {
        let stream = StreamDeletion.stream(of: event) ?? event.stream
        guard stream.category == "counter", let id = stream.entityID else { return nil }
        return ("counter", id)
    }

    /// `Erased` erases the counter's stream.
    public func erases(eventType: String, in stream: StreamName) -> Bool {
        eventType == "Erased" && stream.category == "counter"
    }

    /// Adds `by` (times `version`) to `count`.
    public func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange {
        guard let (entity, id) = entity(of: event) else { return .none }
        if StreamDeletion.stream(of: event) != nil {
            return StreamDeletion.change(for: event, document: document, entity: entity, id: id)
        }
        guard event.type == "Incremented", case .integer(let by)? = event.data["by"] else { return .none }
        var count: Int64 = 0
        if case .integer(let current)? = document?.state["count"] { count = current }
        return .save(Document(entity: entity, id: id, state: ["count": .integer(count + by * Int64(version))], version: event.revision, position: event.position, updatedAtMicroseconds: event.recordedAtMicroseconds))
    }
}

/// One check of the projection conformance suite, run against a fresh store whose inline
/// projection is ``CounterProjection``.
public struct ProjectionConformanceCase: Sendable, CustomTestStringConvertible {
    /// What the check is about.
    public let name: String
    /// Runs the check.
    public let run: @Sendable (any EventStore & DocumentStore) async throws -> Void

    /// The name, as shown in test output.
    public var testDescription: String { name }
}

/// Checks that inline documents follow the events on every backend.
public enum ProjectionConformance {
    /// Every check.
    public static let cases: [ProjectionConformanceCase] = [
        .init(name: "documents are updated in the append's transaction", run: readYourWrites),
        .init(name: "refused and retried appends leave documents as they were", run: refusedAndRetried),
        .init(name: "soft delete marks, hard delete removes, a new event revives", run: deletes),
        .init(name: "folding a stream reproduces the stored document at every version", run: timeTravel),
        .init(name: "listing filters, sorts and pages with a cursor", run: listing),
        .init(name: "an erasing event purges and tombstones its stream in the same append", run: erase),
    ]

    /// The checks that hold for a live projection too (it keeps no documents to list).
    public static var liveCases: [ProjectionConformanceCase] {
        cases.filter { !$0.name.hasPrefix("listing") }
    }

    static func counter(_ id: String) -> StreamName { try! StreamName("counter-\(id)") }

    static func increment(_ by: Int64, id: UUID = .timeOrdered()) -> EventData {
        EventData(id: id, type: "Incremented", data: ["by": .integer(by)])
    }

    static func readYourWrites(_ store: any EventStore & DocumentStore) async throws {
        #expect(try await store.document(entity: "counter", id: "1") == nil)
        let first = try await store.append(to: counter("1"), [increment(2), increment(3)])
        let document = try #require(try await store.document(entity: "counter", id: "1"))
        #expect(document.state == ["count": 5])
        #expect(document.version == 1 && document.position == first.lastPosition && !document.deleted)
        try await store.append(to: try StreamName("other-1"), [increment(100)])
        try await store.append(to: counter("1"), [increment(10)])
        #expect(try await store.document(entity: "counter", id: "1")?.state == ["count": 15])
        #expect(try await store.document(entity: "other", id: "1") == nil, "the projection ignores other categories")
    }

    static func refusedAndRetried(_ store: any EventStore & DocumentStore) async throws {
        let retried = [increment(1)]
        try await store.append(to: counter("a"), retried)
        do {
            _ = try await store.append(AppendRequest([
                .init(stream: counter("a"), expected: .exact(0), events: [increment(50)]),
                .init(stream: counter("b"), expected: .exact(9), events: [increment(50)]),
            ]))
            Issue.record("the append should have been refused")
        } catch let error as ChronicleError {
            #expect(error.code == .wrongExpectedRevision)
        }
        try await store.append(to: counter("a"), retried)
        #expect(try await store.document(entity: "counter", id: "a")?.state == ["count": 1])
        #expect(try await store.document(entity: "counter", id: "b") == nil)
    }

    static func deletes(_ store: any EventStore & DocumentStore) async throws {
        try await store.append(to: counter("s"), [increment(1)])
        _ = try await store.delete(counter("s"), mode: .soft, expected: .any)
        let soft = try #require(try await store.document(entity: "counter", id: "s"))
        #expect(soft.deleted && soft.state == ["count": 1])
        try await store.append(to: counter("s"), [increment(1)])
        let revived = try #require(try await store.document(entity: "counter", id: "s"))
        #expect(!revived.deleted && revived.state == ["count": 2] && revived.version == 1)
        try await store.append(to: counter("h"), [increment(1)])
        _ = try await store.delete(counter("h"), mode: .hard, expected: .any)
        #expect(try await store.document(entity: "counter", id: "h") == nil)
    }

    static func listing(_ store: any EventStore & DocumentStore) async throws {
        for (id, count) in [("a", 5), ("b", 3), ("c", 5), ("d", 1), ("e", 8), ("f", 2)] {
            try await store.append(to: counter(id), [increment(Int64(count))])
        }
        _ = try await store.delete(counter("f"), mode: .soft, expected: .any)
        func ids(_ query: DocumentQuery) async throws -> [[String]] {
            var pages: [[String]] = []
            var query = query
            while true {
                let page = try await store.documents(query)
                pages.append(page.documents.map(\.id))
                guard let next = page.next, pages.count < 10 else { break }
                query.cursor = DocumentCursor(token: next.token)
                #expect(query.cursor == next, "cursor tokens round-trip")
            }
            return pages
        }
        #expect(try await ids(DocumentQuery(entity: "counter")) == [["a", "b", "c", "d", "e"]])
        #expect(try await ids(DocumentQuery(entity: "counter", includeDeleted: true)) == [["a", "b", "c", "d", "e", "f"]])
        #expect(try await ids(DocumentQuery(entity: "counter", sortField: "count", limit: 2)) == [["d", "b"], ["a", "c"], ["e"]])
        #expect(try await ids(DocumentQuery(entity: "counter", sortField: "count", descending: true, limit: 2)) == [["e", "c"], ["a", "b"], ["d"]])
        #expect(try await ids(DocumentQuery(entity: "counter", limit: 3)) == [["a", "b", "c"], ["d", "e"]])
        #expect(try await ids(DocumentQuery(entity: "counter", filters: [.init(field: "count", .gte, 5)])) == [["a", "c", "e"]])
        #expect(try await ids(DocumentQuery(entity: "counter", filters: [.init(field: "count", .eq, 5)])) == [["a", "c"]])
        #expect(try await ids(DocumentQuery(entity: "counter", filters: [.init(field: "count", .ne, 5), .init(field: "count", .lt, 8)])) == [["b", "d"]])
        #expect(try await ids(DocumentQuery(entity: "counter", filters: [.init(field: "missing", .eq, 5)])) == [[]])
        #expect(try await ids(DocumentQuery(entity: "nothing")) == [[]])
    }

    static func erase(_ store: any EventStore & DocumentStore) async throws {
        try await store.append(to: counter("e"), [increment(5)])
        try await store.append(to: counter("kept"), [increment(1)])
        let erased = try await store.append(to: counter("e"), [EventData(type: "Erased")])
        #expect(erased.lastRevision == 1)
        #expect(try await store.info(counter("e"))?.status == .tombstoned)
        #expect(try await store.document(entity: "counter", id: "e") == nil)
        #expect(try await store.document(entity: "counter", id: "kept")?.state == ["count": 1])
        let log = try await store.readLog(after: 0, limit: 100)
        #expect(!log.events.contains { $0.stream == counter("e") }, "the stream's events, the erasing one too, are purged")
        #expect(log.events.last?.type == "$streamDeleted")
        do {
            try await store.append(to: counter("e"), [increment(1)])
            Issue.record("an erased stream must refuse writes")
        } catch let error as ChronicleError {
            #expect(error.code == .streamDeleted)
        }
        #expect(try await store.verify().isIntact)
    }

    static func timeTravel(_ store: any EventStore & DocumentStore) async throws {
        for by in 1...6 {
            try await store.append(to: counter("t"), [increment(Int64(by))])
        }
        let steps = try CounterProjection().fold(try await store.read(counter("t")))
        #expect(steps.map { $0.document?.state } == [1, 3, 6, 10, 15, 21].map { ["count": .integer($0)] })
        #expect(steps.last?.document == (try await store.document(entity: "counter", id: "t")))
    }
}
