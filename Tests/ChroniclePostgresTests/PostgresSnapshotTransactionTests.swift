import ChronicleCore
@testable import ChroniclePostgres
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import Testing

/// The in-memory transaction a write batch runs ``LogWriter`` against: no database needed.
@Suite("PostgreSQL store: the write batch's snapshot")
struct PostgresSnapshotTransactionTests {
    let stream = try! StreamName("user-1")

    func append(_ events: [EventData], expected: ExpectedRevision = .any) throws -> PreparedAppend {
        try AppendRequest([.init(stream: stream, expected: expected, events: events)]).prepared(limits: EventStoreLimits())
    }

    @Test("what was not read ahead is asked for, and a second run over it succeeds")
    func asksForMissingData() throws {
        let request = try append([EventData(type: "UserCreated")], expected: .noStream)
        var writer = LogWriter()
        var snapshot = PostgresSnapshotTransaction()
        var transaction = snapshot
        do {
            _ = try writer.append(request, in: &transaction, now: 1)
            Issue.record("an empty snapshot answered for a stream it never read")
        } catch let need as NeedsData {
            #expect(need.streams == [stream])
        }
        snapshot.learn(streams: [stream: StreamInfo?.none], events: [request.streams[0].events[0].id: RecordedEvent?.none])
        writer = LogWriter()
        transaction = snapshot
        let result = try writer.append(request, in: &transaction, now: 1)
        #expect(result.streams[0].firstPosition == 1)
        #expect(transaction.writes.count == 1)
        guard case .insert(let inserted)? = transaction.writes.first else { Issue.record("no insert: \(transaction.writes)"); return }
        #expect(inserted.stream == stream && inserted.revision == 0 && inserted.position == 1 && inserted.type == "UserCreated")
        #expect(transaction.unknown(NeedsData(streams: [stream], events: [request.streams[0].events[0].id])).isEmpty, "what it asked for is known now")

        // The batch keeps the transaction the operation succeeded on: the next operation sees
        // its write (the stream exists), without reading the database again.
        var next = transaction
        let duplicate = try append([EventData(type: "UserCreated")], expected: .noStream)
        let second = try append([EventData(type: "UserRenamed")], expected: .exact(0))
        next.learn(streams: [:], events: [duplicate.streams[0].events[0].id: RecordedEvent?.none, second.streams[0].events[0].id: RecordedEvent?.none])
        var attempt = next, refusing = writer
        #expect {
            _ = try refusing.append(duplicate, in: &attempt, now: 2)
        } throws: { error in
            (error as? ChronicleError)?.code == .wrongExpectedRevision
        }
        #expect(try writer.append(second, in: &next, now: 2).streams[0].firstPosition == 2)
        #expect(next.writes.count == 2)
    }

    @Test("a retry is answered from the stored events it read; a stored id with other content is a conflict")
    func idempotency() throws {
        let created = EventData(type: "UserCreated", data: ["n": 1])
        let request = try append([created], expected: .noStream)
        var writer = LogWriter()
        var first = PostgresSnapshotTransaction()
        first.learn(streams: [stream: StreamInfo?.none], events: [created.id: RecordedEvent?.none])
        let original = try writer.append(request, in: &first, now: 5)
        guard case .insert(let stored) = first.writes[0] else { Issue.record("no insert"); return }

        var retry = PostgresSnapshotTransaction()
        retry.learn(streams: [stream: StreamInfo(stream: stream, revision: 0, status: .active)], events: [created.id: stored])
        var later = writer
        let replayed = try later.append(request, in: &retry, now: 6)
        #expect(replayed.streams == original.streams && replayed.replayed)
        #expect(retry.writes.isEmpty)

        let changed = try append([EventData(id: created.id, type: "UserCreated", data: ["n": 2])])
        var conflict = retry
        #expect(throws: ChronicleError.self) { try later.append(changed, in: &conflict, now: 7) }
    }

    @Test("a hard delete records the purge and the tombstone; reviving a soft-deleted stream removes its row")
    func deletions() throws {
        var writer = LogWriter()
        var snapshot = PostgresSnapshotTransaction()
        snapshot.learn(streams: [stream: StreamInfo(stream: stream, revision: 3, status: .active), .deletions: StreamInfo?.none], events: [:])
        _ = try writer.delete(stream, mode: .hard, expected: .exact(3), in: &snapshot, now: 1)
        guard case .purge(let purged) = snapshot.writes[0] else { Issue.record("no purge first"); return }
        #expect(purged == stream)
        #expect(snapshot.deletionChanges.upserts.map(\.status) == [.tombstoned])

        var revived = PostgresSnapshotTransaction()
        let request = try append([EventData(type: "UserCreated")], expected: .noStream)
        revived.learn(streams: [stream: StreamInfo(stream: stream, revision: 3, status: .softDeleted)], events: [request.streams[0].events[0].id: RecordedEvent?.none])
        var other = LogWriter()
        #expect(try other.append(request, in: &revived, now: 1).streams[0].firstRevision == 4)
        #expect(revived.deletionChanges.removals == [stream])
    }

    @Test("documents: one not read ahead is asked for; the projection folds onto it; a unique value held in the batch is seen")
    func documents() throws {
        let counter = try StreamName("counter-1")
        let increment = try AppendRequest([.init(stream: counter, events: [EventData(type: "Incremented", data: ["by": 2])])]).prepared(limits: EventStoreLimits())
        let key = DocumentKey(projection: "counters", entity: "counter", id: "1")
        var writer = LogWriter()
        let projections = [ProjectionRegistration(CounterProjection())]
        var snapshot = PostgresSnapshotTransaction(projections: projections)
        snapshot.learn(streams: [counter: StreamInfo?.none], events: [increment.streams[0].events[0].id: RecordedEvent?.none])
        var transaction = snapshot
        do {
            _ = try writer.append(increment, in: &transaction, now: 1, projections: projections)
            Issue.record("the document was never read")
        } catch let need as NeedsData {
            #expect(need.documents == [key])
        }
        let stored = Document(entity: "counter", id: "1", state: ["count": 5], version: 0, position: 1, updatedAtMicroseconds: 0)
        snapshot.learn(streams: [:], events: [:], documents: [key: stored])
        writer = LogWriter()
        transaction = snapshot
        _ = try writer.append(increment, in: &transaction, now: 1, projections: projections)
        transaction = transaction.scoped(to: "counters")
        #expect(try transaction.document(entity: "counter", id: "1")?.state == ["count": 7])
        #expect(transaction.documentChanges.upserts.map(\.document.state) == [["count": 7]])
        #expect(transaction.documentChanges.upserts.map(\.projection) == ["counters"])

        #expect(throws: NeedsData.self) { try transaction.holder(entity: "counter", field: "count", value: 7) }
        transaction.learn(streams: [:], events: [:], holders: [HolderKey(projection: "counters", entity: "counter", field: "count", value: 7): []])
        #expect(try transaction.holder(entity: "counter", field: "count", value: 7) == "1", "the batch's own change is seen")
        transaction.learn(streams: [:], events: [:], holders: [HolderKey(projection: "counters", entity: "counter", field: "count", value: 5): ["1"]])
        #expect(try transaction.holder(entity: "counter", field: "count", value: 5) == nil, "a stored holder whose document changed no longer holds")
    }
}
