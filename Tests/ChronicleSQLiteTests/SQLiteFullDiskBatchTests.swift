import ChronicleCore
import ChronicleSQLite
import ChronicleTestSupport
import Foundation
import Synchronization
import Testing

/// A full disk in the middle of group commit: many appends share one transaction, and when it
/// cannot be written each of them is refused, whole, and none of them is half stored.
@Suite("SQLite: a full disk fails a whole group-commit batch")
struct SQLiteFullDiskBatchTests {
    /// What one writer's appends came to.
    struct Outcome: Sendable {
        var stored: [[UUID]] = []
        var refused: [[UUID]] = []
        var otherErrors: [String] = []
    }

    @Test("64 writers fill the store (its configured maximum size stands in for the disk): every append is stored whole or refused with storage-full, storing none of its events; the log verifies, and appends work again once there is room")
    func fullDiskDuringGroupCommit() async throws {
        try await withSQLiteStore(.init(maximumSize: 512 * 1024)) { store, path in
            let payload = String(repeating: "x", count: 2 * 1024)
            let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
                for writer in 0..<64 {
                    group.addTask {
                        var outcome = Outcome()
                        // Each append: three events to one stream, all or nothing.
                        for index in 0..<200 {
                            let events = (0..<3).map { part in EventData(type: "Filled", data: ["blob": .string(payload), "part": .integer(Int64(part))]) }
                            do {
                                _ = try await store.append(to: StreamName("fill-\(writer)-\(index)"), events)
                                outcome.stored.append(events.map(\.id))
                            } catch let error as ChronicleError where error.code == .storageFull {
                                outcome.refused.append(events.map(\.id))
                                // Refused once full: try twice more, then stop.
                                if outcome.refused.count >= 3 { break }
                            } catch {
                                outcome.otherErrors.append("\(error)")
                                break
                            }
                        }
                        return outcome
                    }
                }
                var all: [Outcome] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let stored = outcomes.flatMap(\.stored), refused = outcomes.flatMap(\.refused)
            #expect(outcomes.flatMap(\.otherErrors).isEmpty, "only storage-full refusals: \(outcomes.flatMap(\.otherErrors).prefix(3))")
            #expect(!stored.isEmpty && refused.count >= 64, "the store filled up: \(stored.count) appends stored, \(refused.count) refused")
            let statistics = store.commitStatistics
            #expect(statistics.commits < statistics.operations, "appends were committed in batches: \(statistics.commits) commits for \(statistics.operations) operations")

            // Exactly the acknowledged events are stored, each append whole; no refused event is.
            var logged: [UUID] = []
            var after: Int64 = 0
            while true {
                let page = try await store.readLog(after: after, limit: 1_000)
                logged += page.events.map(\.id)
                guard let last = page.events.last else { break }
                after = last.position
            }
            #expect(Set(logged) == Set(stored.flatMap { $0 }), "the log holds exactly the acknowledged events")
            #expect(logged.count == stored.count * 3)
            #expect(Set(logged).isDisjoint(with: Set(refused.flatMap { $0 })), "no event of a refused append is stored")
            #expect(try await store.headPosition() == Int64(stored.count * 3))
            #expect(try await store.verify().isIntact)

            // Room again (here, no limit): the same store file takes appends, and still verifies.
            let reopened = try SQLiteEventStore(directory: path, logger: testLogger)
            #expect(try await reopened.headPosition() == Int64(stored.count * 3))
            let retried = try #require(refused.first)
            let events = retried.map { EventData(id: $0, type: "Filled", data: ["retried": true]) }
            _ = try await reopened.append(to: StreamName("fill-retried"), events)
            #expect(try await reopened.headPosition() == Int64(stored.count * 3 + 3), "a refused append, sent again, is stored")
            #expect(try await reopened.verify().isIntact)
        }
    }
}
