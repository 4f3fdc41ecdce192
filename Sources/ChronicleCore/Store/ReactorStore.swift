import Foundation

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
