import ChronicleCore
import Foundation
import Testing

/// Checks tags, DCB queries and conditional appends, on a fresh store without projections.
public enum DCBConformance {
    /// The checks.
    public static let cases: [ConformanceCase] = [
        ConformanceCase("tags are stored as a set, returned with the event, covered by the hash chain; bad tags are refused by name", run: tags),
        ConformanceCase("queries: types OR, tags AND, items OR, the empty query; after, limit and head", run: queries),
        ConformanceCase("a condition passes when nothing matches after its position, and fails naming the first match; nothing is stored", run: conditions),
        ConformanceCase("of concurrent appends with the same condition exactly one wins; a retry of the winner is answered as stored", run: races),
        ConformanceCase("64 writers claim ten slots in turn, each on the condition that the slot is free: each slot is won once", run: slots),
        ConformanceCase("the command handler by query: of concurrent claims of one name one wins, the others re-read and are refused by the decider", run: handler),
        ConformanceCase("queries deep in the log: several tags, types and items after a late position return exactly the matching events and head", run: deepQueries),
        ConformanceCase("concurrent appends with different conditions, of several shapes, are each judged on their own", run: independentConditions),
        ConformanceCase("items whose tags differ in how common they are (a backend may lead with the rarest) match exactly, in order, paged and as conditions", run: unevenTags),
    ]

    static func event(_ type: String, _ tags: [String], id: UUID = .timeOrdered()) -> EventData {
        EventData(id: id, type: type, tags: tags)
    }

    static func tags(_ store: any EventStore) async throws {
        let stream = try StreamName("course-c1")
        try await store.append(to: stream, [event("CourseDefined", ["course:c1", "course:c1", "term:2026"])])
        let stored = try await store.read(stream)
        #expect(stored.map(\.tags) == [["course:c1", "term:2026"]], "sorted, without repeats")
        #expect(try await store.readLog(after: 0, limit: 10).events.first?.tags == ["course:c1", "term:2026"])
        try await store.append(to: stream, [event("CourseRenamed", [])])
        #expect(try await store.verify().isIntact)
        for bad in [[""], ["has space"], [String(repeating: "x", count: 201)], (0...32).map { "t:\($0)" }] {
            do {
                try await store.append(to: stream, [event("CourseRenamed", bad)])
                Issue.record("tags \(bad.prefix(2)) were accepted")
            } catch let error as ChronicleError {
                #expect(error.code == .invalidInput)
                #expect(error.message.contains("CourseRenamed"), "the error names the event: \(error.message)")
            }
        }
        #expect(try await store.headPosition() == 2, "refused appends store nothing")
    }

    static func queries(_ store: any EventStore) async throws {
        try await store.append(AppendRequest([
            .init(stream: StreamName("user-ada"), events: [event("UserRegistered", ["user:ada", "username:ada"]), event("UserEmailVerified", ["user:ada"])]),
            .init(stream: StreamName("user-bob"), events: [event("UserRegistered", ["user:bob", "username:bob"])]),
            .init(stream: StreamName("ad-1"), events: [event("AdvertisementPosted", ["user:ada", "ad:1"])]),
            .init(stream: StreamName("misc-1"), events: [event("Noted", [])]),
        ]))
        func positions(_ query: DCBQuery, after: Int64 = 0, limit: Int = 100) async throws -> [Int64] {
            try await store.read(query: query, after: after, limit: limit).events.map(\.position)
        }
        #expect(try await positions(DCBQuery()) == [1, 2, 3, 4, 5], "the empty query matches everything")
        #expect(try await positions(DCBQuery([.init(tags: ["user:ada"])])) == [1, 2, 4])
        #expect(try await positions(DCBQuery([.init(tags: ["user:ada", "username:ada"])])) == [1], "tags AND")
        #expect(try await positions(DCBQuery([.init(types: ["UserRegistered", "AdvertisementPosted"])])) == [1, 3, 4], "types OR")
        #expect(try await positions(DCBQuery([.init(types: ["UserRegistered"], tags: ["user:ada"])])) == [1], "types AND tags")
        #expect(try await positions(DCBQuery([.init(types: ["UserEmailVerified"]), .init(tags: ["user:bob"])])) == [2, 3], "items OR")
        #expect(try await positions(DCBQuery([.init(tags: ["user:nobody"])])).isEmpty)
        #expect(try await positions(DCBQuery([.init(tags: ["user:ada"])]), after: 1) == [2, 4], "after")
        let limited = try await store.read(query: DCBQuery([.init(tags: ["user:ada"])]), after: 0, limit: 2)
        #expect(limited.events.map(\.position) == [1, 2] && limited.head == 2, "a full page's head is its last event")
        let none = try await store.read(query: DCBQuery([.init(tags: ["user:nobody"])]), after: 0, limit: 10)
        #expect(none.events.isEmpty && none.head == 5, "with no match, the head is the last position considered")
        let page = try await store.read(query: DCBQuery([.init(tags: ["user:ada"])]), after: 0, limit: 10)
        #expect(page.events.first?.tags == ["user:ada", "username:ada"] && page.head == 5)
    }

    static func unevenTags(_ store: any EventStore) async throws {
        // 100 events: every one tagged a:common, every 3rd m:mid (33), every 10th z:rare (10)
        // and of type Rare — more and fewer than a backend's sample of a tag's entries.
        let events = (1...100).map { index -> EventData in
            var tags = ["a:common"]
            if index % 3 == 0 { tags.append("m:mid") }
            if index % 10 == 0 { tags.append("z:rare") }
            return event(index % 10 == 0 ? "Rare" : "Common", tags)
        }
        try await store.append(to: StreamName("uneven-1"), events)
        func positions(_ items: [DCBQuery.Item], after: Int64 = 0, limit: Int = 1000) async throws -> [Int64] {
            try await store.read(query: DCBQuery(items), after: after, limit: limit).events.map(\.position)
        }
        let tens = Array(stride(from: Int64(10), through: 100, by: 10))
        #expect(try await positions([.init(tags: ["a:common", "z:rare"])]) == tens)
        #expect(try await positions([.init(tags: ["z:rare", "a:common"])]) == tens, "the order tags are given in does not matter")
        #expect(try await positions([.init(tags: ["a:common", "m:mid"])]) == Array(stride(from: Int64(3), through: 99, by: 3)))
        #expect(try await positions([.init(tags: ["a:common", "m:mid", "z:rare"])]) == [30, 60, 90])
        #expect(try await positions([.init(types: ["Rare"], tags: ["m:mid", "a:common"])]) == [30, 60, 90])
        #expect(try await positions([.init(tags: ["a:common", "m:mid"])], after: 50) == Array(stride(from: Int64(51), through: 99, by: 3)), "after")
        #expect(try await positions([.init(tags: ["a:common", "z:rare"]), .init(tags: ["m:mid", "a:common"])], after: 80) == [81, 84, 87, 90, 93, 96, 99, 100], "items OR")
        var paged: [Int64] = []
        var head: Int64 = 0
        while true {
            let page = try await store.read(query: DCBQuery([.init(tags: ["m:mid", "a:common"])]), after: head, limit: 7)
            paged += page.events.map(\.position)
            if page.events.count < 7 { #expect(page.head == 100, "the last page's head is the log's"); break }
            #expect(page.head == page.events.last?.position)
            head = page.head
        }
        #expect(paged == Array(stride(from: Int64(3), through: 99, by: 3)), "pages of 7 add up to the whole, in order")
        do {
            try await store.append(AppendRequest([.init(stream: StreamName("uneven-2"), events: [event("Common", ["a:common"])])],
                                                 condition: AppendCondition(failIfEventsMatch: DCBQuery([.init(tags: ["a:common", "z:rare"])]), after: 85)))
            Issue.record("the condition passed with z:rare events after 85")
        } catch let error as ChronicleError {
            #expect(error.code == .appendConditionFailed)
            #expect(error.details["position"] == .integer(90), "the first match: \(error.details)")
        }
        _ = try await store.append(AppendRequest([.init(stream: StreamName("uneven-2"), events: [event("Common", ["a:common"])])],
                                                 condition: AppendCondition(failIfEventsMatch: DCBQuery([.init(tags: ["a:common", "z:rare"])]), after: 100)))
        #expect(try await store.headPosition() == 101)
    }

    static func conditions(_ store: any EventStore) async throws {
        let verified = DCBQuery([.init(types: ["UserEmailVerified", "UserEmailUnverified"], tags: ["user:ada"])])
        try await store.append(to: StreamName("user-ada"), [event("UserEmailVerified", ["user:ada"])])
        let read = try await store.read(query: verified, after: 0, limit: 100)
        #expect(read.head == 1)
        let posted = try await store.append(AppendRequest(
            [.init(stream: StreamName("ad-1"), events: [event("AdvertisementPosted", ["user:ada"])])],
            condition: AppendCondition(failIfEventsMatch: verified, after: read.head)
        ))
        #expect(posted.position == 2, "nothing matched after the position read")
        try await store.append(to: StreamName("user-ada"), [event("UserEmailUnverified", ["user:ada"])])
        let head = try await store.headPosition()
        do {
            try await store.append(AppendRequest(
                [.init(stream: StreamName("ad-2"), events: [event("AdvertisementPosted", ["user:ada"]), event("AdvertisementPublished", ["user:ada"])]),
                 .init(stream: StreamName("stats-1"), events: [event("Counted", [])])],
                condition: AppendCondition(failIfEventsMatch: verified, after: read.head)
            ))
            Issue.record("an event matching the condition was stored after its position")
        } catch let error as ChronicleError {
            #expect(error.code == .appendConditionFailed)
            #expect(error.details["position"] == .integer(3), "the first matching event: \(error.details)")
        }
        #expect(try await store.headPosition() == head, "a failed condition stores none of the append's events")
        await #expect(throws: ChronicleError.self, "without after, any matching event fails it") {
            try await store.append(AppendRequest([.init(stream: StreamName("ad-3"), events: [event("AdvertisementPosted", [])])], condition: AppendCondition(failIfEventsMatch: verified)))
        }
        let unique = DCBQuery([.init(tags: ["username:zoe"])])
        try await store.append(AppendRequest([.init(stream: StreamName("user-zoe"), events: [event("UserRegistered", ["username:zoe"])])], condition: AppendCondition(failIfEventsMatch: unique)))
        await #expect(throws: ChronicleError.self, "a taken username: the condition sees the first claim") {
            try await store.append(AppendRequest([.init(stream: StreamName("user-zoe2"), events: [event("UserRegistered", ["username:zoe"])])], condition: AppendCondition(failIfEventsMatch: unique)))
        }
    }

    static func races(_ store: any EventStore) async throws {
        let claim = DCBQuery([.init(tags: ["username:ada"])])
        let ids = (0..<16).map { _ in UUID.timeOrdered() }
        let outcomes = try await withThrowingTaskGroup(of: (UUID, Bool).self) { group in
            for (index, id) in ids.enumerated() {
                group.addTask {
                    do {
                        try await store.append(AppendRequest(
                            [.init(stream: StreamName("user-\(index)"), events: [event("UserRegistered", ["username:ada"], id: id)])],
                            condition: AppendCondition(failIfEventsMatch: claim, after: 0)
                        ))
                        return (id, true)
                    } catch let error as ChronicleError where error.code == .appendConditionFailed {
                        return (id, false)
                    }
                }
            }
            var outcomes: [(UUID, Bool)] = []
            for try await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let winners = outcomes.filter(\.1)
        #expect(winners.count == 1, "exactly one of 16 racing claims wins")
        #expect(try await store.read(query: claim, after: 0, limit: 100).events.count == 1)
        guard let winner = winners.first, let index = ids.firstIndex(of: winner.0) else { return }
        let retry = try await store.append(AppendRequest(
            [.init(stream: StreamName("user-\(index)"), events: [event("UserRegistered", ["username:ada"], id: winner.0)])],
            condition: AppendCondition(failIfEventsMatch: claim, after: 0)
        ))
        #expect(retry.position == 1, "a retry of the stored append is answered with its result, though its condition no longer holds")
        #expect(try await store.headPosition() == 1)
    }

    /// Claims a username once: the state is whether a claim exists.
    struct UniqueUsername: Decider {
        struct Taken: Error {}
        var initialState: Bool { false }
        func evolve(_ taken: Bool, _ event: EventData) -> Bool { taken || event.type == "UsernameClaimed" }
        func decide(_ name: String, _ taken: Bool) throws -> [EventData] {
            if taken { throw Taken() }
            return [EventData(type: "UsernameClaimed", data: ["username": .string(name)], tags: ["username:\(name)"])]
        }
    }

    static func handler(_ store: any EventStore) async throws {
        let handler = CommandHandler(decider: UniqueUsername(), store: store, maximumAttempts: 20)
        let query = DCBQuery([.init(types: ["UsernameClaimed"], tags: ["username:ada"])])
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    do {
                        let outcome = try await handler.handle("ada", query: query, appendTo: StreamName("user-\(index)"), metadata: ["actor": "test"])
                        return outcome.appended != nil
                    } catch is UniqueUsername.Taken {
                        return false
                    }
                }
            }
            var results: [Bool] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(results.filter { $0 }.count == 1, "one claim wins; the others see it when they decide again")
        let claims = try await store.read(query: query, after: 0, limit: 100).events
        #expect(claims.count == 1 && claims[0].metadata["actor"] == "test")
        let other = try await handler.handle("bob", query: DCBQuery([.init(types: ["UsernameClaimed"], tags: ["username:bob"])]), appendTo: StreamName("user-bob"))
        #expect(other.appended != nil && other.state == true && other.attempts == 1, "another name is free")
    }
}

extension DCBConformance {
    /// 240 events, each tagged by its index modulo 2, 3 and 5 (`m2:1`, `m3:0`…), of type
    /// `Even` or `Odd`; the expected answers are computed from the indexes.
    static func deepQueries(_ store: any EventStore) async throws {
        let count = 240
        var events: [EventData] = []
        for index in 1...count {
            events.append(event(index % 2 == 0 ? "Even" : "Odd", ["m2:\(index % 2)", "m3:\(index % 3)", "m5:\(index % 5)", "all"]))
        }
        for chunk in stride(from: 0, to: count, by: 60) {
            try await store.append(to: StreamName("deep-\(chunk)"), Array(events[chunk..<chunk + 60]))
        }
        let head = Int64(count)
        func expected(after: Int64, _ matches: (Int64) -> Bool) -> [Int64] {
            (after + 1 ..< head + 1).filter(matches)
        }
        let cases: [(String, DCBQuery, (Int64) -> Bool)] = [
            ("two tags", DCBQuery([.init(tags: ["m2:0", "m3:1"])]), { $0 % 2 == 0 && $0 % 3 == 1 }),
            ("three tags", DCBQuery([.init(tags: ["m2:1", "m3:2", "m5:4"])]), { $0 % 2 == 1 && $0 % 3 == 2 && $0 % 5 == 4 }),
            ("tags and a type", DCBQuery([.init(types: ["Even"], tags: ["m5:0", "all"])]), { $0 % 2 == 0 && $0 % 5 == 0 }),
            ("types only", DCBQuery([.init(types: ["Odd"])]), { $0 % 2 == 1 }),
            ("items OR", DCBQuery([.init(tags: ["m3:0", "m5:0"]), .init(types: ["Odd"], tags: ["m5:1"])]), { ($0 % 3 == 0 && $0 % 5 == 0) || ($0 % 2 == 1 && $0 % 5 == 1) }),
        ]
        for (name, query, matches) in cases {
            for after: Int64 in [0, 170, 229, head] {
                let all = expected(after: after, matches)
                let page = try await store.read(query: query, after: after, limit: 1000)
                #expect(page.events.map(\.position) == all, "\(name) after \(after)")
                #expect(page.head == head, "\(name) after \(after): a page that is not full reads to the head")
                // Paging by head, two at a time, visits the same events and ends at the head.
                var position = after, paged: [Int64] = []
                while true {
                    let page = try await store.read(query: query, after: position, limit: 2)
                    #expect(page.events.allSatisfy { $0.position > position && query.matches($0) }, "\(name) paged after \(position)")
                    paged += page.events.map(\.position)
                    if page.events.count == 2 { #expect(page.head == page.events[1].position) }
                    if page.events.count < 2 { #expect(page.head == head); break }
                    position = page.head
                }
                #expect(paged == all, "\(name) paged from \(after)")
            }
        }
        let last = try await store.read(query: DCBQuery([.init(tags: ["m2:0", "m3:0"])]), after: 233, limit: 1)
        #expect(last.events.map(\.position) == [234] && last.head == 234)
    }

    /// Claims that race into the same write batches, each with a condition of its own on
    /// seeds stored before: half of them match a seed after their position and fail naming
    /// it, the others pass; one claim's outcome never depends on another's.
    static func independentConditions(_ store: any EventStore) async throws {
        let count = 48
        // Seeds for even k: tagged `seed:k` and `kind:a`, of type `Seeded`.
        var seeds: [Int: Int64] = [:]
        for k in stride(from: 0, to: count, by: 2) {
            seeds[k] = try await store.append(to: StreamName("seed-\(k)"), [event("Seeded", ["seed:\(k)", "kind:a"])]).lastPosition
        }
        func condition(_ k: Int) -> AppendCondition {
            let query: DCBQuery = switch k % 3 {
            case 0: DCBQuery([.init(tags: ["seed:\(k)", "kind:a"])])
            case 1: DCBQuery([.init(types: ["Seeded", "Other"], tags: ["seed:\(k)"])])
            default: DCBQuery([.init(types: ["Other"], tags: ["other:\(k)"]), .init(tags: ["kind:a", "seed:\(k)"])])
            }
            // For every fourth k the position read is the seed's own: nothing after it matches.
            let after: Int64 = k % 4 == 0 ? seeds[k] ?? 0 : 0
            return AppendCondition(failIfEventsMatch: query, after: after)
        }
        func passes(_ k: Int) -> Bool { k % 2 == 1 || k % 4 == 0 }
        let conditions = (0..<count).map(condition)
        let outcomes = try await withThrowingTaskGroup(of: (Int, Int64?).self) { group in
            for k in 0..<count {
                group.addTask {
                    do {
                        try await store.append(AppendRequest([.init(stream: StreamName("claim-\(k)"), events: [event("Claimed", ["claim:\(k)"])])], condition: conditions[k]))
                        return (k, nil)
                    } catch let error as ChronicleError where error.code == .appendConditionFailed {
                        guard case .integer(let position)? = error.details["position"] else { return (k, -1) }
                        return (k, position)
                    }
                }
            }
            var outcomes: [Int: Int64?] = [:]
            for try await (k, failure) in group { outcomes[k] = failure }
            return outcomes
        }
        for k in 0..<count {
            if passes(k) {
                #expect(outcomes[k] == .some(nil), "claim \(k) passes")
            } else {
                #expect(outcomes[k] == .some(seeds[k]), "claim \(k) fails naming its seed")
            }
        }
        let claimed = try await store.readLog(after: 0, limit: 1000).events.filter { $0.type == "Claimed" }
        #expect(Set(claimed.map(\.stream.rawValue)) == Set((0..<count).filter(passes).map { "claim-\($0)" }))
    }
}
