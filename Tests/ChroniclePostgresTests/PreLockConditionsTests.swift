import ChronicleCore
@testable import ChroniclePostgres
import Foundation
import Testing

/// What a commit may conclude under the write lock from its conditions' checks made before
/// it: every case that is not sure goes back to a check under the lock.
@Suite("PostgreSQL store: append conditions checked before the write lock")
struct PreLockConditionsTests {
    static let query = DCBQuery([.init(tags: ["user:ada", "course:c1"])])
    static let key = ConditionKey(query: query, after: 0)
    static let headHash = hash(7)

    static func hash(_ byte: UInt8) -> EventHash {
        EventHash(bytes: [UInt8](repeating: byte, count: 32))!
    }

    static func event(_ position: Int64, tags: [String]) -> RecordedEvent {
        RecordedEvent(
            id: UUID(), stream: StreamName(stored: "s-\(position)"), type: "T", revision: 0, position: position,
            recordedAtMicroseconds: 0, dataJSON: "{}", metadataJSON: "{}", hash: hash(UInt8(position % 200)), tags: tags
        )
    }

    /// The store's last commit appended positions 11…13; only 12 matches the query.
    static let recent = PostgresRecentCommit.Record(
        after: 10, head: 13, headHash: headHash,
        events: [event(11, tags: ["user:ada"]), event(12, tags: ["course:c1", "user:ada", "x:y"]), event(13, tags: ["course:c1"])]
    )

    static func resolve(_ early: PreLockConditions.Early, key: ConditionKey = key, head: Int64 = 13, hash: EventHash = headHash, recent: PostgresRecentCommit.Record? = recent) -> PreLockConditions {
        PreLockConditions.resolve([key: early], head: head, hash: hash, recent: recent)
    }

    @Test("a condition checked at the head it finds under the lock passes without another check")
    func unchangedHead() {
        #expect(Self.resolve(.init(match: nil, head: 13)) == PreLockConditions(known: [Self.key: Optional<Int64>.none]))
    }

    @Test("the events since the check are the last commit's: checked in memory, first match found")
    func windowFromRecentCommit() {
        #expect(Self.resolve(.init(match: nil, head: 10)) == PreLockConditions(known: [Self.key: .some(12)]))
        // Checked at 12 already: only 13 is new, and it does not match.
        #expect(Self.resolve(.init(match: nil, head: 12)) == PreLockConditions(known: [Self.key: Optional<Int64>.none]))
        // The condition's own `after` excludes 12.
        let later = ConditionKey(query: Self.query, after: 12)
        #expect(Self.resolve(.init(match: nil, head: 10), key: later) == PreLockConditions(known: [later: Optional<Int64>.none]))
    }

    @Test("anything not sure is checked again under the lock")
    func recheck() {
        let again = PreLockConditions(recheck: [Self.key])
        // A match before the lock: checked again (a purge may have removed it).
        #expect(Self.resolve(.init(match: 3, head: 10)) == again)
        // No record of the commits since.
        #expect(Self.resolve(.init(match: nil, head: 10), recent: nil) == again)
        // The record ends elsewhere, or another event is at the head (another node's commit).
        #expect(Self.resolve(.init(match: nil, head: 10), head: 14) == again)
        #expect(Self.resolve(.init(match: nil, head: 10), hash: Self.hash(8)) == again)
        // The record starts after the check's head: positions 9…10 are not known.
        #expect(Self.resolve(.init(match: nil, head: 8)) == again)
        // A head ahead of the one under the lock cannot be trusted.
        #expect(Self.resolve(.init(match: nil, head: 14), head: 13) == again)
    }

    @Test("a commit that purged a stream, or appended too much, is not recorded")
    func recordKeptOnlyForPlainAppends() {
        let inserts = (5...7).map { PostgresSnapshotTransaction.Write.insert(Self.event($0, tags: [])) }
        #expect(PostgresRecentCommit.Record(inserts, after: 4, head: 7, headHash: Self.headHash)?.events.map(\.position) == [5, 6, 7])
        #expect(PostgresRecentCommit.Record([], after: 4, head: 4, headHash: Self.headHash)?.events.isEmpty == true)
        #expect(PostgresRecentCommit.Record(inserts + [.purge(StreamName(stored: "s-5"))], after: 4, head: 7, headHash: Self.headHash) == nil)
        let many = (1...Int64(PostgresRecentCommit.maximumEvents + 1)).map { PostgresSnapshotTransaction.Write.insert(Self.event($0, tags: [])) }
        #expect(PostgresRecentCommit.Record(many, after: 0, head: Int64(many.count), headHash: Self.headHash) == nil)
        #expect(PostgresRecentCommit.Record(Array(many.dropLast()), after: 0, head: Int64(many.count - 1), headHash: Self.headHash) != nil)
    }
}
