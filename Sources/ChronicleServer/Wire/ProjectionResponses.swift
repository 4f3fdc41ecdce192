import ChronicleCore
import ChronicleProjections
import Foundation

/// How far behind the log a projection or a reactor is.
public struct Lag: Codable, Sendable, Hashable {
    /// Events after its checkpoint.
    public var events: Int64
    /// Age of the oldest of them, in seconds (0 when caught up).
    public var seconds: Double

    /// Creates a lag.
    public init(events: Int64, seconds: Double) {
        self.events = events
        self.seconds = seconds
    }
}

/// Documents that share a value in a field the schema declares `unique:` (found by a rebuild).
public struct UniqueViolationResponse: Codable, Sendable, Hashable {
    /// The entity kind.
    public var entity: String
    /// The unique field.
    public var field: String
    /// The shared value.
    public var value: RawJSON
    /// The live entities that hold it, in id order.
    public var ids: [String]

    /// The answer for a violation.
    public init(_ violation: UniqueViolation) {
        self.entity = violation.entity
        self.field = violation.field
        self.value = RawJSON(violation.value)
        self.ids = violation.ids
    }
}

/// A projection's rebuilds, as this node saw them: the one running and the last finished.
public struct RebuildStatus: Codable, Sendable, Hashable {
    /// How far the running rebuild is.
    public struct Progress: Codable, Sendable, Hashable {
        /// The log position reached.
        public var position: Int64
        /// The position it goes to.
        public var target: Int64
        /// Its speed so far.
        public var eventsPerSecond: Int
        /// Seconds left at that speed (one decimal).
        public var etaSeconds: Double

        /// Creates a progress report.
        public init(position: Int64, target: Int64, eventsPerSecond: Int, etaSeconds: Double) {
            self.position = position
            self.target = target
            self.eventsPerSecond = eventsPerSecond
            self.etaSeconds = etaSeconds
        }
    }

    /// Whether a rebuild is running.
    public var running: Bool
    /// Its progress (zeros when none runs).
    public var progress: Progress
    /// Events the last finished rebuild replayed, `null` before the first.
    public var lastReplayedEvents: Int?
    /// How long it took, in seconds (three decimals).
    public var lastDurationSeconds: Double?
    /// When it finished.
    public var lastFinishedAt: String?
    /// What it found breaking a `unique:` rule.
    public var uniqueViolations: [UniqueViolationResponse]

    /// Creates a status.
    public init(
        running: Bool = false, progress: Progress = .init(position: 0, target: 0, eventsPerSecond: 0, etaSeconds: 0),
        lastReplayedEvents: Int? = nil, lastDurationSeconds: Double? = nil, lastFinishedAt: String? = nil,
        uniqueViolations: [UniqueViolationResponse] = []
    ) {
        self.running = running
        self.progress = progress
        self.lastReplayedEvents = lastReplayedEvents
        self.lastDurationSeconds = lastDurationSeconds
        self.lastFinishedAt = lastFinishedAt
        self.uniqueViolations = uniqueViolations
    }
}

/// A projection: `GET /v1/projections/{name}`, and each item of `GET /v1/projections`.
public struct ProjectionStatus: Codable, Sendable, Hashable {
    /// The projection's name.
    public var name: String
    /// `inline`, `async` or `live`.
    public var lifecycle: String
    /// The fingerprint of its definition.
    public var definitionHash: String
    /// The log position its documents are current to.
    public var checkpoint: Int64
    /// How far behind the log it is.
    public var lag: Lag
    /// Its rebuilds.
    public var rebuild: RebuildStatus

    /// Creates a status.
    public init(name: String, lifecycle: String, definitionHash: String, checkpoint: Int64, lag: Lag, rebuild: RebuildStatus) {
        self.name = name
        self.lifecycle = lifecycle
        self.definitionHash = definitionHash
        self.checkpoint = checkpoint
        self.lag = lag
        self.rebuild = rebuild
    }
}

/// Every projection: `GET /v1/projections`.
public struct ProjectionList: Codable, Sendable, Hashable {
    /// The projections.
    public var projections: [ProjectionStatus]

    /// Creates a list.
    public init(_ projections: [ProjectionStatus]) {
        self.projections = projections
    }
}

/// The answer of `POST /v1/projections/{name}/rebuild`.
public struct RebuildResponse: Codable, Sendable, Hashable {
    /// The projection.
    public var name: String
    /// Events replayed.
    public var replayedEvents: Int
    /// How long the rebuild took, in seconds (three decimals).
    public var durationSeconds: Double
    /// Documents that break a `unique:` rule (an imported or older log).
    public var uniqueViolations: [UniqueViolationResponse]

    /// Creates the answer.
    public init(name: String, replayedEvents: Int, duration: Duration, uniqueViolations: [UniqueViolation]) {
        self.name = name
        self.replayedEvents = replayedEvents
        self.durationSeconds = duration.wireSeconds(places: 3)
        self.uniqueViolations = uniqueViolations.map(UniqueViolationResponse.init)
    }
}

extension Duration {
    /// The duration in seconds, rounded to `places` decimals (as the answers give them).
    func wireSeconds(places: Int) -> Double {
        (Double(components.seconds) + Double(components.attoseconds) / 1e18).wireRounded(places: places)
    }
}

extension Double {
    /// Rounded to `places` decimals (as the answers give measured times and rates).
    func wireRounded(places: Int) -> Double {
        let scale = Foundation.pow(10.0, Double(places))
        return (self * scale).rounded() / scale
    }
}
