import ChronicleCore
import Foundation

/// `chronicle bench --dcb`: conditional single-event appends (a condition on two tags, from
/// many writers), the same once `prefill` tagged events are stored, and reading by a two-tag
/// query: of two common tags, and of a common tag and a rare one (whose cost shows which
/// tag leads the index walk, see `DCBLeadingTags`).
struct DCBBench {
    let events: Int
    let writers: Int
    let prefill: Int

    struct Result {
        var conditional: Double
        var conditionalFull: Double
        var query: Double
        var rareQuery: Double
    }

    /// Runs the measurements; `settle` runs after the prefill, before the full store is
    /// measured (PostgreSQL: the `VACUUM ANALYZE` autovacuum would run on the new rows).
    func run(_ store: some EventStore, settle: () async throws -> Void = {}, progress: (String) -> Void) async throws -> Result {
        let empty = try await conditionalAppends(store, round: "a")
        var stored = 0
        while stored < prefill {
            let count = min(100, prefill - stored)
            let batch = (0..<count).map { offset -> EventData in
                let index = stored + offset
                return EventData(type: "Prefilled", data: ["index": .integer(Int64(index))], tags: ["bench:dcb", "part:\(index % 2)", "user:p\(index % 1000)"])
            }
            try await store.append(to: StreamName("prefill-\(stored / 10_000)"), batch)
            stored += count
            if stored % 100_000 == 0 { progress("dcb: \(stored)/\(prefill) events stored") }
        }
        try await settle()
        let full = try await conditionalAppends(store, round: "b")
        let query = try await readAll(store, DCBQuery([.init(tags: ["bench:dcb", "part:0"])]), expected: (prefill + 1) / 2)
        // "user:p7" is on 1 in 1,000 prefilled events; "bench:dcb", first in order, on all.
        let rare = try await readAll(store, DCBQuery([.init(tags: ["bench:dcb", "user:p7"])]), expected: prefill / 1000 + (prefill % 1000 > 7 ? 1 : 0))
        return Result(conditional: empty, conditionalFull: full, query: query, rareQuery: rare)
    }

    /// Reads every event matching `query` in pages of 1,000; events per second.
    private func readAll(_ store: some EventStore, _ query: DCBQuery, expected: Int) async throws -> Double {
        let start = ContinuousClock.now
        var position: Int64 = 0
        var read = 0
        while true {
            let page = try await store.read(query: query, after: position, limit: 1000)
            read += page.events.count
            if page.events.isEmpty || page.head <= position { break }
            position = page.head
        }
        guard read == expected else {
            throw CommandFailure(message: "bench --dcb: the query \(query.items.map { $0.tags.sorted() }) read \(read) events, expected \(expected)")
        }
        return read == 0 ? 0 : Double(read) / (ContinuousClock.now - start).seconds
    }

    /// Single-event appends from `writers` writers, each on the condition that no event
    /// carries both of its two tags (so each passes after the index is probed).
    private func conditionalAppends(_ store: some EventStore, round: String) async throws -> Double {
        let perWriter = max(1, events / writers)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for index in 0..<perWriter {
                        let tags = ["user:\(round)\(writer)", "item:\(round)\(writer)-\(index)"]
                        try await store.append(AppendRequest(
                            [.init(stream: StreamName("claim-\(round)\(writer)x\(index)"), events: [EventData(type: "Claimed", data: ["index": .integer(Int64(index))], tags: tags)])],
                            condition: AppendCondition(failIfEventsMatch: DCBQuery([.init(tags: Set(tags))]), after: 0)
                        ))
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(perWriter * writers) / (ContinuousClock.now - start).seconds
    }
}
