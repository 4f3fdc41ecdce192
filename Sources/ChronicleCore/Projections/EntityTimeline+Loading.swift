extension EntityTimeline {
    /// An entity's timeline read from a store, the one way every surface (HTTP, CLI) reads
    /// it: its stream's events, from the latest snapshot before `point` when one is given,
    /// and — when the projection's events change other entities — the events of other
    /// streams that changed it, found through its temporal table, in log order.
    ///
    /// - Throws: ``ChronicleError/Code/streamNotFound`` with `actualRevision` when the entity's
    ///   stream was soft-deleted (its history is hidden with it).
    public static func load(
        entity: String, id: String, upTo point: Point? = nil,
        store: any EventStore, documents: any DocumentStore, projection: any Projection
    ) async throws -> EntityTimeline {
        let stream = try projection.stream(entity: entity, id: id) ?? StreamName("\(entity)-\(id)")
        let foreign = projection.changesOtherEntities
        var snapshot: Document?
        if let point { snapshot = try await documents.snapshot(entity: entity, id: id, before: point) }
        // Without other streams' events, a version needs the stream only as far as it.
        var limit = Int.max
        if !foreign, case .version(let version)? = point, let snapshot {
            limit = Int(max(0, version - snapshot.version))
        }
        var events: [RecordedEvent] = []
        if limit > 0 {
            do {
                events = try await store.read(stream, from: snapshot.map { .revision($0.version + 1) } ?? .start, direction: .forwards, limit: limit)
            } catch let error as ChronicleError where foreign && error.code == .streamNotFound && error.actualRevision == nil {
                // Only events of other streams changed it: it has no stream of its own.
            }
        }
        if foreign {
            let own = Set(events.map(\.position))
            var others: [RecordedEvent] = []
            for position in try await documents.changePositions(entity: entity, id: id, after: snapshot?.position ?? 0) where !own.contains(position) {
                if let event = try await store.readLog(after: position - 1, limit: 1, filter: LogFilter()).events.first, event.position == position, event.stream != stream {
                    others.append(event)
                }
            }
            if !others.isEmpty { events = (events + others).sorted { $0.position < $1.position } }
        }
        return try EntityTimeline(entity: entity, id: id, events: events, projection: projection, snapshot: snapshot)
    }
}
