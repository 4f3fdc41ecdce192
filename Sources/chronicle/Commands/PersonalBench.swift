import ChronicleCore
import ChronicleProjections
import ChronicleSQLite
import Foundation
import Logging

/// `chronicle bench --personal`: what sealing personal fields costs. The same appends —
/// single events from many writers (each to a new person, who gets a key; and each to a
/// person who has one), and appends of 100 events — to two fresh stores with the same
/// schema, one declaring `personal: [email, name]` and one not, in the same run, so the
/// ratio of the two is the cost of the encryption. Each shape runs in ``slices`` slices per
/// store, the stores taking turns in the order A B B A A B B A (A goes first in odd runs),
/// so that the machine's speed drifting during a run (its disk's most of all) weighs on
/// both alike; a store's figure is its events over its slices' summed time.
struct PersonalBench {
    let singleEvents: Int
    let batchEvents: Int
    let writers: Int

    /// Slices per shape and store.
    static let slices = 4

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
        var stores: [SQLiteEventStore] = []
        for personal in [true, false] {
            let projection = DeclarativeProjection(schema: try EntitySchema(yaml: Self.schema(personal: personal)))
            let configuration = SQLiteEventStore.Configuration(durability: durability, projection: projection, masterKey: personal ? .random() : nil)
            stores.append(try SQLiteEventStore(directory: directory + (personal ? "/personal" : "/plain"), configuration: configuration, logger: logger))
        }
        let people = try (0..<writers).map { try StreamName("user-known\($0)") }
        for store in stores {
            for (writer, person) in people.enumerated() {
                try await store.append(to: person, [Self.event(writer)], expected: .noStream)
            }
        }
        let slices = Self.slices, writers = writers
        let single = try await interleaved(stores, personalFirst: personalFirst) { store, slice in
            try await Bench.appendSingle(store, events: singleEvents / slices, writers: writers, category: "user", idPrefix: "s\(slice)-", event: Self.event)
        }
        let batch = try await interleaved(stores, personalFirst: personalFirst) { store, slice in
            try await Bench.appendBatch(store, events: batchEvents / slices, writers: writers, category: "user", idPrefix: "b\(slice)-", event: Self.event)
        }
        let known = try await interleaved(stores, personalFirst: personalFirst) { store, _ in
            try await appendToKnownPeople(store, people: people, events: singleEvents / slices)
        }
        return Result(personalSingle: single[0], plainSingle: single[1], personalBatch: batch[0], plainBatch: batch[1], personalKnown: known[0], plainKnown: known[1])
    }

    /// Runs `shape` (which returns events/s) in ``slices`` slices on each of the two stores,
    /// taking turns A B B A…; each store's events/s over all its slices (the slices are of
    /// one size, so that is the harmonic mean of their rates).
    private func interleaved(_ stores: [SQLiteEventStore], personalFirst: Bool, _ shape: (SQLiteEventStore, Int) async throws -> Double) async throws -> [Double] {
        var secondsPerEvent = [0.0, 0.0]
        for slice in 0..<Self.slices {
            for index in (slice % 2 == 0) == personalFirst ? [0, 1] : [1, 0] {
                secondsPerEvent[index] += 1 / (try await shape(stores[index], slice))
            }
        }
        return secondsPerEvent.map { Double(Self.slices) / $0 }
    }

    /// Single-event appends from one writer per person in `people` (registered before the
    /// clock starts, so each has a key): the cost of sealing without the cost of a new key.
    func appendToKnownPeople(_ store: some EventStore, people: [StreamName], events: Int) async throws -> Double {
        let perWriter = max(1, events / people.count)
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
        return Double(perWriter * people.count) / (ContinuousClock.now - start).seconds
    }

    /// About 100 bytes of data, two of its fields personal.
    static func event(_ index: Int) -> EventData {
        EventData(type: "Registered", data: ["email": .string("person\(index)@example.com"), "name": .string("Person number \(index)"), "plan": "standard", "age": .integer(Int64(20 + index % 50))])
    }
}
