import ChronicleCore
import ChronicleProjections
import ChronicleSQLite
import Foundation
import Logging

/// `chronicle bench --personal`: what sealing personal fields costs. The same appends —
/// single events from many writers, and appends of 100 events — to two fresh stores with the
/// same schema, one declaring `personal: [email, name]` and one not, in the same run
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
    }

    static func schema(personal: Bool) -> String {
        """
        entities:
          user:
        \(personal ? "    personal: [email, name]\n" : "")    events:
              Registered: create
        """
    }

    func run(directory: String, durability: SQLiteEventStore.Configuration.Durability, personalFirst: Bool, logger: Logger) async throws -> Result {
        var result = Result(personalSingle: 0, plainSingle: 0, personalBatch: 0, plainBatch: 0)
        for personal in personalFirst ? [true, false] : [false, true] {
            let projection = DeclarativeProjection(schema: try EntitySchema(yaml: Self.schema(personal: personal)))
            let configuration = SQLiteEventStore.Configuration(durability: durability, projection: projection, masterKey: personal ? .random() : nil)
            let store = try SQLiteEventStore(directory: directory + (personal ? "/personal" : "/plain"), configuration: configuration, logger: logger)
            let single = try await appendSingle(store)
            let batch = try await appendBatch(store)
            if personal {
                result.personalSingle = single
                result.personalBatch = batch
            } else {
                result.plainSingle = single
                result.plainBatch = batch
            }
        }
        return result
    }

    /// About 100 bytes of data, two of its fields personal.
    static func event(_ index: Int) -> EventData {
        EventData(type: "Registered", data: ["email": .string("person\(index)@example.com"), "name": .string("Person number \(index)"), "plan": "standard", "age": .integer(Int64(20 + index % 50))])
    }

    private func appendSingle(_ store: SQLiteEventStore) async throws -> Double {
        let perWriter = max(1, singleEvents / writers)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for index in 0..<perWriter {
                        try await store.append(to: StreamName("user-s\(writer)x\(index)"), [Self.event(index)], expected: .noStream)
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(perWriter * writers) / (ContinuousClock.now - start).seconds
    }

    private func appendBatch(_ store: SQLiteEventStore) async throws -> Double {
        let calls = max(1, batchEvents / 100)
        let activeWriters = min(writers, calls)
        let perWriter = max(1, calls / activeWriters)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<activeWriters {
                group.addTask {
                    for call in 0..<perWriter {
                        try await store.append(to: StreamName("user-b\(writer)"), (0..<100).map { Self.event(call * 100 + $0) }, expected: call == 0 ? .noStream : .exact(Int64(call * 100 - 1)))
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(perWriter * activeWriters * 100) / (ContinuousClock.now - start).seconds
    }
}
