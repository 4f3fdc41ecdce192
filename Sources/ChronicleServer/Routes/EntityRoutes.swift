import ChronicleCore
import ChronicleProjections
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Synchronization

/// Reads of entities: current documents, and their past folded from the events.
struct EntityReads: Sendable {
    let store: any EventStore
    let documents: any DocumentStore
    let projection: any Projection
    let lifecycle: ProjectionLifecycle

    /// The stream of an entity (`user`, `1234` → `user-1234`).
    func stream(entity: String, id: String) throws -> StreamName {
        guard let stream = projection.stream(entity: entity, id: id) else {
            return try StreamName("\(entity)-\(id)")
        }
        return stream
    }

    /// The entity's timeline, folded from its stream; with `point`, only as far as needed
    /// for it, starting from the store's latest snapshot before it.
    func timeline(entity: String, id: String, upTo point: EntityTimeline.Point? = nil) async throws -> EntityTimeline {
        let stream = try stream(entity: entity, id: id)
        var snapshot: Document?
        if let point {
            snapshot = try await documents.snapshot(entity: entity, id: id, before: point)
        }
        var limit = Int.max
        if case .version(let version)? = point, let snapshot {
            limit = Int(max(0, version - snapshot.version))
        }
        let events: [RecordedEvent]
        do {
            let start: ReadStart = snapshot.map { ReadStart.revision($0.version + 1) } ?? .start
            events = limit == 0 ? [] : try await store.read(stream, from: start, direction: .forwards, limit: limit)
        } catch let error as ChronicleError where error.code == .streamNotFound && error.actualRevision != nil {
            throw Problem(.notFound, code: "entity-deleted", title: "Entity deleted", detail: "\(entity) \(id) was deleted; its history is hidden with its stream.")
        }
        return try EntityTimeline(entity: entity, id: id, events: events, projection: projection, snapshot: snapshot)
    }

    /// Parses a point (`version`, `at`, `from`, `to`).
    static func point(_ text: String, name: String) throws -> EntityTimeline.Point {
        guard let point = EntityTimeline.Point(parsing: text) else {
            throw Problem.invalid("\(name) must be a version (0 or more) or an RFC 3339 instant such as 2026-11-27T10:00:00Z; got \(text.debugDescription).")
        }
        return point
    }

    /// The document at a point, or a 404 problem saying why there is none.
    static func document(at point: EntityTimeline.Point, in timeline: EntityTimeline) throws -> Document {
        if case .version(let version) = point, let latest = timeline.latestVersion, version > latest {
            throw Problem(.notFound, code: "version-not-found", title: "Version not found", detail: "\(timeline.entity) \(timeline.id) has no version \(version); its latest is \(latest).", extensions: ["latestVersion": .integer(latest)])
        }
        guard let document = timeline.document(at: point) else {
            throw Problem(.notFound, code: "entity-not-found", title: "Entity not found", detail: "\(timeline.entity) \(timeline.id) did not exist at that point.")
        }
        return document
    }
}

extension ChronicleServer {
    func registerEntityRoutes(on router: Router<ChronicleRequestContext>) {
        let entities = entities
        let store = store

        @Sendable func reads() throws -> EntityReads {
            guard let entities else {
                throw Problem(.notFound, code: "no-schema", title: "No read models", detail: "This server keeps no entities: start it with --schema FILE to declare them.")
            }
            return entities
        }

        router.get("/v1/entities/{entity}/{id}") { request, context in
            try context.require(.read)
            let reads = try reads()
            let entity = try context.parameters.decoded("entity"), id = try context.parameters.decoded("id")
            _ = try reads.stream(entity: entity, id: id)
            let query = request.uri.queryParameters
            if let version = query["version"].map(String.init) ?? query["at"].map(String.init) {
                let point = try EntityReads.point(version, name: query["version"] != nil ? "version" : "at")
                let document = try EntityReads.document(at: point, in: try await reads.timeline(entity: entity, id: id, upTo: point))
                return json(.ok, document.jsonText, headers: [.eTag: EventRequests.eTag(document.version)])
            }
            if let after = query["after"] {
                guard let position = Int64(after), position >= 0 else {
                    throw Problem.invalid("after must be a log position (0 or more); got \(String(after).debugDescription).")
                }
                let wait = try waitDuration(query["wait"])
                try await waitForPosition(position, store: store, documents: reads.documents, wait: wait)
            }
            guard let document = try await reads.documents.document(entity: entity, id: id) else {
                throw Problem(.notFound, code: "entity-not-found", title: "Entity not found", detail: "There is no \(entity) with id \(id).")
            }
            if document.deleted && query["includeDeleted"] != "true" {
                throw Problem(.notFound, code: "entity-deleted", title: "Entity deleted", detail: "\(entity) \(id) was deleted; add ?includeDeleted=true to see its last state.", extensions: ["version": .integer(document.version)])
            }
            let eTag = EventRequests.eTag(document.version)
            if let none = request.headers[.ifNoneMatch], none.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == eTag }) {
                return Response(status: .notModified, headers: [.eTag: eTag])
            }
            return json(.ok, document.jsonText, headers: [.eTag: eTag])
        }

        router.get("/v1/entities/{entity}") { request, context in
            try context.require(.read)
            let reads = try reads()
            let entity = try context.parameters.decoded("entity")
            let query = try documentQuery(entity: entity, request.uri.queryParameters)
            let page = try await reads.documents.documents(query)
            let next = page.next.map { "\"\($0.token)\"" } ?? "null"
            return json(.ok, "{\"entity\":\(entity.jsonQuoted),\"documents\":[\(page.documents.map(\.jsonText).joined(separator: ","))],\"next\":\(next)}")
        }

        router.get("/v1/entities/{entity}/{id}/history") { _, context in
            try context.require(.read)
            let reads = try reads()
            let entity = try context.parameters.decoded("entity"), id = try context.parameters.decoded("id")
            let timeline = try await reads.timeline(entity: entity, id: id)
            guard !timeline.steps.isEmpty else {
                throw Problem(.notFound, code: "entity-not-found", title: "Entity not found", detail: "There is no \(entity) with id \(id).")
            }
            return json(.ok, timeline.historyJSON)
        }

        router.get("/v1/entities/{entity}/{id}/diff") { request, context in
            try context.require(.read)
            let reads = try reads()
            let entity = try context.parameters.decoded("entity"), id = try context.parameters.decoded("id")
            let query = request.uri.queryParameters
            guard let fromText = query["from"].map(String.init), let toText = query["to"].map(String.init) else {
                throw Problem.invalid("diff needs from and to: versions or RFC 3339 instants, such as ?from=0&to=3.")
            }
            let from = try EntityReads.point(fromText, name: "from"), to = try EntityReads.point(toText, name: "to")
            let timeline = try await reads.timeline(entity: entity, id: id)
            let before = try EntityReads.document(at: from, in: timeline)
            let after = try EntityReads.document(at: to, in: timeline)
            return json(.ok, timeline.diffJSON(from: before, to: after))
        }
    }
}

/// Parses `GET /v1/entities/{entity}` parameters: `limit`, `cursor`, `sort` (`field` or
/// `-field`), `includeDeleted`, and filters `field=value` or `field[gte]=value` (eq, ne, gt,
/// gte, lt, lte). Values are JSON scalars (`5`, `true`, `"5"`), else plain strings.
func documentQuery(entity: String, _ parameters: HummingbirdCore.FlatDictionary<Substring, Substring>) throws -> DocumentQuery {
    func field(_ name: Substring) throws -> String {
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 }) else {
            throw Problem.invalid("\(String(name).debugDescription) is not a field name filters or sorts can use: letters, digits and _ only.")
        }
        return String(name)
    }
    var query = DocumentQuery(entity: entity)
    for (rawName, value) in parameters {
        // Hummingbird decodes values but not names; `age%5Bgte%5D` is `age[gte]`.
        let name = Substring(String(rawName).removingPercentEncoding ?? String(rawName))
        switch name {
        case "limit": query.limit = try LogQuery.limit(value)
        case "cursor":
            guard let cursor = DocumentCursor(token: String(value)) else {
                throw Problem.invalid("cursor is not one this server gave; pass the `next` of the previous page as it is.")
            }
            query.cursor = cursor
        case "sort":
            query.descending = value.hasPrefix("-")
            query.sortField = try field(value.hasPrefix("-") ? value.dropFirst() : value[...])
        case "includeDeleted":
            guard value == "true" || value == "false" else { throw Problem.invalid("includeDeleted must be true or false.") }
            query.includeDeleted = value == "true"
        case "access_token":
            continue
        default:
            var fieldName = name
            var comparison = DocumentQuery.Comparison.eq
            if let open = name.firstIndex(of: "["), name.hasSuffix("]") {
                let operation = name[name.index(after: open)..<name.index(before: name.endIndex)]
                guard let parsed = DocumentQuery.Comparison(rawValue: String(operation)) else {
                    throw Problem.invalid("\(String(name).debugDescription): the comparisons are eq, ne, gt, gte, lt and lte, as in age[gte]=18.")
                }
                comparison = parsed
                fieldName = name[..<open]
            }
            let parsed = (try? JSONValue(parsing: String(value))) ?? .string(String(value))
            if case .object = parsed { throw Problem.invalid("Filters compare with a scalar value, not an object.") }
            if case .array = parsed { throw Problem.invalid("Filters compare with a scalar value, not an array.") }
            query.filters.append(.init(field: try field(fieldName), comparison, parsed))
        }
    }
    return query
}

/// `wait`: seconds (`2`, `0.5`) or with a unit (`500ms`, `2s`); default 5 s, at most 30 s.
func waitDuration(_ text: Substring?) throws -> Duration {
    guard let text else { return .seconds(5) }
    var number = String(text)
    var scale = 1.0
    if number.hasSuffix("ms") {
        number.removeLast(2)
        scale = 0.001
    } else if number.hasSuffix("s") {
        number.removeLast()
    }
    guard let value = Double(number), value >= 0, value * scale <= 30 else {
        throw Problem.invalid("wait must be a duration up to 30 s, such as 2s or 500ms; got \(String(text).debugDescription).")
    }
    return .milliseconds(Int64(value * scale * 1000))
}

/// Waits (bounded) until the documents include `position` (read your own write).
func waitForPosition(_ position: Int64, store: any EventStore, documents: any DocumentStore, wait: Duration) async throws {
    if try await documents.documentsPosition() >= position { return }
    let reached = await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            while !Task.isCancelled {
                guard let current = try? await documents.documentsPosition() else { return false }
                if current >= position { return true }
                // Woken by commits; an asynchronous projection moves between them, so look again soon.
                await withTaskGroup(of: Void.self) { waits in
                    waits.addTask { try? await store.waitForEvents(after: max(current, position - 1)) }
                    waits.addTask { try? await Task.sleep(for: .milliseconds(20)) }
                    await waits.next()
                    waits.cancelAll()
                }
            }
            return false
        }
        group.addTask {
            try? await Task.sleep(for: wait)
            return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
    if !reached {
        let head = (try? await documents.documentsPosition()) ?? 0
        throw Problem(.serviceUnavailable, code: "not-caught-up", title: "Not caught up", detail: "The read models have not reached position \(position) within \(wait) (they are at \(head)). Retry, or wait longer with ?wait=.", extensions: ["position": .integer(head), "lag": .integer(position - head)], headers: [.retryAfter: "1"])
    }
}

/// The state of the server's projection, for `/v1/projections`.
final class ProjectionRuns: Sendable {
    private struct State {
        var running = false
        var done: Int64 = 0
        var total: Int64 = 0
        var started: ContinuousClock.Instant?
        var lastReplayed: Int?
        var lastDuration: Duration?
        var lastFinished: Int64?
        var violations: [JSONValue] = []
    }

    private let state = Mutex(State())

    /// Records what the last rebuild found breaking a `unique:` rule.
    func found(_ violations: [JSONValue]) {
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

    var json: String {
        state.withLock { state in
            let replayed = state.lastReplayed.map(String.init) ?? "null"
            let seconds = state.lastDuration.map { String(format: "%.3f", Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) } ?? "null"
            let finished = state.lastFinished.map { "\"\(Timestamp.iso8601(microseconds: $0))\"" } ?? "null"
            var rate = 0.0, eta = 0.0
            if state.running, let started = state.started {
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                rate = seconds > 0 ? Double(state.done) / seconds : 0
                eta = rate > 0 ? Double(max(0, state.total - state.done)) / rate : 0
            }
            return "{\"running\":\(state.running),\"progress\":{\"position\":\(state.done),\"target\":\(state.total),\"eventsPerSecond\":\(Int(rate)),\"etaSeconds\":\(String(format: "%.1f", eta))},\"lastReplayedEvents\":\(replayed),\"lastDurationSeconds\":\(seconds),\"lastFinishedAt\":\(finished),\"uniqueViolations\":\(JSONValue.array(state.violations).canonicalText)}"
        }
    }
}

extension ChronicleServer {
    func registerProjectionRoutes(on router: Router<ChronicleRequestContext>) {
        let entities = entities
        let logger = logger
        let store = store
        let runs = projectionRuns

        @Sendable func status(_ reads: EntityReads) async throws -> String {
            let head = try await store.headPosition()
            let checkpoint = try await reads.documents.documentsPosition()
            var lagSeconds = 0.0
            if checkpoint < head, let next = try await store.readLog(after: checkpoint, limit: 1, filter: LogFilter()).events.first {
                lagSeconds = max(0, Double(Timestamp.now() - next.recordedAtMicroseconds) / 1_000_000)
            }
            return "{\"name\":\(reads.projection.name.jsonQuoted),\"lifecycle\":\"\(reads.lifecycle.rawValue)\",\"definitionHash\":\(reads.projection.definitionHash.jsonQuoted),\"checkpoint\":\(checkpoint),\"lag\":{\"events\":\(head - checkpoint),\"seconds\":\(String(format: "%.3f", lagSeconds))},\"rebuild\":\(runs.json)}"
        }

        router.get("/v1/projections") { _, context in
            try context.require(.read)
            guard let entities else { return json(.ok, #"{"projections":[]}"#) }
            return json(.ok, "{\"projections\":[\(try await status(entities))]}")
        }

        router.get("/v1/projections/{name}") { _, context in
            try context.require(.read)
            let name = try context.parameters.decoded("name")
            guard let entities, entities.projection.name == name else {
                throw Problem(.notFound, code: "projection-not-found", title: "Projection not found", detail: "There is no projection named \(name). See /v1/projections.")
            }
            return json(.ok, try await status(entities))
        }

        router.post("/v1/projections/{name}/rebuild") { _, context in
            try context.require(.admin)
            let name = try context.parameters.decoded("name")
            guard let entities, entities.projection.name == name else {
                throw Problem(.notFound, code: "projection-not-found", title: "Projection not found", detail: "There is no projection named \(name). See /v1/projections.")
            }
            let (replayed, duration) = try await runs.rebuild { try await entities.documents.rebuildDocuments { runs.progress($0, $1) } }
            var violations: [UniqueViolation] = []
            if let schema = entities.projection as? DeclarativeProjection {
                // Appends keep unique: rules, but an imported or older log may not have.
                violations = try await schema.uniqueViolations(in: entities.documents)
                for violation in violations {
                    logger.warning("Rebuilt documents break a unique rule", metadata: ["chronicle.projection": "\(name)", "chronicle.violation": "\(violation)"])
                }
                runs.found(violations.map(\.json))
            }
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return json(.ok, "{\"name\":\(name.jsonQuoted),\"replayedEvents\":\(replayed),\"durationSeconds\":\(String(format: "%.3f", seconds)),\"uniqueViolations\":\(JSONValue.array(violations.map(\.json)).canonicalText)}")
        }
    }
}
