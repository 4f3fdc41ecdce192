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
            let single = try await Bench.appendSingle(store, events: singleEvents, writers: writers, category: "user", event: Self.event)
            let batch = try await Bench.appendBatch(store, events: batchEvents, writers: writers, category: "user", event: Self.event)
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
}
