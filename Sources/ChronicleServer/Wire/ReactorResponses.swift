import ChronicleCore
import Foundation

/// Where a reactor is: `GET /v1/reactors/{name}`, and each item of `GET /v1/reactors`.
public struct ReactorStatus: Codable, Sendable, Hashable {
    /// The reactor's name.
    public var name: String
    /// The position it has handled everything up to; `null` until its runner has started.
    public var checkpoint: Int64?
    /// How far behind the log it is.
    public var lag: Lag
    /// Events it handles at once.
    public var concurrency: Int
    /// Deliveries this node's runner has under way.
    public var inFlight: Int
    /// Deliveries this node's runner completed since it started.
    public var delivered: Int
    /// Failed attempts since then.
    public var failures: Int
    /// Events parked now (in the store, whichever node parked them).
    public var parked: Int
    /// When this node's runner last delivered an event.
    public var lastDeliveredAt: String?
    /// The node whose runner holds the reactor's lease, if the store has leases and one does.
    public var runningOn: String?
    /// The error of this node's last failed attempt (the webhook's status and the start of
    /// its body, a timeout, a refused connection…), if one failed since it started.
    public var lastError: String?
    /// When that attempt failed.
    public var lastErrorAt: String?
    /// When this node next tries a delivery that failed (the earliest, if several wait);
    /// `null` when none waits to be retried.
    public var nextAttemptAt: String?

    /// Creates a status.
    public init(
        name: String, checkpoint: Int64?, lag: Lag, concurrency: Int, inFlight: Int, delivered: Int, failures: Int,
        parked: Int, lastDeliveredAt: String?, runningOn: String?,
        lastError: String? = nil, lastErrorAt: String? = nil, nextAttemptAt: String? = nil
    ) {
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
        self.nextAttemptAt = nextAttemptAt
        self.name = name
        self.checkpoint = checkpoint
        self.lag = lag
        self.concurrency = concurrency
        self.inFlight = inFlight
        self.delivered = delivered
        self.failures = failures
        self.parked = parked
        self.lastDeliveredAt = lastDeliveredAt
        self.runningOn = runningOn
    }
}

/// Every reactor: `GET /v1/reactors`.
public struct ReactorList: Codable, Sendable, Hashable {
    /// The reactors, by name.
    public var reactors: [ReactorStatus]

    /// Creates a list.
    public init(_ reactors: [ReactorStatus]) {
        self.reactors = reactors
    }
}

/// An event a reactor gave up on, waiting for an operator.
public struct ParkedEventResponse: Codable, Sendable, Hashable {
    /// The event's id.
    public var eventId: UUID
    /// Its log position.
    public var position: Int64
    /// Delivery attempts made.
    public var attempts: Int
    /// The last attempt's error.
    public var error: String
    /// When it was parked.
    public var parkedAt: String

    /// The answer for a parked event.
    public init(_ parked: ParkedEvent) {
        self.eventId = parked.eventID
        self.position = parked.position
        self.attempts = parked.attempts
        self.error = parked.error
        self.parkedAt = Timestamp.iso8601(microseconds: parked.parkedAtMicroseconds)
    }
}

/// A reactor's parked events: `GET /v1/reactors/{name}/parked`.
public struct ParkedEventList: Codable, Sendable, Hashable {
    /// The reactor.
    public var reactor: String
    /// Its parked events, in position order.
    public var parked: [ParkedEventResponse]

    /// Creates a list.
    public init(reactor: String, parked: [ParkedEvent]) {
        self.reactor = reactor
        self.parked = parked.map(ParkedEventResponse.init)
    }
}

/// The answer of `POST /v1/reactors/{name}/parked/{id}/skip`.
public struct ParkedEventSkipResponse: Codable, Sendable, Hashable {
    /// The reactor.
    public var reactor: String
    /// The event removed from the parked list without delivery.
    public var skipped: UUID
    /// Its log position.
    public var position: Int64

    /// Creates the answer.
    public init(reactor: String, skipped: UUID, position: Int64) {
        self.reactor = reactor
        self.skipped = skipped
        self.position = position
    }
}

/// The answer of `POST /v1/reactors/{name}/parked/{id}/retry`.
public struct ParkedEventRetryResponse: Codable, Sendable, Hashable {
    /// The reactor.
    public var reactor: String
    /// The event delivered once more.
    public var retried: UUID
    /// Whether the delivery succeeded (else the event is parked again).
    public var delivered: Bool

    /// Creates the answer.
    public init(reactor: String, retried: UUID, delivered: Bool) {
        self.reactor = reactor
        self.retried = retried
        self.delivered = delivered
    }
}
