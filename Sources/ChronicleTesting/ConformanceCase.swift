import ChronicleCore
import Synchronization
import Testing

/// One check of the event-store conformance suite, run against a fresh, empty store.
public struct ConformanceCase: Sendable, CustomTestStringConvertible, CustomStringConvertible {
    /// What the check is about.
    public let name: String
    /// Runs the check; failures are reported with Swift Testing's `#expect`.
    public let run: @Sendable (any EventStore) async throws -> Void

    /// Creates a check.
    public init(_ name: String, run: @escaping @Sendable (any EventStore) async throws -> Void) {
        self.name = name
        self.run = run
    }

    /// The name, as shown in test output.
    public var testDescription: String { name }
    /// The name.
    public var description: String { name }
}

/// Waits for `body`, failing with a clear error if it takes longer than `seconds`: tests
/// wait for conditions with a bound, never forever and never with a fixed sleep.
///
/// The bound holds even when `body` ignores cancellation (an await that is never answered,
/// such as a query on a connection that went away): at the deadline `body` is cancelled and
/// the wait ends with ``DeadlineExceeded`` without waiting for it, so a hang is a failing test
/// that says what it waited for, not a test run that never ends. `body` therefore runs in a
/// task of its own (it inherits the caller's task-local values, so Swift Testing attributes
/// its issues to the caller's test); cancelling the caller cancels it.
public func withDeadline<T: Sendable>(
    seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = FirstOutcome<T>()
    let work = Task {
        do { outcome.settle(.success(try await body())) } catch { outcome.settle(.failure(error)) }
    }
    let timer = Task {
        do { try await Task.sleep(for: .seconds(seconds)) } catch { return }
        outcome.settle(.failure(DeadlineExceeded(what: what, seconds: seconds)))
        work.cancel()
    }
    defer {
        timer.cancel()
        work.cancel()
    }
    return try await withTaskCancellationHandler {
        try await outcome.value
    } onCancel: {
        work.cancel()
    }
}

/// The first of several outcomes to arrive, for one waiter: ``withDeadline(seconds:_:_:)``'s
/// race between its body and its timer.
final class FirstOutcome<T: Sendable>: Sendable {
    private struct State {
        var result: Result<T, any Error>?
        var waiter: CheckedContinuation<T, any Error>?
    }

    private let state = Mutex(State())

    /// Records `result` unless an outcome was recorded before; resumes the waiter if there is one.
    func settle(_ result: Result<T, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    /// The first outcome, once there is one.
    var value: T {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<T, any Error>? in
                    if let result = state.result { return result }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }
}

/// Thrown by ``withDeadline(seconds:_:_:)``.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    /// What was waited for.
    public let what: String
    /// The bound.
    public let seconds: Double
    /// A readable message.
    public var description: String { "gave up after \(seconds) s waiting for \(what)" }
}
