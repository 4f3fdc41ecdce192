/// How a ``ChronicleClient`` retries a call: on a lost connection and on `503`, with
/// exponential backoff between attempts, bounded in count and in delay.
///
/// A `Retry-After` from the server replaces the computed delay (still capped by
/// ``maximumDelay``). The delays are a pure function of the attempt, so they are easy to
/// reason about: with the defaults, 0.1 s, 0.2 s, 0.4 s … up to 5 s, for 8 attempts in all.
public struct RetryPolicy: Sendable, Hashable {
    /// How many times a call is sent at most (1: never retried).
    public var maximumAttempts: Int
    /// The delay before the first retry.
    public var initialDelay: Duration
    /// The longest delay between two attempts.
    public var maximumDelay: Duration
    /// What each delay is multiplied by for the next one.
    public var multiplier: Double

    /// Creates a policy.
    public init(maximumAttempts: Int = 8, initialDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(5), multiplier: Double = 2) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = max(1, multiplier)
    }

    /// Never retry.
    public static let none = RetryPolicy(maximumAttempts: 1)

    /// The delay before retry number `retry` (1 for the first retry), given the server's
    /// `Retry-After` in seconds if it sent one.
    public func delay(beforeRetry retry: Int, retryAfter: Int? = nil) -> Duration {
        if let retryAfter { return min(.seconds(max(0, retryAfter)), maximumDelay) }
        var delay = initialDelay
        for _ in 1..<max(1, retry) {
            delay = delay * multiplier
            if delay >= maximumDelay { return maximumDelay }
        }
        return min(delay, maximumDelay)
    }
}
