import ChronicleCore
import ChronicleTesting
import Testing

@Suite("In-memory store conformance")
struct InMemoryConformanceTests {
    @Test(arguments: EventStoreConformance.cases)
    func conformance(_ check: ConformanceCase) async throws {
        try await check.run(InMemoryEventStore())
    }
}

@Suite("In-memory store: inline documents")
struct InMemoryProjectionConformanceTests {
    @Test(arguments: ProjectionConformance.cases)
    func conformance(_ check: ProjectionConformanceCase) async throws {
        try await check.run(InMemoryEventStore(projection: CounterProjection()))
    }
}

@Suite("In-memory store: export and import")
struct InMemoryArchiveTests {
    @Test("an export imported into a fresh store is the same store")
    func roundTrip() async throws {
        try await ArchiveConformance.run { InMemoryEventStore(projection: CounterProjection()) }
    }
}

@Suite("In-memory store: asynchronous projection")
struct InMemoryAsyncProjectionTests {
    @Test("pages apply once, with the checkpoint")
    func asyncProjection() async throws {
        try await AsyncProjectionConformance.run(InMemoryEventStore(projection: CounterProjection(), lifecycle: .async))
    }
}

@Suite("In-memory store: live projection")
struct InMemoryLiveProjectionTests {
    @Test(arguments: ProjectionConformance.liveCases)
    func conformance(_ check: ProjectionConformanceCase) async throws {
        try await check.run(InMemoryEventStore(projection: CounterProjection(), lifecycle: .live))
    }

    @Test("a live projection cannot be listed or rebuilt, and says why")
    func refusals() async throws {
        let store = InMemoryEventStore(projection: CounterProjection(), lifecycle: .live)
        await #expect(throws: ChronicleError.self) { try await store.documents(DocumentQuery(entity: "counter")) }
        await #expect(throws: ChronicleError.self) { try await store.rebuildDocuments() }
    }
}

@Suite("In-memory store: leases")
struct InMemoryLeaseTests {
    @Test("one owner at a time, renewal, expiry and release")
    func conformance() async throws {
        try await LeaseConformance.run(InMemoryEventStore())
    }
}

@Suite("In-memory store: reactor checkpoints and parking")
struct InMemoryReactorStoreTests {
    @Test("checkpoints, outcomes with the checkpoint, parking and the parked list")
    func conformance() async throws {
        try await ReactorStoreConformance.run(InMemoryEventStore())
    }
}
