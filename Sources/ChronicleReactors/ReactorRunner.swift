import ChronicleCore
import Logging
import ServiceLifecycle

/// Runs one reactor as a `Service`: follows the log from the reactor's checkpoint, delivers
/// each matching event to the handler, retries with exponential backoff and jitter, parks the
/// event after the reactor's attempts, and on success appends the outcome events and moves
/// the checkpoint in one transaction.
///
/// Events of one stream are delivered one after the other, in order; up to
/// ``Reactor/concurrency`` streams are delivered at once. The checkpoint only moves past an
/// event once every event before it is done (delivered or parked), so a restart never skips
/// one.
///
/// Delivery is at least once: a crash after the side effect but before the checkpoint moves
/// delivers the event again, with the same ``ReactorDelivery/idempotencyKey``.
public struct ReactorRunner: Service {
    let store: any ReactorStore
    let reactor: Reactor
    let logger: Logger
    let lease: LeaseOptions

    /// What the runner has done (the reactor's own statistics).
    public var statistics: ReactorStatistics { reactor.statistics }

    /// Creates a runner. On a store shared by several nodes (a ``LeaseStore``), the reactor
    /// runs on one node at a time: the one holding the lease `reactor:<name>`.
    public init(store: any ReactorStore, reactor: Reactor, logger: Logger, lease: LeaseOptions = LeaseOptions()) {
        self.store = store
        self.reactor = reactor
        self.logger = logger
        self.lease = lease
    }

    /// The lease a reactor's runner holds while it runs.
    public static func leaseName(_ reactor: String) -> String { "reactor:\(reactor)" }

    /// Runs until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await LeasedWork.run(store as? any LeaseStore, name: Self.leaseName(reactor.name), options: lease, logger: logger) {
                await LogFollower.run(start: {
                    try await store.reactorCheckpoint(reactor.name, fromBeginning: reactor.startsAtBeginning)
                }, step: { start in
                    try await self.step(after: start)
                }, failed: { error, _ in
                    logger.error("Reactor failed; retrying", metadata: ["chronicle.reactor": "\(reactor.name)", "chronicle.error": "\(error)"])
                })
            }
        }
    }

    /// Deliveries without outcomes whose checkpoint move is written together (see
    /// ``ReactionFrontier/takeReady(batch:flush:)``).
    static let checkpointBatch = 32

    /// Delivers one page of the log after `start` and returns the new checkpoint.
    private func step(after start: Int64) async throws -> Int64 {
        var cursor = LogCursor(after: start, filter: reactor.filter, pageSize: max(256, reactor.concurrency * 16))
        let page = try await cursor.next(from: store)
        // Chronicle's own events ($streamDeleted, $reactorParked) only go to reactors that name them.
        let events = page.events.filter { !$0.stream.isReserved || reactor.filter.types.contains($0.type) }
        var checkpoint = start
        var frontier = ReactionFrontier(positions: events.map(\.position))
        let triggers = Dictionary(events.map { ($0.position, $0) }, uniquingKeysWith: { first, _ in first })
        let lanes = ReactionFrontier.lanes(events, concurrency: reactor.concurrency)
        try await withThrowingTaskGroup(of: (lane: Int, index: Int, result: ReactionFrontier.Result).self) { group in
            func launch(lane: Int, index: Int) {
                let event = lanes[lane][index]
                group.addTask { (lane, index, try await self.deliver(event)) }
            }
            var started = 0
            while started < min(lanes.count, reactor.concurrency) {
                launch(lane: started, index: 0)
                started += 1
            }
            while let done = try await group.next() {
                frontier.record(done.result, at: lanes[done.lane][done.index].position)
                checkpoint = try await commit(frontier.takeReady(batch: Self.checkpointBatch), after: checkpoint, triggers: triggers)
                if done.index + 1 < lanes[done.lane].count {
                    launch(lane: done.lane, index: done.index + 1)
                } else if started < lanes.count {
                    launch(lane: started, index: 0)
                    started += 1
                }
            }
        }
        checkpoint = try await commit(frontier.takeReady(flush: true), after: checkpoint, triggers: triggers)
        if cursor.position > checkpoint {
            try await store.completeReaction(reactor.name, after: checkpoint, through: cursor.position, outcomes: [])
            checkpoint = cursor.position
        }
        if page.events.isEmpty {
            try await store.waitForEvents(after: checkpoint)
        }
        return checkpoint
    }

    /// Whether a failed commit of outcomes is the write path refusing them (their content
    /// breaks a rule), not the storage failing: retrying cannot help.
    static func refusesOutcomes(_ error: ChronicleError) -> Bool {
        [.ruleViolated, .entityNotFound, .undeclaredEventType, .invalidPayload, .invalidInput, .streamDeleted, .idempotencyConflict, .payloadTooLarge].contains(error.code)
    }

    /// Makes the frontier's commits in order; returns the checkpoint after them. `triggers`
    /// are the page's events by position (to park one whose outcomes are refused).
    private func commit(_ commits: [ReactionFrontier.Commit], after start: Int64, triggers: [Int64: RecordedEvent]) async throws -> Int64 {
        var checkpoint = start
        for commit in commits {
            switch commit {
            case .complete(let through, let outcomes):
                do {
                    try await store.completeReaction(reactor.name, after: checkpoint, through: through, outcomes: outcomes)
                } catch let error as ChronicleError where !outcomes.isEmpty && Self.refusesOutcomes(error) {
                    // The write path refused the outcome events (a rule of their type): the
                    // side effect happened, retrying would repeat it, so the event is parked.
                    guard let trigger = triggers[through] else { throw error }
                    let parked = ParkedEvent(reactor: reactor.name, position: through, eventID: trigger.id, attempts: 1, error: "The handler succeeded, but its outcome events were refused: \(error)", parkedAtMicroseconds: Timestamp.now())
                    logger.warning("Parked an event", metadata: ["chronicle.reactor": "\(reactor.name)", "chronicle.position": "\(through)", "chronicle.error": "\(parked.error)"])
                    try await store.park(parked, trigger: trigger, after: checkpoint)
                    reactor.statistics.recordParked()
                }
                checkpoint = through
            case .park(let parked, let trigger):
                logger.warning("Parked an event", metadata: ["chronicle.reactor": "\(reactor.name)", "chronicle.position": "\(parked.position)", "chronicle.error": "\(parked.error)"])
                try await store.park(parked, trigger: trigger, after: checkpoint)
                reactor.statistics.recordParked()
                checkpoint = parked.position
            }
        }
        return checkpoint
    }

    /// Why the store would refuse `outcomes` (a reserved type, an oversized event…), if it would.
    static func refusal(of outcomes: [ReactorOutcome]) -> String? {
        guard !outcomes.isEmpty else { return nil }
        do {
            _ = try AppendRequest(outcomes.map { .init(stream: $0.stream, events: $0.events) }).prepared(limits: EventStoreLimits())
            return nil
        } catch {
            return "The handler succeeded, but its outcome events cannot be stored: \(error)"
        }
    }

    /// Calls the handler until it succeeds or the attempts are spent.
    private func deliver(_ event: RecordedEvent) async throws -> ReactionFrontier.Result {
        let statistics = reactor.statistics
        statistics.record(inFlight: true)
        defer {
            statistics.record(inFlight: false)
            statistics.recordRetryDone(position: event.position)
        }
        let key = reactor.idempotencyKey(for: event)
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            statistics.recordRetryDone(position: event.position)
            do {
                let outcomes = ReactorOutcome.correlated(try await reactor.handler(ReactorDelivery(event: event, idempotencyKey: key, attempt: attempt)), trigger: event)
                if let refusal = Self.refusal(of: outcomes) {
                    // The side effect happened, but its outcome can never be stored: retrying
                    // would repeat the effect forever, so the event is parked with the reason.
                    let parked = ParkedEvent(reactor: reactor.name, position: event.position, eventID: event.id, attempts: attempt, error: refusal, parkedAtMicroseconds: Timestamp.now())
                    return .parked(parked, trigger: event)
                }
                statistics.record(delivered: true)
                return .delivered(outcomes)
            } catch {
                try Task.checkCancellation()
                let gaveUp = attempt >= reactor.maximumAttempts || error is PermanentReactorFailure
                let delay = reactor.delay(after: attempt)
                statistics.record(failure: "\(error)", position: event.position, retryAt: gaveUp ? nil : Timestamp.now() + delay.microseconds)
                var metadata: Logger.Metadata = [
                    "chronicle.reactor": "\(reactor.name)", "chronicle.position": "\(event.position)", "chronicle.event_id": "\(event.id.uuidString.lowercased())",
                    "chronicle.attempt": "\(attempt)", "chronicle.error": "\(error)",
                ]
                if gaveUp {
                    logger.warning("A delivery failed; no attempt left, parking the event", metadata: metadata)
                    let parked = ParkedEvent(reactor: reactor.name, position: event.position, eventID: event.id, attempts: attempt, error: "\(error)", parkedAtMicroseconds: Timestamp.now())
                    return .parked(parked, trigger: event)
                }
                metadata["chronicle.retry_in_ms"] = "\(delay.microseconds / 1000)"
                logger.warning("A delivery failed; retrying", metadata: metadata)
                try await Task.sleep(for: delay)
            }
        }
    }
}

extension Reactor {
    /// Delivers a parked event once more (an operator's retry): on success appends its
    /// outcomes and returns `true`; on failure parks it again with one more attempt and
    /// returns `false`. The caller removes it from the parked list first (`unpark`).
    public func retry(_ parked: ParkedEvent, in store: any ReactorStore) async throws -> Bool {
        let page = try await store.readLog(after: parked.position - 1, limit: 1, filter: LogFilter())
        guard let event = page.events.first, event.id == parked.eventID else {
            throw ChronicleError(.streamNotFound, "The parked event \(parked.eventID) is no longer in the log (its stream was hard-deleted).")
        }
        let attempt = parked.attempts + 1
        do {
            let outcomes = try await handler(ReactorDelivery(event: event, idempotencyKey: idempotencyKey(for: event), attempt: attempt))
            for outcome in ReactorOutcome.correlated(outcomes, trigger: event) {
                try await store.append(to: outcome.stream, outcome.events)
            }
            statistics.record(delivered: true)
            return true
        } catch {
            statistics.record(failure: "\(error)", position: parked.position, retryAt: nil)
            statistics.recordParked()
            var again = parked
            again.attempts = attempt
            again.error = "\(error)"
            again.parkedAtMicroseconds = Timestamp.now()
            try await store.park(again, trigger: event, after: nil)
            return false
        }
    }
}
