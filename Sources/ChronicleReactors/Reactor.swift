import ChronicleCore
import Foundation

/// One delivery of an event to a reactor.
public struct ReactorDelivery: Sendable {
    /// The event.
    public var event: RecordedEvent
    /// `reactor name:event id`: the same on every attempt and every redelivery, so the handler
    /// (or the service it calls) can deduplicate — delivery is at least once.
    public var idempotencyKey: String
    /// 1 for the first attempt.
    public var attempt: Int

    /// Creates a delivery.
    public init(event: RecordedEvent, idempotencyKey: String, attempt: Int) {
        self.event = event
        self.idempotencyKey = idempotencyKey
        self.attempt = attempt
    }
}

/// A worker for side effects: it follows the log from its own checkpoint and calls its
/// handler for each matching event, retrying with backoff, then parking the event.
///
/// Reactors are never driven by rebuilds or imports: only the reactor runner moves a
/// reactor's checkpoint, so replaying the log for read models never calls a handler.
public struct Reactor: Sendable {
    /// The reactor's name (its checkpoint and parked events are kept under it).
    public var name: String
    /// The events it reacts to.
    public var filter: LogFilter
    /// Whether a new reactor starts at the beginning of the log (default: at its end).
    public var startsAtBeginning: Bool
    /// Attempts before an event is parked.
    public var maximumAttempts: Int
    /// The first retry's delay; each next one doubles, with jitter.
    public var backoff: Duration
    /// The longest delay between two attempts (before jitter).
    public var maximumBackoff: Duration
    /// How many streams' events are delivered at once. Events of one stream are always
    /// delivered one after the other, in order; with 1, every event waits for the one before
    /// it (strict log order).
    public var concurrency: Int
    /// The side effect; returns outcome events to append (or none). Throwing means "retry".
    public var handler: @Sendable (ReactorDelivery) async throws -> [ReactorOutcome]
    /// What the reactor's runner has done in this process (shared by copies of the reactor),
    /// for status endpoints and metrics.
    public let statistics = ReactorStatistics()

    /// The default ``concurrency``.
    public static let defaultConcurrency = 8

    /// Creates a reactor.
    public init(
        name: String, filter: LogFilter = LogFilter(), startsAtBeginning: Bool = false,
        maximumAttempts: Int = 8, backoff: Duration = .milliseconds(100), maximumBackoff: Duration = .seconds(300),
        concurrency: Int = Reactor.defaultConcurrency,
        handler: @escaping @Sendable (ReactorDelivery) async throws -> [ReactorOutcome]
    ) {
        self.maximumBackoff = max(backoff, maximumBackoff)
        self.name = name
        self.filter = filter
        self.startsAtBeginning = startsAtBeginning
        self.maximumAttempts = max(1, maximumAttempts)
        self.backoff = backoff
        self.concurrency = max(1, concurrency)
        self.handler = handler
    }

    /// The key handed to the handler for `event`: `name:event id`.
    public func idempotencyKey(for event: RecordedEvent) -> String {
        idempotencyKey(forEventID: event.id)
    }

    /// The key handed to the handler for the event with this id: `name:event id`.
    public func idempotencyKey(forEventID id: UUID) -> String {
        "\(name):\(id.uuidString.lowercased())"
    }

    /// The delay before attempt `attempt + 1`: `backoff × 2^(attempt−1)`, at most
    /// ``maximumBackoff`` (5 minutes unless told otherwise), ±25% jitter.
    public func delay(after attempt: Int) -> Duration {
        let base = backoff * (1 << min(attempt - 1, 20))
        let capped = min(base, maximumBackoff)
        return capped * Double.random(in: 0.75...1.25)
    }
}

/// Thrown by a handler when retrying cannot help (a webhook's `400`): the event is parked at once.
public struct PermanentReactorFailure: Error, Sendable, CustomStringConvertible {
    /// Why.
    public var reason: String

    /// Creates a failure.
    public init(reason: String) {
        self.reason = reason
    }

    /// The reason.
    public var description: String { reason }
}
