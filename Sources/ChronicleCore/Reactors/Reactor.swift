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

/// Events a reaction appends (e.g. `WelcomeEmailSent`), to one stream.
public struct ReactorOutcome: Sendable {
    /// The stream to append to.
    public var stream: StreamName
    /// The events; they get the trigger's `correlationId` and its id as `causationId`.
    public var events: [EventData]

    /// Creates an outcome.
    public init(stream: StreamName, events: [EventData]) {
        self.stream = stream
        self.events = events
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
        maximumAttempts: Int = 8, backoff: Duration = .milliseconds(100), concurrency: Int = Reactor.defaultConcurrency,
        handler: @escaping @Sendable (ReactorDelivery) async throws -> [ReactorOutcome]
    ) {
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

    /// The delay before attempt `attempt + 1`: `backoff × 2^(attempt−1)`, ±25% jitter, at most 5 minutes.
    public func delay(after attempt: Int) -> Duration {
        let base = backoff * (1 << min(attempt - 1, 20))
        let capped = min(base, .seconds(300))
        return capped * Double.random(in: 0.75...1.25)
    }

    /// The outcome events with the trigger's correlation: `correlationId` kept from the
    /// trigger (or its id), `causationId` the trigger's id.
    public static func correlated(_ outcomes: [ReactorOutcome], trigger: RecordedEvent) -> [ReactorOutcome] {
        let correlation = trigger.metadata["correlationId"] ?? .string(trigger.id.uuidString.lowercased())
        return outcomes.map { outcome in
            var outcome = outcome
            outcome.events = outcome.events.map { event in
                var event = event
                var metadata = event.metadata.objectValue ?? [:]
                metadata["correlationId"] = correlation
                metadata["causationId"] = .string(trigger.id.uuidString.lowercased())
                event.metadata = .object(metadata)
                return event
            }
            return outcome
        }
    }
}

/// An event a reactor gave up on: kept with its last error until an operator retries or skips it.
public struct ParkedEvent: Sendable, Hashable {
    /// The reactor.
    public var reactor: String
    /// The event's position.
    public var position: Int64
    /// The event's id.
    public var eventID: UUID
    /// Attempts made.
    public var attempts: Int
    /// The last error.
    public var error: String
    /// When it was parked (microseconds since the epoch).
    public var parkedAtMicroseconds: Int64

    /// Creates a parked event.
    public init(reactor: String, position: Int64, eventID: UUID, attempts: Int, error: String, parkedAtMicroseconds: Int64) {
        self.reactor = reactor
        self.position = position
        self.eventID = eventID
        self.attempts = attempts
        self.error = error
        self.parkedAtMicroseconds = parkedAtMicroseconds
    }
}

/// What a store keeps for reactors: checkpoints and parked events. Completing a reaction
/// appends its outcome events and moves the checkpoint in one transaction.
public protocol ReactorStore: EventStore {
    /// The reactor's checkpoint; a new reactor starts at the head (or at 0 if `fromBeginning`).
    func reactorCheckpoint(_ reactor: String, fromBeginning: Bool) async throws -> Int64
    /// The reactor's checkpoint, or `nil` if it has not started yet (reads only).
    func reactorPosition(_ reactor: String) async throws -> Int64?
    /// Appends `outcomes` (if any) and moves the checkpoint from `checkpoint` to `through`, in
    /// one transaction; does nothing if the checkpoint is no longer `checkpoint`.
    func completeReaction(_ reactor: String, after checkpoint: Int64, through: Int64, outcomes: [ReactorOutcome]) async throws
    /// Parks an event and, with `checkpoint`, moves the reactor's checkpoint past it, in one
    /// transaction that also appends a `$reactorParked` event (to `$reactors`, with the
    /// trigger's correlation id) so the client that caused it can be told.
    func park(_ parked: ParkedEvent, trigger: RecordedEvent, after checkpoint: Int64?) async throws
    /// The reactor's parked events, oldest first.
    func parkedEvents(_ reactor: String) async throws -> [ParkedEvent]
    /// Removes a parked event (to skip it, or before retrying it); `nil` if there was none.
    func unpark(_ reactor: String, eventID: UUID) async throws -> ParkedEvent?
}

extension ParkedEvent {
    /// The data and metadata of the `$reactorParked` event that records it.
    public func systemEvent(trigger: RecordedEvent) -> (data: JSONValue, metadata: JSONValue) {
        let data: JSONValue = [
            "reactor": .string(reactor), "eventId": .string(eventID.uuidString.lowercased()), "position": .integer(position),
            "stream": .string(trigger.stream.rawValue), "type": .string(trigger.type), "attempts": .integer(Int64(attempts)), "error": .string(error),
        ]
        let metadata: JSONValue = [
            "correlationId": trigger.metadata["correlationId"] ?? .string(trigger.id.uuidString.lowercased()),
            "causationId": .string(trigger.id.uuidString.lowercased()),
        ]
        return (data, metadata)
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
