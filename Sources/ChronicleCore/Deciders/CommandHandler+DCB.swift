extension CommandHandler {
    /// Handles `command` guarded by a dynamic consistency boundary instead of a stream:
    /// reads the events matching `query` (across streams), folds them, decides, and appends
    /// the decided events to `stream` on the condition that no event matching the query was
    /// stored after the read; when another writer got there first, it reads and decides
    /// again, up to ``maximumAttempts`` times. The events get `metadata`.
    ///
    /// ```swift
    /// let claim = DCBQuery([.init(tags: ["username:ada"])])
    /// try await CommandHandler(decider: UniqueUsername(), store: store).handle(.claim("ada"), query: claim, appendTo: try StreamName("user-42"))
    /// ```
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
