import ChronicleCore
import ChronicleProjections
import Foundation
import Hummingbird
import Logging
import Synchronization

/// The state of the server's projection rebuilds, for `/v1/projections`.
final class ProjectionRuns: Sendable {
    private struct State {
        var running = false
        var done: Int64 = 0
        var total: Int64 = 0
        var started: ContinuousClock.Instant?
        var lastReplayed: Int?
        var lastDuration: Duration?
        var lastFinished: Int64?
        var violations: [UniqueViolation] = []
    }

    private let state = Mutex(State())

    /// Records what the last rebuild found breaking a `unique:` rule.
    func found(_ violations: [UniqueViolation]) {
        state.withLock { $0.violations = violations }
    }

    /// Records how far the running rebuild got.
    func progress(_ done: Int64, _ total: Int64) {
        state.withLock { state in
            state.done = done
            state.total = total
        }
    }

    /// Runs a rebuild unless one is running.
    func rebuild(_ body: () async throws -> Int) async throws -> (replayed: Int, duration: Duration) {
        let started = state.withLock { state -> Bool in
            if state.running { return false }
            state.running = true
            state.done = 0
            state.total = 0
            state.started = .now
            return true
        }
        guard started else {
            throw Problem(.conflict, code: "rebuild-running", title: "Rebuild running", detail: "A rebuild of this projection is already running; wait for it to finish.")
        }
        let start = ContinuousClock.now
        do {
            let replayed = try await body()
            let duration = ContinuousClock.now - start
            state.withLock { state in
                state.running = false
                state.lastReplayed = replayed
                state.lastDuration = duration
                state.lastFinished = Timestamp.now()
            }
            return (replayed, duration)
        } catch {
            state.withLock { $0.running = false }
            throw error
        }
    }

    /// Runs a rebuild once the running one (if any) is done, waiting up to ten minutes.
    func rebuildWhenFree(_ body: () async throws -> Int) async throws -> (replayed: Int, duration: Duration) {
        let deadline = ContinuousClock.now + .seconds(600)
        while true {
            do {
                return try await rebuild(body)
            } catch let problem as Problem where problem.code == "rebuild-running" && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// The running rebuild and the last finished one.
    var status: RebuildStatus {
        state.withLock { state in
            var rate = 0.0, eta = 0.0
            if state.running, let started = state.started {
                let seconds = (ContinuousClock.now - started).wireSeconds(places: 9)
                rate = seconds > 0 ? Double(state.done) / seconds : 0
                eta = rate > 0 ? Double(max(0, state.total - state.done)) / rate : 0
            }
            return RebuildStatus(
                running: state.running,
                progress: .init(position: state.done, target: state.total, eventsPerSecond: Int(rate), etaSeconds: eta.wireRounded(places: 1)),
                lastReplayedEvents: state.lastReplayed, lastDurationSeconds: state.lastDuration?.wireSeconds(places: 3),
                lastFinishedAt: state.lastFinished.map { Timestamp.iso8601(microseconds: $0) },
                uniqueViolations: state.violations.map(UniqueViolationResponse.init)
            )
        }
    }
}

extension ChronicleServer {
    func registerProjectionRoutes(on router: Router<ChronicleRequestContext>) {
        let projections = projections
        let logger = logger
        let store = store

        @Sendable func status(_ reads: EntityReads) async throws -> ProjectionStatus {
            let head = try await store.headPosition()
            let checkpoint = try await reads.documents.documentsPosition()
            var lagSeconds = 0.0
            if checkpoint < head, let next = try await store.readLog(after: checkpoint, limit: 1, filter: LogFilter()).events.first {
                lagSeconds = max(0, Double(Timestamp.now() - next.recordedAtMicroseconds) / 1_000_000)
            }
            return ProjectionStatus(
                name: reads.name, lifecycle: reads.lifecycle.rawValue, definitionHash: reads.projection.definitionHash,
                checkpoint: checkpoint, lag: Lag(events: head - checkpoint, seconds: lagSeconds.wireRounded(places: 3)), rebuild: reads.runs.status
            )
        }

        @Sendable func named(_ context: ChronicleRequestContext) throws -> EntityReads {
            let name = try context.parameters.decoded("name")
            guard let reads = projections.first(where: { $0.name == name }) else {
                throw Problem(.notFound, code: "projection-not-found", title: "Projection not found", detail: "There is no projection named \(name). See /v1/projections.")
            }
            return reads
        }

        router.get("/v1/projections") { _, context in
            try context.require(.read)
            var statuses: [ProjectionStatus] = []
            for reads in projections { statuses.append(try await status(reads)) }
            return try Response.json(.ok, ProjectionList(statuses))
        }

        router.get("/v1/projections/{name}") { _, context in
            try context.require(.read)
            return try Response.json(.ok, try await status(try named(context)))
        }

        router.post("/v1/projections/{name}/rebuild") { _, context in
            try context.require(.admin)
            let reads = try named(context)
            if reads.lifecycle == .live {
                throw Problem.invalid("Projection \(reads.name) is live: it keeps no documents, so there is nothing to rebuild.")
            }
            let runs = reads.runs
            let (replayed, duration) = try await runs.rebuild { try await reads.documents.rebuildDocuments { runs.progress($0, $1) } }
            let violations = try await auditUniqueRules(reads, logger: logger)
            return try Response.json(.ok, RebuildResponse(name: reads.name, replayedEvents: replayed, duration: duration, uniqueViolations: violations))
        }
    }
}

extension ChronicleServer {
    /// Finds the documents that break a `unique:` rule (appends keep the rules, but an
    /// imported or older log may not have), logs each, and shows them in the projection's
    /// status. Run after every rebuild, and when the server starts (a changed schema rebuilds
    /// the documents when the store opens).
    @discardableResult
    func auditUniqueRules(_ reads: EntityReads, logger: Logger) async throws -> [UniqueViolation] {
        guard let schema = reads.projection as? DeclarativeProjection, reads.lifecycle != .live,
              schema.schema.entities.values.contains(where: { !$0.unique.isEmpty }) else { return [] }
        let violations = try await schema.uniqueViolations(in: reads.documents)
        for violation in violations {
            logger.warning("Documents break a unique rule", metadata: ["chronicle.projection": "\(reads.name)", "chronicle.violation": "\(violation)"])
        }
        reads.runs.found(violations)
        return violations
    }
}
