import ChronicleTesting
import Synchronization

/// A latch a test opens; whoever waits on it (a handler, a receiver) resumes then.
public final class Gate: Sendable {
    private let open = Mutex(false)

    /// A closed gate.
    public init() {}

    /// Opens the gate.
    public func release() { open.withLock { $0 = true } }

    /// Whether it is open.
    public var isOpen: Bool { open.withLock { $0 } }

    /// Returns once the gate is open; throws ``DeadlineExceeded`` if it is still closed after
    /// `seconds` (a test that never opens it fails instead of hanging), or when the task is
    /// cancelled.
    public func wait(seconds: Double = 60) async throws {
        try await waitUntil("the gate to open", seconds: seconds, every: .milliseconds(2)) { [self] in isOpen }
    }
}
