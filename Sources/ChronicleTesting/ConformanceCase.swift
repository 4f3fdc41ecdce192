import ChronicleCore
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
public func withDeadline<T: Sendable>(
    seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw DeadlineExceeded(what: what, seconds: seconds)
        }
        return value
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
