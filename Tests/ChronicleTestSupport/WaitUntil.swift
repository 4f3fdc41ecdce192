import ChronicleTesting

/// Waits until `condition` holds, checking every `interval`; throws ``DeadlineExceeded``
/// naming `what` if it still does not after `seconds` (a bound for a loaded machine, never a
/// fixed sleep).
public func waitUntil(
    _ what: String, seconds: Double = 120, every interval: Duration = .milliseconds(5),
    _ condition: @escaping @Sendable () async throws -> Bool
) async throws {
    try await withDeadline(seconds: seconds, what) {
        while try await !condition() { try await Task.sleep(for: interval) }
    }
}
