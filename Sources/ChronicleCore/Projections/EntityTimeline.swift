/// An entity's past, folded from its stream: the document after each event, the patch each
/// event made, and the state at any version or instant. Time travel, history and diff (HTTP
/// and CLI) all read this one type.
public struct EntityTimeline: Sendable {
    /// A point in the timeline.
    public enum Point: Sendable, Hashable {
        /// After the event with this revision.
        case version(Int64)
        /// As it stood at this instant (microseconds since the epoch).
        case instant(Int64)

        /// Parses a version (`3`) or an RFC 3339 instant; `nil` if it is neither.
        public init?(parsing text: String) {
            if let version = Int64(text), version >= 0 {
                self = .version(version)
            } else if let instant = Timestamp.microseconds(parsing: text) {
                self = .instant(instant)
            } else {
                return nil
            }
        }
    }

    /// One event and the document after it (`nil` if the event removed it or there was none).
    public struct Step: Sendable {
        /// The event.
        public var event: RecordedEvent
        /// The document after the event.
        public var document: Document?
        /// The entity's version after the event: the event's revision when it is of the
        /// entity's own stream; for an event of another stream that changed the entity (a
        /// schema's `id:`/`each:`), the version it already had (`-1`: its stream had none yet).
        public var version: Int64
        /// Whether the event is of the entity's own stream.
        public var isOwn: Bool
    }

    /// The entity kind.
    public let entity: String
    /// The entity id.
    public let id: String
    /// The steps, oldest first.
    public let steps: [Step]

    /// Folds the entity's events (its stream's, and those of other streams that change it,
    /// in log order) through the projection, starting from `snapshot` (the document after
    /// `snapshot.version`, at `snapshot.position`) when given; then `events` are those after it.
    public init(entity: String, id: String, events: [RecordedEvent], projection: any Projection, snapshot: Document? = nil) throws {
        self.entity = entity
        self.id = id
        self.snapshot = snapshot
        let stream = projection.stream(entity: entity, id: id)
        var version = snapshot?.version ?? -1
        let target = projection.changesOtherEntities ? DocumentChangeKey(entity: entity, id: id) : nil
        self.steps = try projection.fold(events, from: snapshot, target: target).map { step in
            let own = step.event.stream == stream
            if own { version = step.event.revision }
            return Step(event: step.event, document: step.document, version: version, isOwn: own)
        }
    }

    /// The snapshot the fold started from, if any.
    public let snapshot: Document?

    /// The revision of the entity's stream's last event, if any.
    public var latestVersion: Int64? {
        steps.last(where: \.isOwn)?.event.revision ?? snapshot.map(\.version).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// The document at a point, or `nil` if the entity did not exist then (or the version is
    /// past the latest). A version's state holds until the stream's next event: it includes
    /// what events of other streams changed after it.
    public func document(at point: Point) -> Document? {
        switch point {
        case .version(let version):
            guard let latest = latestVersion, version <= latest else { return nil }
            if let step = steps.last(where: { $0.version <= version }) { return step.document }
            return snapshot
        case .instant(let instant):
            if let step = steps.last(where: { $0.event.recordedAtMicroseconds <= instant }) { return step.document }
            return snapshot
        }
    }
}
