import ChronicleCore
@testable import ChroniclePostgres
import ChronicleTestSupport
import ChronicleTesting
import Synchronization
import Testing

/// The write queue's pipeline without a database: commits that a test holds open and lets
/// go, to see which batch starts when.
@Suite("PostgreSQL store: the write queue's pipeline")
struct PostgresWriteQueueTests {
    /// A commit function that records what it was given, hands off when the test says so,
    /// and ends when the test opens its batch's gate (batches are named by their first
    /// operation).
    final class Script: Sendable {
        private let log = Mutex<[String]>([])
        private let gates = Mutex<[Int: Gate]>([:])
        private let handOffs = Mutex<[Int: Gate]>([:])

        func gate(_ first: Int) -> Gate { Self.gate(first, in: gates) }
        func handOffGate(_ first: Int) -> Gate { Self.gate(first, in: handOffs) }
        private static func gate(_ first: Int, in gates: borrowing Mutex<[Int: Gate]>) -> Gate {
            gates.withLock { gates in
                if let gate = gates[first] { return gate }
                let gate = Gate()
                gates[first] = gate
                return gate
            }
        }
        var entries: [String] { log.withLock { $0 } }

        func commit(_ batch: [Int], handOff: @escaping @Sendable () -> Void) async -> [Result<Int, any Error>] {
            let first = batch[0]
            // Both gates exist before the log says the batch started.
            let (gate, handOffGate) = (gate(first), handOffGate(first))
            log.withLock { $0.append("start \(batch)") }
            do {
                try await handOffGate.wait(seconds: 120)
                handOff()
                try await gate.wait(seconds: 120)
            } catch {
                log.withLock { $0.append("gave up \(batch)") }
            }
            log.withLock { $0.append("end \(batch)") }
            return batch.map { .success($0 * 10) }
        }
    }

    /// A started queue with depth `depth`, the script, and a way to submit in the background.
    private func withQueue(depth: Int, _ body: (PostgresWriteQueue<Int, Int>, Script, inout [Task<Int, any Error>]) async throws -> Void) async throws {
        let queue = PostgresWriteQueue<Int, Int>(maximumBatchSize: 64, pipelineDepth: depth)
        let script = Script()
        let closing = ChronicleError(.storageFailure, "closed")
        let loop = Task { await queue.run(closing: closing) { batch, handOff in await script.commit(batch, handOff: handOff) } }
        var submissions: [Task<Int, any Error>] = []
        do {
            try await body(queue, script, &submissions)
        } catch {
            for first in 0..<100 { script.gate(first).release(); script.handOffGate(first).release() }
            loop.cancel()
            throw error
        }
        loop.cancel()
        await loop.value
    }

    @Test("depth 2: the next batch starts when the one before hands off, a third waits until one ends, and every caller gets its own outcome")
    func overlapping() async throws {
        try await withQueue(depth: 2) { queue, script, submissions in
            submissions.append(Task { try await queue.submit(1) })
            try await waitUntil("batch 1 started") { script.entries == ["start [1]"] }
            submissions.append(Task { try await queue.submit(2) })
            submissions.append(Task { try await queue.submit(3) })
            try await waitUntil("2 and 3 queued") { queue.pendingCount == 2 }
            // Before batch 1 hands off, nothing else starts.
            try await Task.sleep(for: .milliseconds(50))
            #expect(script.entries == ["start [1]"])
            script.handOffGate(1).release()
            try await waitUntil("the second batch started") { script.entries.count == 2 }
            let second = script.entries[1]
            #expect(second == "start [2, 3]" || second == "start [3, 2]", "\(script.entries)")
            let secondFirst = second == "start [2, 3]" ? 2 : 3
            // Two are committing; a fourth submission waits for one of them to end, even
            // once the second hands off.
            submissions.append(Task { try await queue.submit(4) })
            try await waitUntil("4 queued") { queue.pendingCount == 1 }
            script.handOffGate(secondFirst).release()
            try await Task.sleep(for: .milliseconds(50))
            #expect(script.entries.count == 2, "\(script.entries)")
            script.gate(1).release()
            try await waitUntil("the third batch started") { script.entries.contains("start [4]") }
            #expect(script.entries.prefix(4) == ["start [1]", second, "end [1]", "start [4]"], "\(script.entries)")
            script.handOffGate(4).release()
            script.gate(secondFirst).release()
            script.gate(4).release()
            var outcomes: [Int] = []
            for submission in submissions { outcomes.append(try await submission.value) }
            #expect(outcomes == [10, 20, 30, 40])
            #expect(queue.statistics.commits == 3)
        }
    }

    @Test("depth 1: the next batch starts only when the one before has ended, handed off or not")
    func oneAfterTheOther() async throws {
        try await withQueue(depth: 1) { queue, script, submissions in
            submissions.append(Task { try await queue.submit(1) })
            try await waitUntil("batch 1 started") { script.entries == ["start [1]"] }
            submissions.append(Task { try await queue.submit(2) })
            try await waitUntil("2 queued") { queue.pendingCount == 1 }
            script.handOffGate(1).release()
            try await Task.sleep(for: .milliseconds(50))
            #expect(script.entries == ["start [1]"])
            script.gate(1).release()
            try await waitUntil("batch 2 started") { script.entries.count == 3 }
            #expect(script.entries == ["start [1]", "end [1]", "start [2]"])
            script.handOffGate(2).release()
            script.gate(2).release()
            #expect(try await submissions[0].value == 10)
            #expect(try await submissions[1].value == 20)
        }
    }

    @Test("shut down with a batch committing and one waiting: the committing one ends with its outcome, the waiting one is refused, later ones too")
    func shutdown() async throws {
        let queue = PostgresWriteQueue<Int, Int>(maximumBatchSize: 64, pipelineDepth: 2)
        let script = Script()
        let loop = Task { await queue.run(closing: ChronicleError(.storageFailure, "closed")) { batch, handOff in await script.commit(batch, handOff: handOff) } }
        let first = Task { try await queue.submit(1) }
        try await waitUntil("batch 1 started") { script.entries == ["start [1]"] }
        let second = Task { try await queue.submit(2) }
        try await waitUntil("2 queued") { queue.pendingCount == 1 }
        loop.cancel()
        // The committing batch's caller gets what its commit answered, not the queue's refusal.
        script.handOffGate(1).release()
        script.gate(1).release()
        await loop.value
        #expect(try await first.value == 10)
        await #expect(throws: ChronicleError.self) { try await second.value }
        await #expect(throws: ChronicleError.self) { try await queue.submit(3) }
        #expect(!script.entries.contains("start [2]"))
    }
}
