import ChronicleCore
import ChronicleTesting
import Synchronization
import Testing

/// An await that ignores cancellation and is answered only when the test says so: what a
/// query on a connection that went away looks like to the code awaiting it.
final class UnansweredAwait: Sendable {
    private struct State {
        var waiter: CheckedContinuation<Int, Never>?
        var answer: Int?
    }

    private let state = Mutex(State())

    /// Whether something waits now.
    var isWaiting: Bool { state.withLock { $0.waiter != nil } }

    /// Waits for ``answer(_:)``, whether or not the task is cancelled.
    func wait() async -> Int {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Int? in
                if let answer = state.answer { return answer }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Answers the waiter (now or when it comes).
    func answer(_ value: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Int, Never>? in
            state.answer = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }
}

@Suite("withDeadline: a bound that holds whatever the body does")
struct DeadlineTests {
    @Test("a body that ignores cancellation and is never answered: the wait ends at the deadline, the body still waiting")
    func unansweredBody() async throws {
        let pending = UnansweredAwait()
        defer { pending.answer(0) }
        await #expect(throws: DeadlineExceeded.self) {
            _ = try await withDeadline(seconds: 0.2, "an answer that never comes") { await pending.wait() }
        }
        #expect(pending.isWaiting, "the deadline did not wait for the body")
    }

    @Test("a body that answers in time gives its value; one that throws gives its error")
    func answeredBody() async throws {
        #expect(try await withDeadline(seconds: 60, "a value") { 42 } == 42)
        struct Refused: Error, Equatable {}
        await #expect(throws: Refused()) {
            try await withDeadline(seconds: 60, "an error") { () async throws -> Int in throw Refused() }
        }
    }

    @Test("cancelling the caller cancels the body and ends the wait before the deadline")
    func cancelledCaller() async throws {
        let started = Mutex(false)
        let caller = Task {
            try await withDeadline(seconds: 3600, "a body that sleeps an hour") { () async throws -> Int in
                started.withLock { $0 = true }
                try await Task.sleep(for: .seconds(3600))
                return 1
            }
        }
        try await withDeadline(seconds: 60, "the body to start") {
            while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(2)) }
        }
        caller.cancel()
        let outcome = try await withDeadline(seconds: 60, "the cancelled caller to return") { await caller.result }
        #expect(throws: CancellationError.self) { try outcome.get() }
    }
}
