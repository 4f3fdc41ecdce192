import ChronicleCore
import ChronicleTesting
import Synchronization
import Testing

/// A stand-in for a store's head read: counts the reads, how many run at once, and returns
/// the head that "another process" committed.
final class HeadReads: Sendable {
    private struct State {
        var reads = 0
        var inFlight = 0
        var mostAtOnce = 0
        var externalHead: Int64 = 0
        var returned = 0
    }

    private let state = Mutex(State())
    let notifier: CommitNotifier

    init(_ notifier: CommitNotifier) { self.notifier = notifier }

    var reads: Int { state.withLock { $0.reads } }
    var mostAtOnce: Int { state.withLock { $0.mostAtOnce } }
    /// Waits that have returned.
    var returned: Int { state.withLock { $0.returned } }

    func commitElsewhere(_ head: Int64) { state.withLock { $0.externalHead = head } }

    /// Reads the head as a store does: announces it to the notifier and returns it. It
    /// yields a few times, so that reads made by several waiters would overlap.
    func read() async -> Int64 {
        state.withLock { state in
            state.reads += 1
            state.inFlight += 1
            state.mostAtOnce = max(state.mostAtOnce, state.inFlight)
        }
        for _ in 0..<20 { await Task.yield() }
        let head = state.withLock { state -> Int64 in
            state.inFlight -= 1
            return state.externalHead
        }
        notifier.advance(to: head)
        return head
    }

    func wait(after position: Int64, interval: Duration = .milliseconds(2)) async throws {
        try await notifier.wait(after: position, polling: interval) { await self.read() }
        state.withLock { $0.returned += 1 }
    }
}

func pollUntil(_ what: String, seconds: Double = 60, _ condition: @escaping @Sendable () -> Bool) async throws {
    try await withDeadline(seconds: seconds, what) {
        while !condition() { try await Task.sleep(for: .milliseconds(5)) }
    }
}

@Suite("one shared poll per store for commits of other processes")
struct SharedCommitPollTests {
    @Test("many waiters make one head read at a time, and all wake when another process commits")
    func oneReadAtATime() async throws {
        let reads = HeadReads(CommitNotifier())
        let waiters = 200
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<waiters {
                group.addTask { try await reads.wait(after: 0) }
            }
            try await pollUntil("every waiter to wait") { reads.notifier.waiterCount >= waiters - 1 }
            // Many polling rounds: with a read per waiter per interval, the reads would overlap.
            // The bound is for a loaded machine, whose test process shares two cores with
            // hundreds of other tests (it took over 60 s there twice).
            let before = reads.reads
            try await pollUntil("20 polling rounds", seconds: 240) { reads.reads >= before + 20 }
            #expect(reads.mostAtOnce == 1, "\(reads.mostAtOnce) head reads ran at once; one poll is shared by all \(waiters) waiters")
            reads.commitElsewhere(1)
            try await pollUntil("every waiter to see the other process's commit") { reads.returned == waiters }
        }
        #expect(reads.notifier.waiterCount == 0)
    }

    @Test("a commit in this process wakes every waiter at once, without a head read")
    func inProcessCommit() async throws {
        let reads = HeadReads(CommitNotifier())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                // An hour between polls: only the announcement can wake them in time.
                group.addTask { try await reads.wait(after: 0, interval: .seconds(3600)) }
            }
            try await pollUntil("every waiter to wait") { reads.notifier.waiterCount >= 49 }
            reads.notifier.advance(to: 1)
            try await pollUntil("every waiter to wake") { reads.returned == 50 }
        }
        #expect(reads.reads == 0)
    }

    @Test("when the polling waiter leaves, another takes over the poll")
    func handOver() async throws {
        let reads = HeadReads(CommitNotifier())
        // The first waiter is alone, so it polls.
        let first = Task { try await reads.wait(after: 0) }
        try await pollUntil("the first waiter to poll") { reads.reads >= 1 }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask { try await reads.wait(after: 0) }
            }
            try await pollUntil("the others to wait") { reads.notifier.waiterCount >= 10 }
            first.cancel()
            try await withDeadline(seconds: 60, "the cancelled waiter to return") { try await first.value }
            // Two more reads: one waiter took the poll over and goes on. The bound is the one
            // of the 20 rounds above (a loaded machine took over 30 s for 5 rounds here once:
            // each read yields 20 times to a cooperative pool shared with hundreds of tests).
            let before = reads.reads
            try await pollUntil("another waiter to go on polling", seconds: 240) { reads.reads >= before + 2 }
            #expect(reads.mostAtOnce == 1)
            reads.commitElsewhere(1)
            try await pollUntil("the waiters to see the commit") { reads.returned == 11 }
        }
    }
}
