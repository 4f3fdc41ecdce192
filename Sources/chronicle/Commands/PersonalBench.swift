import ChronicleCore
import ChronicleProjections
import ChronicleSQLite
import Foundation
import Logging

/// `chronicle bench --personal`: what sealing personal fields costs. The same appends —
/// single events from many writers (each to a new person, who gets a key; and each to a
/// person who has one), and appends of 100 events — to two fresh stores with the same
/// schema, one declaring `personal: [email, name]` and one not, in the same run
/// (alternating which goes first), so the ratio of the two is the cost of the encryption.
struct PersonalBench {
    let singleEvents: Int
    let batchEvents: Int
    let writers: Int

    struct Result {
        var personalSingle: Double
        var plainSingle: Double
        var personalBatch: Double
        var plainBatch: Double
        var personalKnown: Double
        var plainKnown: Double
    }

    static func schema(personal: Bool) -> String {
        """
        entities:
          user:
        \(personal ? "    personal: [email, name]\n" : "")    events:
              Registered: create
              Updated: merge
        """
    }

    func run(directory: String, durability: SQLiteEventStore.Configuration.Durability, personalFirst: Bool, logger: Logger) async throws -> Result {
        var result = Result(personalSingle: 0, plainSingle: 0, personalBatch: 0, plainBatch: 0, personalKnown: 0, plainKnown: 0)
        for personal in personalFirst ? [true, false] : [false, true] {
            let projection = DeclarativeProjection(schema: try EntitySchema(yaml: Self.schema(personal: personal)))
            let configuration = SQLiteEventStore.Configuration(durability: durability, projection: projection, masterKey: personal ? .random() : nil)
            let store = try SQLiteEventStore(directory: directory + (personal ? "/personal" : "/plain"), configuration: configuration, logger: logger)
            let single = try await Bench.appendSingle(store, events: singleEvents, writers: writers, category: "user", event: Self.event)
            let batch = try await Bench.appendBatch(store, events: batchEvents, writers: writers, category: "user", event: Self.event)
            let known = try await appendToKnownPeople(store)
            if personal {
                result.personalSingle = single
                result.personalBatch = batch
                result.personalKnown = known
            } else {
                result.plainSingle = single
                result.plainBatch = batch
                result.plainKnown = known
            }
        }
        return result
    }

    /// Single-event appends from `writers` writers, each to its own person registered before
    /// the clock starts (whose key exists): the cost of sealing without the cost of a new key.
    func appendToKnownPeople(_ store: some EventStore) async throws -> Double {
        let perWriter = max(1, singleEvents / writers)
        let people = try (0..<writers).map { try StreamName("user-known\($0)") }
        for (writer, person) in people.enumerated() {
            try await store.append(to: person, [Self.event(writer)], expected: .noStream)
        }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for person in people {
                group.addTask {
                    for index in 0..<perWriter {
                        var update = Self.event(index)
                        update.type = "Updated"
                        try await store.append(to: person, [update], expected: .any)
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(perWriter * writers) / (ContinuousClock.now - start).seconds
    }

    /// About 100 bytes of data, two of its fields personal.
    static func event(_ index: Int) -> EventData {
        EventData(type: "Registered", data: ["email": .string("person\(index)@example.com"), "name": .string("Person number \(index)"), "plan": "standard", "age": .integer(Int64(20 + index % 50))])
    }
}
