import AsyncHTTPClient
import ChronicleCore
import ChronicleProjections
import ChronicleServer
import ChronicleSQLite
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// The read-model figures of `chronicle bench --projections`: rebuilding a `merge`-style
/// projection over a large log, and the latency of reading one entity (from the store, and
/// over HTTP from a real server on loopback).
struct ProjectionBench {
    let events: Int
    let entities: Int
    let reads: Int

    /// The entities that get events (each append call gives one entity 100 events).
    var activeEntities: Int { max(1, min(entities, (events + 99) / 100)) }

    struct Result {
        var rebuildEventsPerSecond: Double
        /// Rebuilding the same log with a schema under which each `UserUpdated` also changes a
        /// list (`each:`) and a team (`id:`): three documents per event.
        var fanOutRebuildEventsPerSecond: Double
        var storeLatencies: [Duration]
        var httpLatencies: [Duration]
        var temporal: TemporalReads
    }

    /// Reads of the read model now and as of a moment (at the head, and in the middle of the
    /// log), and what the temporal table costs on disk.
    struct TemporalReads {
        var currentGet: [Duration] = []
        var asOfGetHead: [Duration] = []
        var asOfGetMiddle: [Duration] = []
        var currentList: [Duration] = []
        var asOfListHead: [Duration] = []
        var asOfListMiddle: [Duration] = []
        /// Bytes of the temporal table and its index.
        var temporalBytes: Int64 = 0
        /// Bytes of everything else in the data file.
        var otherBytes: Int64 = 0
        var events: Int = 0

        mutating func merge(_ other: TemporalReads) {
            currentGet += other.currentGet
            asOfGetHead += other.asOfGetHead
            asOfGetMiddle += other.asOfGetMiddle
            currentList += other.currentList
            asOfListHead += other.asOfListHead
            asOfListMiddle += other.asOfListMiddle
            temporalBytes = other.temporalBytes
            otherBytes = other.otherBytes
            events = other.events
        }
    }

    static let schema = """
        entities:
          user:
            events:
              UserCreated: create
              UserUpdated: merge
        """

    /// ``schema``, with each `UserUpdated` changing three entities.
    static let fanOutSchema = schema + """

          list:
            events:
              UserUpdated: { each: $.data.lists, id: $._id, upsert: { email: $.email } }
          team:
            events:
              UserUpdated: { id: $.data.team, upsert: { plan: $.plan } }
        """

    func run(directory: String, logger: Logger, progress: (String) -> Void) async throws -> Result {
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: Self.schema))
        do {
            // Fill the log without the projection, as an existing store would be.
            let store = try SQLiteEventStore(directory: directory, configuration: .init(durability: .lossyOnPowerFailure), logger: logger)
            try await Self.fill(store, from: 0, to: events, entities: entities) { written in
                if written % 100_000 == 0 || written == events { progress("projections: wrote \(written)/\(events) events") }
            }
        }
        var measured = try await measure(directory: directory, projection: projection, logger: logger, progress: progress)
        // The same log again under the fan-out schema (its fingerprint differs, so opening rebuilds).
        let start = ContinuousClock.now
        let fanOut = try SQLiteEventStore(directory: directory, configuration: .init(projection: DeclarativeProjection(schema: try EntitySchema(yaml: Self.fanOutSchema))), logger: logger)
        measured.fanOutRebuildEventsPerSecond = Double(events) / (ContinuousClock.now - start).seconds
        guard try await fanOut.document(entity: "team", id: "t0") != nil, try await fanOut.document(entity: "list", id: "l0") != nil else {
            throw CommandFailure(message: "bench: the fan-out rebuild made no team or list documents")
        }
        progress("projections: rebuilt \(events) events, each changing three entities")
        return measured
    }

    /// Appends the bench's log from event `start` (0-based) to `events`: in rounds, each
    /// giving every one of `entities` users (`user-0`…) 100 events, the first of a user's
    /// `UserCreated` and the rest `UserUpdated`; 10 users' 100 events per append call, so a
    /// fill that stopped can be resumed from any call's end. Event `i`'s id is ``fillID(_:)``,
    /// so resuming from a call that was stored after all stores nothing twice. `written` is
    /// told the events written so far after each call.
    static func fill(_ store: any EventStore, from start: Int, to events: Int, entities: Int, written: (Int) throws -> Void) async throws {
        let perStream = 100, streamsPerCall = 10
        var index = start
        while index < events {
            var parts: [AppendRequest.StreamAppend] = []
            while parts.count < streamsPerCall && index < events {
                let entity = (index / perStream) % entities
                let base = index
                let count = min(perStream - base % perStream, events - base)
                let first = base / (perStream * entities) == 0 && base % perStream == 0
                parts.append(.init(stream: try StreamName("user-\(entity)"), events: (0..<count).map { offset in
                    EventData(id: fillID(base + offset), type: first && offset == 0 ? "UserCreated" : "UserUpdated", data: [
                        "email": .string("user\(entity)@example.com"), "logins": .integer(Int64(base + offset)), "plan": offset % 2 == 0 ? "pro" : "free",
                        "lists": [["_id": .string("l\(entity % 50)"), "email": .string("user\(entity)@example.com")]], "team": .string("t\(entity % 20)"),
                    ])
                }))
                index += count
            }
            try await store.append(AppendRequest(parts))
            try written(index)
        }
    }

    /// The id of event `index` of ``fill(_:from:to:entities:written:)``: time-ordered, as
    /// generated ids are, so the id index grows at its end.
    static func fillID(_ index: Int) -> UUID {
        UUID(uuidString: String(format: "00000000-0000-7000-8000-%012llx", UInt64(index)))!
    }

    /// Appends of 100 events, one user per writer, to a fresh store that folds them into
    /// ``schema``'s read model as it appends (inline), and the same appends to a fresh store
    /// without a schema, in that order; events/s of each.
    static func appendBatches(directory: String, events: Int, writers: Int, durability: SQLiteEventStore.Configuration.Durability, logger: Logger) async throws -> (inline: Double, schemaless: Double) {
        let event: @Sendable (Int) -> EventData = { index in
            EventData(type: index == 0 ? "UserCreated" : "UserUpdated", data: ["email": "user@example.com", "logins": .integer(Int64(index)), "plan": index % 2 == 0 ? "pro" : "free"])
        }
        let inlineStore = try SQLiteEventStore(directory: directory + "/inline", configuration: .init(durability: durability, projection: DeclarativeProjection(schema: try EntitySchema(yaml: schema))), logger: logger)
        let inline = try await Bench.appendBatch(inlineStore, events: events, writers: writers, category: "user", event: event)
        guard try await inlineStore.document(entity: "user", id: "0") != nil else { throw CommandFailure(message: "bench: the inline appends made no user document") }
        let schemaless = try await Bench.appendBatch(try SQLiteEventStore(directory: directory + "/schemaless", configuration: .init(durability: durability), logger: logger), events: events, writers: writers, category: "user", event: event)
        return (inline, schemaless)
    }

    /// The single-entity rebuild at open, then the reads.
    private func measure(directory: String, projection: DeclarativeProjection, logger: Logger, progress: (String) -> Void) async throws -> Result {
        let start = ContinuousClock.now
        let store = try SQLiteEventStore(directory: directory, configuration: .init(projection: projection), logger: logger)
        let rebuild = Double(events) / (ContinuousClock.now - start).seconds
        progress("projections: rebuilt \(events) events")

        var storeLatencies: [Duration] = []
        for index in 0..<reads {
            let began = ContinuousClock.now
            guard try await store.document(entity: "user", id: String(index % activeEntities)) != nil else {
                throw CommandFailure(message: "bench: user \(index % activeEntities) has no document")
            }
            storeLatencies.append(ContinuousClock.now - began)
        }
        let httpLatencies = try await httpReads(store: store, projection: projection, logger: logger)
        let temporal = try await temporalReads(store: store)
        return Result(rebuildEventsPerSecond: rebuild, fanOutRebuildEventsPerSecond: 0, storeLatencies: storeLatencies, httpLatencies: httpLatencies, temporal: temporal)
    }

    /// The same gets and a 50-document list, now and as of the head and the middle of the log.
    private func temporalReads(store: SQLiteEventStore) async throws -> TemporalReads {
        var result = TemporalReads()
        let head = try await store.headPosition(), middle = head / 2
        func timed(_ body: () async throws -> Void) async throws -> Duration {
            let began = ContinuousClock.now
            try await body()
            return ContinuousClock.now - began
        }
        for index in 0..<reads {
            let id = String(index % activeEntities)
            result.currentGet.append(try await timed { _ = try await store.document(entity: "user", id: id) })
            result.asOfGetHead.append(try await timed { _ = try await store.document(entity: "user", id: id, asOf: head) })
            result.asOfGetMiddle.append(try await timed { _ = try await store.document(entity: "user", id: id, asOf: middle) })
        }
        let list = DocumentQuery(entity: "user", limit: 50)
        for _ in 0..<max(1, reads / 10) {
            result.currentList.append(try await timed { _ = try await store.documents(list) })
            result.asOfListHead.append(try await timed { _ = try await store.documents(list, asOf: head) })
            result.asOfListMiddle.append(try await timed { _ = try await store.documents(list, asOf: middle) })
        }
        let bytes = try await store.storageBytes()
        result.temporalBytes = bytes.filter { $0.key.hasPrefix("document_versions") }.values.reduce(0, +)
        result.otherBytes = bytes.filter { !$0.key.hasPrefix("document_versions") }.values.reduce(0, +)
        result.events = events
        return result
    }

    private func httpReads(store: SQLiteEventStore, projection: DeclarativeProjection, logger: Logger) async throws -> [Duration] {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() as EventLoopFuture<Void> }
        let reads = reads, entities = activeEntities
        let server = ChronicleServer(store: store, configuration: .init(port: 0), logger: logger, documents: store, projection: projection)
        return try await withBenchServer(server, logger: logger) { port in
            var latencies: [Duration] = []
            for index in 0..<reads {
                let began = ContinuousClock.now
                let response = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/entities/user/\(index % entities)"), timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 20)
                guard response.status == .ok else { throw CommandFailure(message: "bench: GET answered \(response.status.code)") }
                latencies.append(ContinuousClock.now - began)
            }
            return latencies
        }
    }
}
