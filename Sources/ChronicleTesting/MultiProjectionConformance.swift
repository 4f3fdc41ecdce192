import ChronicleCore
import Foundation
import Testing

/// Checks a store that keeps several named projections side by side, on a fresh store that
/// keeps ``projections``: `counters` inline (the primary one), `doubled` asynchronous,
/// `tripled` live, and `guard`, asynchronous, whose rule refuses `Forbidden` events.
public enum MultiProjectionConformance {
    /// The projections the checks expect, the primary one first.
    public static let projections: [ProjectionRegistration] = [
        ProjectionRegistration(CounterProjection(), lifecycle: .inline),
        ProjectionRegistration(CounterProjection(version: 2, name: "doubled"), lifecycle: .async),
        ProjectionRegistration(CounterProjection(version: 3, name: "tripled"), lifecycle: .live),
        ProjectionRegistration(GuardProjection(), lifecycle: .async),
    ]

    /// One check.
    public struct Case: Sendable, CustomTestStringConvertible {
        /// What it checks.
        public let name: String
        /// Runs it on a fresh store that keeps ``MultiProjectionConformance/projections``.
        public let run: @Sendable (any ProjectionStore) async throws -> Void

        public var testDescription: String { name }
    }

    /// The checks.
    public static let cases: [Case] = [
        Case(name: "each projection keeps its own documents, by its own lifecycle", run: ownDocuments),
        Case(name: "each projection rebuilds on its own", run: ownRebuilds),
        Case(name: "a hard delete reaches every projection that keeps documents", run: hardDelete),
        Case(name: "every projection's rules hold, and unknown names are refused by name", run: rulesAndNames),
    ]

    static func count(_ store: any ProjectionStore, _ projection: String, _ id: String = "1") async throws -> Int64? {
        guard case .integer(let count)? = try await store.document(entity: "counter", id: id, projection: projection)?.state["count"] else { return nil }
        return count
    }

    /// Applies the log up to the head to an asynchronous projection.
    static func catchUp(_ store: any ProjectionStore, _ projection: String) async throws {
        let checkpoint = try await store.projectionCheckpoint(projection: projection)
        let page = try await store.readLog(after: checkpoint, limit: 1000, filter: LogFilter())
        guard page.scannedThrough > checkpoint else { return }
        #expect(try await store.applyProjection(page.events, after: checkpoint, through: page.scannedThrough, projection: projection) == page.scannedThrough)
    }

    static func increment(_ store: any ProjectionStore, _ id: String = "1", by: Int64) async throws {
        try await store.append(to: StreamName("counter-\(id)"), [EventData(type: "Incremented", data: ["by": .integer(by)])])
    }

    static func ownDocuments(_ store: any ProjectionStore) async throws {
        #expect(store.projections.map(\.name) == ["counters", "doubled", "tripled", "guard"])
        try await increment(store, by: 2)
        try await increment(store, by: 3)
        #expect(try await count(store, "counters") == 5, "inline: current right after the append")
        #expect(try await count(store, "doubled") == nil, "async: nothing until the runner applies it")
        #expect(try await store.documentsPosition(projection: "doubled") == 0)
        #expect(try await count(store, "tripled") == 15, "live: folded on demand")
        #expect(try await store.document(entity: "counter", id: "1")?.state == ["count": 5], "the single-projection API reads the primary projection")

        try await catchUp(store, "doubled")
        #expect(try await count(store, "doubled") == 10)
        #expect(try await count(store, "counters") == 5, "applying one projection leaves the others alone")
        #expect(try await store.projectionCheckpoint(projection: "guard") == 0, "each asynchronous projection has its own checkpoint")
        #expect(try await store.documents(DocumentQuery(entity: "counter"), projection: "doubled").documents.map(\.state) == [["count": 10]])
        await #expect(throws: ChronicleError.self, "a live projection keeps nothing to list") {
            try await store.documents(DocumentQuery(entity: "counter"), projection: "tripled")
        }
        let view = try store.projection(named: "doubled")
        #expect(try await view.document(entity: "counter", id: "1")?.state == ["count": 10], "a view reads its own projection")
        #expect(try await view.documentsPosition() == 2)
    }

    static func ownRebuilds(_ store: any ProjectionStore) async throws {
        try await increment(store, by: 1)
        try await increment(store, by: 1)
        try await catchUp(store, "doubled")
        try await increment(store, by: 1)
        #expect(try await store.rebuildDocuments(projection: "counters") { _, _ in } == 3)
        #expect(try await count(store, "counters") == 3)
        #expect(try await store.projectionCheckpoint(projection: "doubled") == 2, "rebuilding one projection does not move another's checkpoint")
        #expect(try await count(store, "doubled") == 4)
        #expect(try await store.rebuildDocuments(projection: "doubled") { _, _ in } == 3)
        #expect(try await store.projectionCheckpoint(projection: "doubled") == 3)
        #expect(try await count(store, "doubled") == 6)
        #expect(try await count(store, "counters") == 3, "rebuilding one projection leaves another's documents")
        await #expect(throws: ChronicleError.self, "a live projection has nothing to rebuild") {
            try await store.rebuildDocuments(projection: "tripled") { _, _ in }
        }
    }

    static func hardDelete(_ store: any ProjectionStore) async throws {
        try await increment(store, "1", by: 4)
        try await increment(store, "2", by: 5)
        try await catchUp(store, "doubled")
        #expect(try await count(store, "doubled", "1") == 8)
        _ = try await store.delete(StreamName("counter-1"), mode: .hard, expected: .any)
        #expect(try await store.document(entity: "counter", id: "1", projection: "counters") == nil, "inline: gone in the delete's transaction")
        try await catchUp(store, "doubled")
        #expect(try await store.document(entity: "counter", id: "1", projection: "doubled") == nil, "async: gone once the runner applies the deletion")
        #expect(try await store.document(entity: "counter", id: "1", projection: "tripled") == nil, "live: nothing left to fold")
        #expect(try await count(store, "doubled", "2") == 10, "other entities stay")
        #expect(try await count(store, "counters", "2") == 5)
    }

    static func rulesAndNames(_ store: any ProjectionStore) async throws {
        try await increment(store, by: 1)
        let head = try await store.headPosition()
        do {
            try await store.append(to: StreamName("counter-1"), [EventData(type: "Forbidden", data: [:])])
            Issue.record("an asynchronous projection's rule was skipped")
        } catch let error as ChronicleError {
            #expect(error.code == .ruleViolated)
            #expect(error.details["rule"] == "guard.no-forbidden")
        }
        #expect(try await store.headPosition() == head, "a refused append stores nothing")
        #expect(try await count(store, "counters") == 1)

        for name in ["nope", ""] {
            do {
                _ = try await store.document(entity: "counter", id: "1", projection: name)
                Issue.record("projection \(name.debugDescription) does not exist")
            } catch let error as ChronicleError {
                #expect(error.code == .projectionNotFound)
                #expect(error.message.contains("counters, doubled, tripled, guard"), "the error names the store's projections: \(error.message)")
            }
        }
        await #expect(throws: ChronicleError.self, "only an asynchronous projection takes pages") {
            try await store.applyProjection([], after: 0, through: 1, projection: "counters")
        }
    }
}

/// A projection that keeps nothing and refuses `Forbidden` events: a rule of a projection
/// other than the primary one.
public struct GuardProjection: Projection {
    /// Creates it.
    public init() {}

    /// `guard`.
    public var name: String { "guard" }
    /// Fixed.
    public var definitionHash: String { "guard-v1" }

    /// None: it keeps no documents.
    public func entity(of event: RecordedEvent) -> (entity: String, id: String)? { nil }

    /// Nothing.
    public func evolve(_ document: Document?, with event: RecordedEvent) throws -> DocumentChange { .none }

    /// Refuses `Forbidden`.
    public func checkAppend(_ event: RecordedEvent, documents: (any DocumentLookup)?) throws {
        if event.type == "Forbidden" {
            var error = ChronicleError(.ruleViolated, "Forbidden events are refused by projection guard.")
            error.status = 403
            error.details["rule"] = "guard.no-forbidden"
            throw error
        }
    }
}
