/// Runs commands guarded by a dynamic consistency boundary instead of a stream: reads the
/// events matching a query (across streams), folds them, decides, and appends the decided
/// events on the condition that no event matching the query was stored after the read; when
/// another writer got there first, it reads and decides again, a bounded number of times.
///
/// ```swift
/// let handler = DCBCommandHandler(decider: UniqueUsername(), store: store)
/// let claim = DCBQuery([.init(tags: ["username:ada"])])
/// try await handler.handle(.claim("ada"), query: claim, appendTo: try StreamName("user-42"))
/// ```
public struct DCBCommandHandler<D: Decider>: Sendable {
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

    /// Handles `command` with the events matching `query` as its state, appending what it
    /// decides to `stream`; the events get `metadata`.
    ///
    /// - Throws: the decider's error when it refuses the command, or
    ///   ``ChronicleError/Code/appendConditionFailed`` after ``maximumAttempts`` conflicts.
    public func handle(_ command: D.Command, query: DCBQuery, appendTo stream: StreamName, metadata: JSONValue = [:]) async throws -> Outcome {
        var attempt = 0
        while true {
            attempt += 1
            var events: [RecordedEvent] = []
            var head: Int64 = 0
            while true {
                let page = try await store.read(query: query, after: head, limit: 1000)
                events += page.events
                let advanced = page.head > head
                head = page.head
                if page.events.count < 1000 || !advanced { break }
            }
            let state = decider.fold(events.map(EventData.init))
            let decided = try decider.decide(command, state).adding(metadata: metadata)
            guard !decided.isEmpty else { return Outcome(state: state, appended: nil, attempts: attempt) }
            do {
                let result = try await store.append(AppendRequest(
                    [.init(stream: stream, events: decided)],
                    condition: AppendCondition(failIfEventsMatch: query, after: head)
                ))
                return Outcome(state: decided.reduce(state, decider.evolve), appended: result.streams[0], attempts: attempt)
            } catch let error as ChronicleError where error.code == .appendConditionFailed && attempt < maximumAttempts {
                continue
            }
        }
    }
}
