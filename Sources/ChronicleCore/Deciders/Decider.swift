/// Pure command logic (the Decider pattern): from the events of a stream, a state; from a
/// command and that state, the new events — or an error that says why the command is refused.
///
/// ```swift
/// struct Account: Decider {
///     var initialState: Int64 { 0 }
///     func evolve(_ balance: Int64, _ event: EventData) -> Int64 { … }
///     func decide(_ command: Command, _ balance: Int64) throws -> [EventData] { … }
/// }
/// ```
///
/// Keep all three free of I/O: ``CommandHandler`` does the reading and writing, and tests
/// check deciders with given/when/then (`ChronicleTesting`'s `DeciderSpec`) without a store.
public protocol Decider: Sendable {
    /// What the decider remembers of a stream.
    associatedtype State: Sendable
    /// What it is asked to do.
    associatedtype Command: Sendable

    /// The state of a stream with no events.
    var initialState: State { get }
    /// The state after one more event.
    func evolve(_ state: State, _ event: EventData) -> State
    /// The events a command produces in a state (none is fine); throws to refuse it.
    func decide(_ command: Command, _ state: State) throws -> [EventData]
}

extension Decider {
    /// The state after `events`, from ``initialState``.
    public func fold(_ events: [EventData]) -> State {
        events.reduce(initialState, evolve)
    }
}

extension EventData {
    /// The appended form of a stored event (same id, type, data, metadata, tags).
    public init(_ event: RecordedEvent) {
        self.init(id: event.id, type: event.type, data: event.data, metadata: event.metadata, tags: event.tags)
    }
}

extension Array where Element == EventData {
    /// The events with `metadata`'s members added where an event does not set them.
    func adding(metadata: JSONValue) -> [EventData] {
        guard case .object(let extra) = metadata, !extra.isEmpty else { return self }
        return map { event in
            var event = event
            var merged = event.metadata.objectValue ?? [:]
            merged.merge(extra) { current, _ in current }
            event.metadata = .object(merged)
            return event
        }
    }
}

/// Runs commands against a store: reads the stream, folds it, decides, and appends with the
/// stream's revision as the expectation, so a concurrent writer makes the append fail rather
/// than be overwritten; then it reads and decides again, a bounded number of times.
public struct CommandHandler<D: Decider>: Sendable {
    /// The decider.
    public let decider: D
    /// The store.
    public let store: any EventStore
    /// How many times a command is decided before a conflict is given up on.
    public let maximumAttempts: Int

    /// Creates a handler.
    public init(decider: D, store: any EventStore, maximumAttempts: Int = 5) {
        self.decider = decider
        self.store = store
        self.maximumAttempts = max(1, maximumAttempts)
    }

    /// The outcome of a handled command.
    public struct Outcome: Sendable {
        /// The state after the command's events.
        public var state: D.State
        /// What was appended, or `nil` when the command produced no events.
        public var appended: AppendResult.StreamResult?
        /// How many times it was decided (more than 1 after conflicts).
        public var attempts: Int
    }

    /// Handles `command` on `stream`; the command's events get `metadata`.
    ///
    /// - Throws: the decider's error when it refuses the command, or
    ///   ``ChronicleError/Code/wrongExpectedRevision`` after ``maximumAttempts`` conflicts.
    public func handle(_ command: D.Command, on stream: StreamName, metadata: JSONValue = [:]) async throws -> Outcome {
        var attempt = 0
        while true {
            attempt += 1
            var events: [RecordedEvent] = []
            do {
                events = try await store.read(stream)
            } catch let error as ChronicleError where error.code == .streamNotFound {
                events = []
            }
            let state = decider.fold(events.map(EventData.init))
            let decided = try decider.decide(command, state).adding(metadata: metadata)
            guard !decided.isEmpty else { return Outcome(state: state, appended: nil, attempts: attempt) }
            let expected: ExpectedRevision = events.last.map { .exact($0.revision) } ?? .noStream
            do {
                let appended = try await store.append(to: stream, decided, expected: expected)
                return Outcome(state: decided.reduce(state, decider.evolve), appended: appended, attempts: attempt)
            } catch let error as ChronicleError where error.code == .wrongExpectedRevision && attempt < maximumAttempts {
                continue
            }
        }
    }
}
