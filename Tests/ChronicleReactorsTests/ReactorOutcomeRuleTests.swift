import ChronicleCore
import ChronicleProjections
import ChronicleReactors
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import Testing

/// Users, and advertisements that need a verified user.
private let schema = """
    entities:
      user:
        events:
          UserCreated: create
      advertisement:
        events:
          AdvertisementPosted:
            create: true
            require:
              - entity: user
                id: $.data.userId
                where: { emailVerified: true }
                otherwise: { status: 403, code: email-unverified }
    """

/// A reactor that posts an advertisement for every new user: refused by the rules, since no
/// user is verified.
private func refusedOutcomes(on backend: any ConformanceBackend) async throws {
    try await backend.withStore(projection: DeclarativeProjection(schema: try EntitySchema(yaml: schema)), lifecycle: .inline) { store in
        let reactor = Reactor(name: "poster", filter: LogFilter(types: ["UserCreated"]), startsAtBeginning: true, maximumAttempts: 3, backoff: .milliseconds(1)) { delivery in
            let id = delivery.event.stream.entityID ?? "?"
            return [ReactorOutcome(stream: try StreamName("advertisement-\(id)"), events: [EventData(type: "AdvertisementPosted", data: ["userId": .string(id)])])]
        }
        try await store.append(to: StreamName("user-ada"), [EventData(type: "UserCreated", data: ["email": "ada@example.com"])])
        try await store.append(to: StreamName("user-bob"), [EventData(type: "UserCreated", data: ["email": "bob@example.com"])])
        try await withReactor(store, reactor) { _ in
            try await eventually("both triggers parked") { try await store.parkedEvents("poster").count == 2 }
            try await eventually("the checkpoint past them") { try await store.reactorPosition("poster") ?? 0 >= 2 }
        }
        let parked = try await store.parkedEvents("poster")
        #expect(parked.map(\.position) == [1, 2])
        #expect(parked.allSatisfy { $0.error.contains("outcome events were refused") && $0.error.contains("rule-violated") }, "\(parked.map(\.error))")
        #expect(try await store.document(entity: "advertisement", id: "ada") == nil, "no refused outcome was stored")
        let log = try await store.readLog(after: 0, limit: 100).events.map(\.type)
        #expect(log == ["UserCreated", "UserCreated", "$reactorParked", "$reactorParked"], "\(log)")
    }
}

@Suite("Reactors: outcome events keep the rules")
struct ReactorOutcomeRuleTests {
    @Test("outcomes the schema's rules refuse park their trigger, and the reactor goes on", arguments: [InMemoryBackend() as any ConformanceBackend, SQLiteBackend()])
    func refused(backend: any ConformanceBackend) async throws {
        try await refusedOutcomes(on: backend)
    }

    @Test("the same on PostgreSQL", TestPostgres.enabled)
    func refusedOnPostgres() async throws {
        try await refusedOutcomes(on: PostgresBackend())
    }
}
