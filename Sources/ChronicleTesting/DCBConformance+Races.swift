import ChronicleCore
import Foundation
import Testing

extension DCBConformance {
    /// Two stores on one log (two nodes; on SQLite, two processes' stores on one file) race
    /// conditional appends. In each round 16 claims of one name, spread over both stores,
    /// each on the condition that no claim of that name is stored after the position all of
    /// them read first, while appends of a few hundred events through both stores keep
    /// commits coming, so that claims land in different commits of each store, one behind
    /// another's: exactly one claim wins each round.
    public static func runTwoWriters(_ first: any EventStore, _ second: any EventStore) async throws {
        for round in 0..<12 {
            let tag = "username:u\(round)"
            let claim = DCBQuery([.init(tags: [tag])])
            let after = try await first.headPosition()
            let wins = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<16 {
                    let store = index % 2 == 0 ? first : second
                    group.addTask {
                        // Each claim after a few more round trips than the one before.
                        for _ in 0..<index / 2 { _ = try await store.headPosition() }
                        do {
                            try await store.append(AppendRequest(
                                [.init(stream: StreamName("claim-\(round)-\(index)"), events: [event("UsernameClaimed", [tag])])],
                                condition: AppendCondition(failIfEventsMatch: claim, after: after)
                            ))
                            return 1
                        } catch let error as ChronicleError where error.code == .appendConditionFailed {
                            return 0
                        }
                    }
                    group.addTask {
                        // Commits that hold the write lock for a while (a few hundred
                        // events), so that claims queue behind them, in different commits.
                        for step in 0..<2 {
                            try await store.append(to: StreamName("noise-\(round)-\(index)"), (0..<150).map { _ in event("Noise", ["noise:\(step)"]) })
                        }
                        return 0
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(wins == 1, "round \(round): \(wins) of 16 claims made through two stores won")
            #expect(try await second.read(query: claim, after: 0, limit: 100).events.count == 1, "round \(round): one claim stored")
        }
    }

    /// 64 writers each claim slots 0…9 in turn, each claim on the condition that the slot has
    /// no claim: writers run at their own pace, so the claims of one slot reach the store in
    /// different commits, one behind another. Exactly one claim of each slot wins.
    static func slots(_ store: any EventStore) async throws {
        let writers = 64, slots = 10
        let wins = try await withThrowingTaskGroup(of: [Int].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var won: [Int] = []
                    for slot in 0..<slots {
                        let tag = "slot:\(slot)"
                        do {
                            try await store.append(AppendRequest(
                                [.init(stream: StreamName("writer-\(writer)"), events: [event("SlotClaimed", [tag])])],
                                condition: AppendCondition(failIfEventsMatch: DCBQuery([.init(tags: [tag])]))
                            ))
                            won.append(slot)
                        } catch let error as ChronicleError where error.code == .appendConditionFailed {}
                    }
                    return won
                }
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(wins.sorted() == Array(0..<slots), "each of \(slots) slots won once: \(wins.sorted())")
        for slot in 0..<slots {
            #expect(try await store.read(query: DCBQuery([.init(tags: ["slot:\(slot)"])]), after: 0, limit: 100).events.count == 1, "slot \(slot) claimed once")
        }
    }
}
