import ChronicleCore
import Foundation

/// `chronicle bench --dcb`: conditional single-event appends (a condition on two tags, from
/// many writers), the same once `prefill` tagged events are stored, and reading by a two-tag
/// query.
struct DCBBench {
    let events: Int
    let writers: Int
    let prefill: Int

    struct Result {
        var conditional: Double
        var conditionalFull: Double
        var query: Double
    }

    func run(_ store: some EventStore, progress: (String) -> Void) async throws -> Result {
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
        let full = try await conditionalAppends(store, round: "b")
        let query = DCBQuery([.init(tags: ["bench:dcb", "part:0"])])
        let start = ContinuousClock.now
        var position: Int64 = 0
        var read = 0
        while true {
            let page = try await store.read(query: query, after: position, limit: 1000)
            read += page.events.count
            if page.events.isEmpty || page.head <= position { break }
            position = page.head
        }
        guard read == (prefill + 1) / 2 else {
            throw CommandFailure(message: "bench --dcb: the query read \(read) events, expected \((prefill + 1) / 2)")
        }
        let seconds = (ContinuousClock.now - start).seconds
        return Result(conditional: empty, conditionalFull: full, query: read == 0 ? 0 : Double(read) / seconds)
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
