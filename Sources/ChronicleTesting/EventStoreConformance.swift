import ChronicleCore
import Foundation
import Testing

/// The conformance suite every ``EventStore`` backend passes.
///
/// Run it from a test target with a factory for fresh stores:
///
/// ```swift
/// @Test(arguments: EventStoreConformance.cases)
/// func conformance(_ check: ConformanceCase) async throws {
///     try await check.run(InMemoryEventStore())
/// }
/// ```
public enum EventStoreConformance {
    /// Every check, in a stable order.
    public static let cases: [ConformanceCase] = [
        ConformanceCase("append and read back", run: appendAndReadBack),
        ConformanceCase("expected revisions of every kind", run: expectations),
        ConformanceCase("one winner among 50 concurrent appends with the same expectation", run: concurrentSameExpectation),
        ConformanceCase("multi-stream appends are all or nothing", run: multiStreamAtomicity),
        ConformanceCase("idempotent retries", run: idempotentRetries),
        ConformanceCase("retries among 40 concurrent new appends get their original results; the new ones are stored", run: retriesAmongConcurrentAppends),
        ConformanceCase("read paging forwards and backwards", run: readPaging),
        ConformanceCase("log paging and filters (types, categories, correlation)", run: logFilters),
        ConformanceCase("subscription catches up, goes live, filters and resumes", run: subscriptionCatchUpAndLive),
        ConformanceCase("subscription sees every event once, in order, with 8 concurrent writers", run: subscriptionWithConcurrentWriters),
        ConformanceCase("soft delete", run: softDelete),
        ConformanceCase("hard delete", run: hardDelete),
        ConformanceCase("hash chain verifies and matches the canonical encoding", run: hashChain),
        ConformanceCase("bad input is refused and stores nothing", run: badInputs),
    ]

    static func name(_ text: String) -> StreamName { try! StreamName(text) }

    static func event(_ type: String = "Happened", _ data: JSONValue = ["n": 1], id: UUID = UUID()) -> EventData {
        EventData(id: id, type: type, data: data, metadata: ["actor": "conformance"])
    }

    static func expectError(_ code: ChronicleError.Code, _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> ChronicleError? {
        do {
            try await body()
            Issue.record("\(what): expected error \(code), but it succeeded", sourceLocation: sourceLocation)
            return nil
        } catch let error as ChronicleError {
            #expect(error.code == code, "\(what): \(error)", sourceLocation: sourceLocation)
            #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("\(what): expected ChronicleError \(code), got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    static func appendAndReadBack(_ store: any EventStore) async throws {
        #expect(try await store.headPosition() == 0)
        let stream = name("user-1")
        let first = event("UserCreated", ["email": "ada@example.com", "age": 36, "score": 1.5, "tags": ["a", "b"], "nested": ["ok": true, "none": nil]])
        let result = try await store.append(to: stream, [first, event("UserRenamed", ["name": "Ada"])], expected: .noStream)
        #expect(result.firstRevision == 0 && result.lastRevision == 1)
        #expect(result.firstPosition == 1 && result.lastPosition == 2)
        let events = try await store.read(stream)
        #expect(events.map(\.revision) == [0, 1])
        #expect(events.map(\.position) == [1, 2])
        #expect(events[0].id == first.id)
        #expect(events[0].type == "UserCreated")
        #expect(events[0].data == first.data)
        #expect(events[0].metadata == ["actor": "conformance"])
        #expect(events[0].stream == stream && events[0].category == "user")
        #expect(events[0].hash != .zero)
        #expect(abs(events[0].recordedAt.timeIntervalSinceNow) < 600)
        #expect(events[1].recordedAtMicroseconds >= events[0].recordedAtMicroseconds)
        let info = try #require(try await store.info(stream))
        #expect(info.revision == 1 && info.status == .active)
        #expect(try await store.info(name("user-unknown")) == nil)
        #expect(try await store.headPosition() == 2)
        let other = try await store.append(to: name("order-9"), [event()])
        #expect(other.firstRevision == 0 && other.firstPosition == 3)
        _ = await expectError(.streamNotFound, "reading an unknown stream") {
            _ = try await store.read(name("user-unknown"))
        }
    }

    static func expectations(_ store: any EventStore) async throws {
        let stream = name("account-1")
        var error = await expectError(.wrongExpectedRevision, "streamExists on a new stream") {
            try await store.append(to: stream, [event()], expected: .streamExists)
        }
        #expect(error?.actualRevision == nil)
        error = await expectError(.wrongExpectedRevision, "exact(0) on a new stream") {
            try await store.append(to: stream, [event()], expected: .exact(0))
        }
        #expect(error?.actualRevision == nil)
        try await store.append(to: stream, [event()], expected: .noStream)
        error = await expectError(.wrongExpectedRevision, "noStream on an existing stream") {
            try await store.append(to: stream, [event()], expected: .noStream)
        }
        #expect(error?.actualRevision == 0)
        #expect(error?.expectedRevision == .noStream)
        #expect(error?.stream == stream)
        try await store.append(to: stream, [event(), event()], expected: .exact(0))
        error = await expectError(.wrongExpectedRevision, "a stale exact revision") {
            try await store.append(to: stream, [event()], expected: .exact(1))
        }
        #expect(error?.actualRevision == 2)
        try await store.append(to: stream, [event()], expected: .streamExists)
        try await store.append(to: stream, [event()], expected: .any)
        try await store.append(to: name("account-2"), [event()], expected: .any)
        #expect(try await store.info(stream)?.revision == 4)
        #expect(try await store.headPosition() == 6)
    }

    static func concurrentSameExpectation(_ store: any EventStore) async throws {
        let stream = name("counter-1")
        try await store.append(to: stream, [event()], expected: .noStream)
        let outcomes = await withTaskGroup(of: Result<Int64, any Error>.self) { group in
            for index in 0..<50 {
                group.addTask {
                    do {
                        let result = try await store.append(to: stream, [event("Incremented", ["by": .integer(Int64(index))])], expected: .exact(0))
                        return .success(result.lastRevision)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<Int64, any Error>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners == [1])
        for case .failure(let error) in outcomes {
            let chronicle = error as? ChronicleError
            #expect(chronicle?.code == .wrongExpectedRevision, "\(error)")
            #expect(chronicle?.actualRevision ?? -1 >= 1)
        }
        #expect(try await store.read(stream).count == 2)
        #expect(try await store.headPosition() == 2)
    }

    static func multiStreamAtomicity(_ store: any EventStore) async throws {
        let from = name("account-a"), to = name("account-b")
        try await store.append(to: from, [event("Opened")], expected: .noStream)
        _ = await expectError(.wrongExpectedRevision, "second stream's expectation fails") {
            _ = try await store.append(AppendRequest([
                .init(stream: from, expected: .exact(0), events: [event("Debited")]),
                .init(stream: to, expected: .exact(5), events: [event("Credited")]),
            ]))
        }
        #expect(try await store.info(from)?.revision == 0)
        #expect(try await store.info(to) == nil)
        #expect(try await store.headPosition() == 1)
        let result = try await store.append(AppendRequest([
            .init(stream: from, expected: .exact(0), events: [event("Debited"), event("Noted")]),
            .init(stream: to, expected: .noStream, events: [event("Credited")]),
        ]))
        #expect(result.streams.map(\.stream) == [from, to])
        #expect(result.streams[0].firstRevision == 1 && result.streams[0].lastRevision == 2)
        #expect(result.streams[0].firstPosition == 2 && result.streams[0].lastPosition == 3)
        #expect(result.streams[1].firstRevision == 0 && result.streams[1].firstPosition == 4)
        #expect(result.position == 4)
        let log = try await store.readLog(after: 0, limit: 10)
        #expect(log.events.map(\.position) == [1, 2, 3, 4])
    }

    static func idempotentRetries(_ store: any EventStore) async throws {
        let stream = name("payment-1")
        let events = [event("Requested"), event("Approved")]
        let original = try await store.append(to: stream, events, expected: .noStream)
        let retried = try await store.append(to: stream, events, expected: .noStream)
        #expect(retried == original)
        #expect(try await store.read(stream).count == 2)
        #expect(try await store.headPosition() == 2)
        let multi = AppendRequest([
            .init(stream: name("payment-2"), events: [event()]),
            .init(stream: name("payment-3"), events: [event()]),
        ])
        let first = try await store.append(multi)
        let again = try await store.append(multi)
        #expect(again.streams == first.streams)
        #expect(again.replayed && !first.replayed, "a retry says it is one")
        #expect(try await store.headPosition() == 4)
        _ = await expectError(.idempotencyConflict, "same id, different data") {
            try await store.append(to: stream, [event("Requested", ["n": 2], id: events[0].id), events[1]])
        }
        _ = await expectError(.idempotencyConflict, "same id, another stream") {
            try await store.append(to: name("payment-9"), events)
        }
        _ = await expectError(.idempotencyConflict, "part stored, part new") {
            try await store.append(to: stream, [events[0], events[1], event()])
        }
        _ = await expectError(.idempotencyConflict, "a stored id after a new one") {
            try await store.append(to: stream, [event(), events[0]])
        }
        #expect(try await store.headPosition() == 4)
        #expect(try await store.info(name("payment-9")) == nil)
    }

    /// Retries that would pass their checks (no expectation) committed together with new
    /// appends: a backend that finds a retry only when its insert collides must still give
    /// it the original result and store every new append.
    static func retriesAmongConcurrentAppends(_ store: any EventStore) async throws {
        let stored = (0..<10).map { AppendRequest([.init(stream: name("retry-\($0)"), events: [event(), event()])]) }
        var originals: [AppendResult] = []
        for request in stored { originals.append(try await store.append(request)) }
        let results = try await withThrowingTaskGroup(of: (Int, AppendResult).self) { group in
            for index in 0..<50 {
                group.addTask {
                    let request = index % 5 == 0 ? stored[index / 5 % stored.count] : AppendRequest([.init(stream: name("fresh-\(index)"), events: [event()])])
                    return (index, try await store.append(request))
                }
            }
            var results: [Int: AppendResult] = [:]
            for try await (index, result) in group { results[index] = result }
            return results
        }
        for (index, result) in results where index % 5 == 0 {
            #expect(result.replayed && result.streams == originals[index / 5 % stored.count].streams, "retry \(index): \(result)")
        }
        #expect(results.filter { $0.key % 5 != 0 }.allSatisfy { !$0.value.replayed }, "new appends are not retries")
        #expect(try await store.headPosition() == 20 + 40, "each original stored once, each new append once")
        for index in 0..<50 where index % 5 != 0 {
            #expect(try await store.read(name("fresh-\(index)")).count == 1)
        }
    }

    static func readPaging(_ store: any EventStore) async throws {
        let stream = name("page-1")
        try await store.append(to: stream, (0..<25).map { event("E", ["i": .integer(Int64($0))]) })
        let firstPage = try await store.read(stream, from: .start, direction: .forwards, limit: 10)
        #expect(firstPage.map(\.revision) == Array(0..<10))
        let secondPage = try await store.read(stream, from: .revision(10), direction: .forwards, limit: 10)
        #expect(secondPage.map(\.revision) == Array(10..<20))
        let lastPage = try await store.read(stream, from: .revision(20), direction: .forwards, limit: 10)
        #expect(lastPage.map(\.revision) == Array(20..<25))
        #expect(try await store.read(stream, from: .revision(25), direction: .forwards, limit: 10).isEmpty)
        let backwards = try await store.read(stream, from: .end, direction: .backwards, limit: 10)
        #expect(backwards.map(\.revision) == Array((15..<25).reversed()))
        let backwardsFrom = try await store.read(stream, from: .revision(4), direction: .backwards, limit: 10)
        #expect(backwardsFrom.map(\.revision) == [4, 3, 2, 1, 0])
        let startBackwards = try await store.read(stream, from: .start, direction: .backwards, limit: 2)
        #expect(startBackwards.map(\.revision) == [24, 23])
        let beyondBackwards = try await store.read(stream, from: .revision(100), direction: .backwards, limit: 2)
        #expect(beyondBackwards.map(\.revision) == [24, 23])
        let endForwards = try await store.read(stream, from: .end, direction: .forwards, limit: 5)
        #expect(endForwards.map(\.revision) == [24])
        #expect(try await store.read(stream, from: .start, direction: .forwards, limit: 0).isEmpty)
        #expect(try await store.read(stream).map { $0.data["i"] } == (0..<25).map { JSONValue.integer(Int64($0)) })
    }

    static func logFilters(_ store: any EventStore) async throws {
        for index in 0..<10 {
            try await store.append(to: name("user-\(index)"), [event("UserCreated")])
            try await store.append(to: name("order-\(index)"), [event("OrderPlaced"), event("OrderPaid")])
        }
        let all = try await store.readLog(after: 0, limit: 1000)
        #expect(all.events.map(\.position) == Array(1...30))
        #expect(all.scannedThrough == 30)
        var paged: [Int64] = []
        var cursor: Int64 = 0
        while true {
            let page = try await store.readLog(after: cursor, limit: 7, filter: LogFilter())
            if page.events.isEmpty { break }
            paged += page.events.map(\.position)
            cursor = page.scannedThrough
        }
        #expect(paged == Array(1...30))
        let users = try await store.readLog(after: 0, limit: 100, filter: LogFilter(categories: ["user"]))
        #expect(users.events.count == 10 && users.events.allSatisfy { $0.stream.category == "user" })
        let paid = try await store.readLog(after: 0, limit: 100, filter: LogFilter(types: ["OrderPaid"]))
        #expect(paid.events.count == 10 && paid.events.allSatisfy { $0.type == "OrderPaid" })
        let both = try await store.readLog(after: 0, limit: 100, filter: LogFilter(types: ["UserCreated", "OrderPaid"], categories: ["order"]))
        #expect(both.events.count == 10 && both.events.allSatisfy { $0.type == "OrderPaid" })
        let none = try await store.readLog(after: 0, limit: 100, filter: LogFilter(types: ["Nothing"]))
        #expect(none.events.isEmpty && none.scannedThrough == 30)
        let limited = try await store.readLog(after: 5, limit: 3, filter: LogFilter(categories: ["user"]))
        #expect(limited.events.count == 3 && limited.events.allSatisfy { $0.position > 5 })
        #expect(limited.scannedThrough == limited.events.last?.position)
        #expect(try await store.readLog(after: 30, limit: 10).events.isEmpty)
        try await store.append(AppendRequest([
            .init(stream: name("user-0"), events: [EventData(type: "UserRenamed", metadata: ["correlationId": "request-7"])]),
            .init(stream: name("order-0"), events: [EventData(type: "OrderPaid", metadata: ["correlationId": "request-7", "causationId": "x"])]),
        ]))
        try await store.append(to: name("user-1"), [EventData(type: "UserRenamed", metadata: ["correlationId": "request-8"])])
        let correlated = try await store.readLog(after: 0, limit: 100, filter: LogFilter(correlation: "request-7"))
        #expect(correlated.events.map(\.position) == [31, 32] && correlated.scannedThrough == 33)
        #expect(try await store.readLog(after: 0, limit: 100, filter: LogFilter(types: ["OrderPaid"], correlation: "request-7")).events.map(\.position) == [32])
        #expect(try await store.readLog(after: 0, limit: 100, filter: LogFilter(correlation: "nothing")).events.isEmpty)
    }

    static func subscriptionCatchUpAndLive(_ store: any EventStore) async throws {
        for index in 0..<5 {
            try await store.append(to: name("item-\(index)"), [event("ItemAdded")])
            try await store.append(to: name("noise-\(index)"), [event("Noise")])
        }
        let filter = LogFilter(categories: ["item"])
        let received = try await withDeadline(seconds: 60, "10 item events") {
            var seen: [RecordedEvent] = []
            for try await received in store.subscribe(after: 0, filter: filter, batchSize: 2) {
                seen.append(received)
                if seen.count == 5 {
                    for index in 5..<10 {
                        try await store.append(to: name("noise-\(index)"), [event("Noise")])
                        try await store.append(to: name("item-\(index)"), [event("ItemAdded")])
                    }
                }
                if seen.count == 10 { break }
            }
            return seen
        }
        #expect(received.map(\.stream.category) == Array(repeating: "item", count: 10))
        #expect(received.map(\.position) == received.map(\.position).sorted())
        #expect(Set(received.map(\.id)).count == 10)
        let resumeAfter = received[6].position
        let resumed = try await withDeadline(seconds: 60, "resumed events") {
            var seen: [RecordedEvent] = []
            for try await received in store.subscribe(after: resumeAfter, filter: filter) {
                seen.append(received)
                if seen.count == 3 { break }
            }
            return seen
        }
        #expect(resumed.map(\.id) == received[7...].map(\.id))
    }

    private enum Delivered: Sendable {
        case subscriber([UUID])
        case writer([UUID])
    }

    static func subscriptionWithConcurrentWriters(_ store: any EventStore) async throws {
        try await store.append(to: name("before-1"), [event(), event()])
        let writers = 8, perWriter = 40
        let expected = 2 + writers * perWriter
        let outcomes = try await withDeadline(seconds: 120, "\(expected) events through a subscription") {
            try await withThrowingTaskGroup(of: Delivered.self) { group in
                group.addTask {
                    var seen: [UUID] = []
                    for try await event in store.subscribe(after: 0, batchSize: 16) {
                        seen.append(event.id)
                        if seen.count == expected { break }
                    }
                    return .subscriber(seen)
                }
                for writer in 0..<writers {
                    group.addTask {
                        var ids: [UUID] = []
                        for index in 0..<perWriter {
                            let next = event("W", ["w": .integer(Int64(writer)), "i": .integer(Int64(index))])
                            ids.append(next.id)
                            let expectation: ExpectedRevision = index == 0 ? .noStream : .exact(Int64(index - 1))
                            try await store.append(to: name("writer-\(writer)"), [next], expected: expectation)
                        }
                        return .writer(ids)
                    }
                }
                var all: [Delivered] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
        }
        var received: [UUID] = []
        var appended: [UUID] = []
        for outcome in outcomes {
            switch outcome {
            case .subscriber(let ids): received = ids
            case .writer(let ids): appended += ids
            }
        }
        #expect(received.count == expected)
        #expect(Set(received).count == expected, "an event was delivered twice")
        let log = try await store.readLog(after: 0, limit: expected + 10)
        #expect(log.events.map(\.id) == received, "subscription order differs from the log's position order")
        #expect(Set(appended).isSubset(of: Set(received)))
        for writer in 0..<writers {
            let events = try await store.read(name("writer-\(writer)"))
            #expect(events.map { $0.data["i"] } == (0..<perWriter).map { JSONValue.integer(Int64($0)) })
        }
    }

    static func softDelete(_ store: any EventStore) async throws {
        let stream = name("cart-1")
        try await store.append(to: stream, [event("ItemAdded"), event("ItemAdded")])
        _ = await expectError(.wrongExpectedRevision, "delete with a stale revision") {
            _ = try await store.delete(stream, mode: .soft, expected: .exact(0))
        }
        let deleted = try await store.delete(stream, mode: .soft, expected: .exact(1))
        #expect(deleted.revision == 1 && deleted.position == 3)
        #expect(try await store.info(stream)?.status == .softDeleted)
        _ = await expectError(.streamNotFound, "reading a soft-deleted stream") {
            _ = try await store.read(stream)
        }
        _ = await expectError(.streamNotFound, "soft-deleting twice") {
            _ = try await store.delete(stream, mode: .soft, expected: .any)
        }
        let log = try await store.readLog(after: 0, limit: 10)
        let marker = try #require(log.events.last)
        #expect(marker.type == "$streamDeleted" && marker.stream.rawValue == "$streams")
        #expect(marker.data == ["stream": "cart-1", "mode": "soft", "revision": 1])
        _ = await expectError(.wrongExpectedRevision, "streamExists on a soft-deleted stream") {
            try await store.append(to: stream, [event()], expected: .streamExists)
        }
        let revived = try await store.append(to: stream, [event("ItemAdded")], expected: .noStream)
        #expect(revived.firstRevision == 2, "the revision continues after a soft delete")
        #expect(try await store.info(stream)?.status == .active)
        #expect(try await store.read(stream).map(\.revision) == [0, 1, 2])
        _ = await expectError(.streamNotFound, "deleting an unknown stream") {
            _ = try await store.delete(name("cart-unknown"), mode: .soft, expected: .any)
        }
        _ = await expectError(.invalidInput, "deleting a reserved stream") {
            _ = try await store.delete(StreamName.deletions, mode: .hard, expected: .any)
        }
        #expect(try await store.verify().isIntact)
    }

    static func hardDelete(_ store: any EventStore) async throws {
        let secret = name("person-1"), kept = name("person-2")
        let personal = [event("PersonRegistered", ["name": "Ada"]), event("PersonMoved", ["city": "London"])]
        try await store.append(to: secret, personal)
        try await store.append(to: kept, [event("PersonRegistered", ["name": "Grace"])])
        try await store.append(to: secret, [event("PersonMoved", ["city": "Paris"])])
        let deleted = try await store.delete(secret, mode: .hard, expected: .exact(2))
        #expect(deleted.position == 5)
        #expect(try await store.info(secret)?.status == .tombstoned)
        _ = await expectError(.streamDeleted, "reading a hard-deleted stream") {
            _ = try await store.read(secret)
        }
        _ = await expectError(.streamDeleted, "writing a hard-deleted stream") {
            try await store.append(to: secret, [event()], expected: .any)
        }
        _ = await expectError(.streamDeleted, "retrying a purged append") {
            try await store.append(to: secret, personal)
        }
        _ = await expectError(.streamDeleted, "deleting again") {
            _ = try await store.delete(secret, mode: .hard, expected: .any)
        }
        let log = try await store.readLog(after: 0, limit: 100)
        #expect(!log.events.contains { $0.stream == secret }, "purged events still in the log")
        #expect(log.events.map(\.position) == [3, 5])
        #expect(try await store.read(kept).count == 1)
        try await store.append(to: name("person-3"), [event()])
        let report = try await store.verify()
        #expect(report.isIntact, "\(report.problem ?? "")")
        #expect(report.purgedEvents == 3 && report.verifiedEvents == 3 && report.headPosition == 6)
        let soft = name("person-4")
        try await store.append(to: soft, [event()])
        _ = try await store.delete(soft, mode: .soft, expected: .any)
        _ = try await store.delete(soft, mode: .hard, expected: .any)
        #expect(try await store.info(soft)?.status == .tombstoned)
        #expect(try await store.verify().isIntact)
    }

    static func hashChain(_ store: any EventStore) async throws {
        #expect(try await store.verify() == VerificationReport(verifiedEvents: 0, purgedEvents: 0, headPosition: 0))
        for index in 0..<20 {
            try await store.append(to: name("chain-\(index % 3)"), [event("Linked", ["text": "line\n\"quoted\" \u{1F600}", "i": .integer(Int64(index))])])
        }
        let events = try await store.readLog(after: 0, limit: 100).events
        var previous = HashChain.genesis
        for event in events {
            #expect(event.hash == HashChain.hash(previous: previous, event: event), "hash of position \(event.position)")
            previous = event.hash
        }
        let report = try await store.verify()
        #expect(report.isIntact && report.verifiedEvents == 20 && report.headPosition == 20)
    }

    static func badInputs(_ store: any EventStore) async throws {
        for bad in ["", "user 1", "user-\n1", "tab\there", String(repeating: "x", count: 201), "$streams", "bell\u{07}"] {
            _ = await expectError(.invalidInput, "stream name \(bad.debugDescription)") {
                _ = try StreamName(bad)
            }
        }
        #expect(try StreamName(String(repeating: "x", count: 200)).rawValue.count == 200)
        #expect(try StreamName("user-ünïcødé-✓").category == "user")
        let stream = name("bad-1")
        let cases: [(ChronicleError.Code, String, AppendRequest)] = [
            (.invalidInput, "empty append", AppendRequest([])),
            (.invalidInput, "stream part with no events", AppendRequest([.init(stream: stream, events: [])])),
            (.invalidInput, "array data", AppendRequest([.init(stream: stream, events: [EventData(type: "T", data: [1, 2])])])),
            (.invalidInput, "string data", AppendRequest([.init(stream: stream, events: [EventData(type: "T", data: "text")])])),
            (.invalidInput, "null metadata", AppendRequest([.init(stream: stream, events: [EventData(type: "T", data: [:], metadata: nil)])])),
            (.invalidInput, "infinite number", AppendRequest([.init(stream: stream, events: [EventData(type: "T", data: ["x": .double(.infinity)])])])),
            (.invalidInput, "empty type", AppendRequest([.init(stream: stream, events: [EventData(type: "", data: [:])])])),
            (.invalidInput, "type with a space", AppendRequest([.init(stream: stream, events: [EventData(type: "User Created", data: [:])])])),
            (.invalidInput, "reserved type", AppendRequest([.init(stream: stream, events: [EventData(type: "$streamDeleted", data: [:])])])),
            (.payloadTooLarge, "oversize event", AppendRequest([.init(stream: stream, events: [EventData(type: "T", data: ["blob": .string(String(repeating: "x", count: 1 << 20))])])])),
            (.payloadTooLarge, "too many events", AppendRequest([.init(stream: stream, events: (0...10_000).map { _ in EventData(type: "T") })])),
            (.invalidInput, "same stream twice", AppendRequest([.init(stream: stream, events: [event()]), .init(stream: stream, events: [event()])])),
            (.invalidInput, "same id twice", { let e = event(); return AppendRequest([.init(stream: stream, events: [e, e])]) }()),
            (.invalidInput, "reserved stream", AppendRequest([.init(stream: StreamName.deletions, events: [event()])])),
        ]
        for (code, what, request) in cases {
            _ = await expectError(code, what) {
                _ = try await store.append(request)
            }
        }
        #expect(try await store.headPosition() == 0, "a refused append stored something")
        #expect(try await store.info(stream) == nil)
        let fine = try await store.append(to: stream, [EventData(type: "T", data: ["blob": .string(String(repeating: "x", count: 1000))])])
        #expect(fine.firstPosition == 1)
    }
}
