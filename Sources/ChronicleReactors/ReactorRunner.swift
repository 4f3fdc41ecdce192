import ChronicleCore
import Logging
import ServiceLifecycle
import Synchronization

/// Runs one reactor as a `Service`: follows the log from the reactor's checkpoint, delivers
/// each matching event to the handler (in log order), retries with exponential backoff and
/// jitter, parks the event after the reactor's attempts, and on success appends the outcome
/// events and moves the checkpoint in one transaction.
///
/// Delivery is at least once: a crash after the side effect but before the checkpoint moves
/// delivers the event again, with the same ``ReactorDelivery/idempotencyKey``.
public struct ReactorRunner: Service {
    let store: any ReactorStore
    let reactor: Reactor
    let logger: Logger
    /// What the runner has done, for status and tests.
    public let statistics = ReactorStatistics()

    /// Creates a runner.
    public init(store: any ReactorStore, reactor: Reactor, logger: Logger) {
        self.store = store
        self.reactor = reactor
        self.logger = logger
    }

    /// Runs until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.follow()
        }
    }

    private func follow() async {
        await LogFollower.run(start: { try await store.reactorCheckpoint(reactor.name, fromBeginning: reactor.startsAtBeginning) }, step: { start in
            var checkpoint = start
            let page = try await store.readLog(after: checkpoint, limit: 100, filter: reactor.filter)
            for event in page.events {
                // Chronicle's own events ($streamDeleted, $reactorParked) only go to reactors that name them.
                if !(event.stream.isReserved && !reactor.filter.types.contains(event.type)) {
                    try await deliver(event, after: checkpoint)
                    checkpoint = event.position
                }
            }
            if page.scannedThrough > checkpoint {
                try await store.completeReaction(reactor.name, after: checkpoint, through: page.scannedThrough, outcomes: [])
                checkpoint = page.scannedThrough
            }
            if page.events.isEmpty {
                try await store.waitForEvents(after: checkpoint)
            }
            return checkpoint
        }, failed: { error, _ in
            logger.error("Reactor failed; retrying", metadata: ["chronicle.reactor": "\(reactor.name)", "chronicle.error": "\(error)"])
        })
    }

    private func deliver(_ event: RecordedEvent, after checkpoint: Int64) async throws {
        let key = "\(reactor.name):\(event.id.uuidString.lowercased())"
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let outcomes: [ReactorOutcome]
            do {
                outcomes = try await reactor.handler(ReactorDelivery(event: event, idempotencyKey: key, attempt: attempt))
            } catch {
                statistics.record(failure: true)
                if attempt >= reactor.maximumAttempts || error is PermanentReactorFailure {
                    logger.warning("Parked an event", metadata: ["chronicle.reactor": "\(reactor.name)", "chronicle.position": "\(event.position)", "chronicle.error": "\(error)"])
                    try await store.park(ParkedEvent(reactor: reactor.name, position: event.position, eventID: event.id, attempts: attempt, error: "\(error)", parkedAtMicroseconds: Timestamp.now()), trigger: event, after: checkpoint)
                    statistics.record(parked: true)
                    return
                }
                try await Task.sleep(for: reactor.delay(after: attempt))
                continue
            }
            try await store.completeReaction(reactor.name, after: checkpoint, through: event.position, outcomes: Reactor.correlated(outcomes, trigger: event))
            statistics.record(failure: false)
            return
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
            let outcomes = try await handler(ReactorDelivery(event: event, idempotencyKey: "\(name):\(event.id.uuidString.lowercased())", attempt: attempt))
            for outcome in Reactor.correlated(outcomes, trigger: event) {
                try await store.append(to: outcome.stream, outcome.events)
            }
            return true
        } catch {
            var again = parked
            again.attempts = attempt
            again.error = "\(error)"
            again.parkedAtMicroseconds = Timestamp.now()
            try await store.park(again, trigger: event, after: nil)
            return false
        }
    }
}

/// Counts of a runner's deliveries.
public final class ReactorStatistics: Sendable {
    private let counts = Mutex<(delivered: Int, failures: Int, parked: Int)>((0, 0, 0))

    /// Successful deliveries, failed attempts, parked events.
    public var snapshot: (delivered: Int, failures: Int, parked: Int) { counts.withLock { $0 } }

    func record(failure: Bool) {
        counts.withLock { if failure { $0.failures += 1 } else { $0.delivered += 1 } }
    }

    func record(parked: Bool) {
        counts.withLock { if parked { $0.parked += 1 } }
    }
}
