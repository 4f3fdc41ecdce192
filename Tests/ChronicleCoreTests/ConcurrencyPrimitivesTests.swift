import ChronicleCore
import ChronicleTesting
import Dispatch
import Synchronization
import Testing

/// Records batches and holds the first commit until the test opens the gate.
final class GatedCommits: Sendable {
    let batches = Mutex<[[Int]]>([])
    let entered = Mutex(false)
    let gate = DispatchSemaphore(value: 0)
    let queue = DispatchQueue(label: "chronicle.tests.writer")

    func commit(_ batch: [Int]) -> [Result<Int, any Error>] {
        let first = batches.withLock { batches in
            batches.append(batch)
            return batches.count == 1
        }
        if first {
            entered.withLock { $0 = true }
            // Bounded: a test that fails before opening the gate must not hold the queue forever.
            _ = gate.wait(timeout: .now() + 60)
        }
        return batch.map { $0 < 0 ? .failure(ChronicleError(.invalidInput, "negative")) : .success($0 * 10) }
    }
}

@Suite("Group commit and commit notification")
struct ConcurrencyPrimitivesTests {
    @Test("operations that arrive during a commit are committed together, each with its own outcome")
    func batching() async throws {
        let commits = GatedCommits()
        let committer = GroupCommitter<Int, Int, Void>(
            executor: { job in commits.queue.async { job(()) } },
            commit: { _, batch in commits.commit(batch) }
        )
        try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
            group.addTask { (0, try? await committer.submit(0)) }
            try await poll("the first commit to start") { commits.entered.withLock { $0 } }
            for value in [1, 2, 3, -4, 5] {
                group.addTask { (value, try? await committer.submit(value)) }
            }
            try await poll("five operations to queue") { committer.pendingCount == 5 }
            commits.gate.signal()
            var outcomes: [Int: Int?] = [:]
            for try await (value, result) in group { outcomes[value] = result }
            #expect(outcomes.count == 6)
            #expect(outcomes[0] == 0)
            #expect(outcomes[1] == 10 && outcomes[5] == 50)
            #expect(outcomes[-4] == .some(nil), "the failing operation fails alone")
        }
        let batches = commits.batches.withLock { $0 }
        #expect(batches.count == 2)
        #expect(batches.first == [0])
        #expect(Set(batches.last ?? []) == [1, 2, 3, -4, 5])
        #expect(committer.statistics.commits == 2 && committer.statistics.operations == 6)
    }

    @Test("the notifier wakes waiters at or above their position, and on cancellation")
    func notifier() async throws {
        let notifier = CommitNotifier()
        notifier.advance(to: 3)
        try await withDeadline(seconds: 30, "a waiter below the head to return") { await notifier.wait(after: 2) }

        // Nothing above 5 yet: a wait with a timeout lasts the timeout (it does not return at
        // once), and one that does not time out returns only once the head passes 5.
        notifier.advance(to: 4)
        let clock = ContinuousClock()
        let waited = await clock.measure { await notifier.wait(after: 5, timeout: .milliseconds(200)) }
        #expect(waited >= .milliseconds(200), "returned after \(waited) with the head at 4, below the position waited for")
        let heads = try await withDeadline(seconds: 30, "a wake-up") {
            await withTaskGroup(of: Int64?.self) { group in
                group.addTask {
                    await notifier.wait(after: 5)
                    return notifier.head
                }
                group.addTask {
                    notifier.advance(to: 5)
                    notifier.advance(to: 6)
                    return nil
                }
                return await group.reduce(into: [Int64]()) { if let head = $1 { $0.append(head) } }
            }
        }
        #expect(heads == [6], "the waiter returned only once the head passed 5")
        #expect(notifier.head == 6)
        notifier.advance(to: 2)
        #expect(notifier.head == 6, "the head never goes back")
        let waiter = Task { await notifier.wait(after: 100) }
        waiter.cancel()
        try await withDeadline(seconds: 30, "a cancelled waiter to return") { await waiter.value }
    }
}

func poll(_ what: String, seconds: Double = 30, _ condition: @escaping @Sendable () -> Bool) async throws {
    try await withDeadline(seconds: seconds, what) {
        while !condition() {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
