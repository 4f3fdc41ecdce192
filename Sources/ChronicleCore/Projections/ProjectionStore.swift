/// A projection as a store runs it: the fold and its lifecycle.
public struct ProjectionRegistration: Sendable {
    /// The fold.
    public var projection: any Projection
    /// When the store applies it.
    public var lifecycle: ProjectionLifecycle

    /// Registers `projection` with `lifecycle`.
    public init(_ projection: any Projection, lifecycle: ProjectionLifecycle = .inline) {
        self.projection = projection
        self.lifecycle = lifecycle
    }

    /// The projections of a store configured with a primary `projection` (if any) in
    /// `lifecycle`, then `additional` ones.
    public static func list(primary projection: (any Projection)?, lifecycle: ProjectionLifecycle, additional: [ProjectionRegistration] = []) -> [ProjectionRegistration] {
        (projection.map { [ProjectionRegistration($0, lifecycle: lifecycle)] } ?? []) + additional
    }

    /// The inline ones of `registrations`: those applied in the append's transaction.
    public static func inline(_ registrations: [ProjectionRegistration]) -> [any Projection] {
        registrations.filter { $0.lifecycle == .inline }.map(\.projection)
    }

    /// The projection's name, which keys its documents, checkpoint and status.
    public var name: String { projection.name }

    /// Refuses a list of projections a store cannot keep apart: names must be unique,
    /// 1–100 characters, without whitespace or control characters.
    public static func validate(_ registrations: [ProjectionRegistration]) throws {
        var seen: Set<String> = []
        for registration in registrations {
            let name = registration.name
            guard !name.isEmpty, name.count <= 100, !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) else {
                throw ChronicleError(.invalidInput, "Projection name \(name.debugDescription) is not usable: give each projection a name of 1–100 characters without whitespace or control characters.")
            }
            if registration.lifecycle == .live && registration.projection.changesOtherEntities {
                throw ChronicleError(.invalidInput, "Projection \(name) has events that change entities of other streams; a live projection folds one stream on demand and cannot follow them. Use the inline or async lifecycle.")
            }
            guard seen.insert(name).inserted else {
                throw ChronicleError(.invalidInput, "Two projections are named \(name.debugDescription); their documents would mix. Give each projection of a store its own name.")
            }
        }
    }
}

/// A store that keeps several named projections side by side, each with its own lifecycle,
/// documents, checkpoint and rebuild. The store's ``DocumentStore`` and
/// ``AsyncProjectionStore`` methods serve the first (primary) projection;
/// ``projection(named:)`` gives any of them.
///
/// For backend authors: a driver implements the methods that take a projection name with
/// SQL; the engine (``LogWriter``, ``Projection/apply(_:to:snapshotInterval:)``,
/// ``DocumentSet``) does the folding.
public protocol ProjectionStore: EventStore {
    /// The projections the store keeps, the primary one first.
    var projections: [ProjectionRegistration] { get }
    /// An entity's document in a projection (folded on demand for a live one).
    func document(entity: String, id: String, projection: String) async throws -> Document?
    /// A page of a projection's documents.
    func documents(_ query: DocumentQuery, projection: String) async throws -> DocumentPage
    /// The latest snapshot of an entity's document in a projection at or before a point.
    func snapshot(entity: String, id: String, before point: EntityTimeline.Point, projection: String) async throws -> Document?
    /// An entity's document as it was right after `position` (deleted or not), from the
    /// projection's temporal table (folded on demand for a live one); `nil` if there was none
    /// then. Callers check `position` against ``documentsPosition(projection:)`` first.
    func document(entity: String, id: String, projection: String, asOf position: Int64) async throws -> Document?
    /// The first position from which the projection's temporal table holds the read model:
    /// 0, unless the store was upgraded from a version that kept no past (then the head at
    /// the upgrade, until a rebuild records the whole past).
    func historyStart(projection: String) async throws -> Int64
    /// The positions after `position` at which an entity's document changed in a projection
    /// (its temporal table's rows), oldest first: how an entity's timeline finds the events of
    /// other streams that changed it. Empty for a live projection.
    func changePositions(entity: String, id: String, projection: String, after position: Int64) async throws -> [Int64]
    /// A page of a projection's documents as they were right after `position`: one cut.
    func documents(_ query: DocumentQuery, projection: String, asOf position: Int64) async throws -> DocumentPage
    /// The entities whose documents changed in `(from, to]`, ordered by their last change
    /// there (then kind and id), after `cursor`, at most `limit`; with `entity`, of that kind
    /// only.
    func changedDocuments(projection: String, from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int) async throws -> [ChangedDocument]
    /// Rebuilds one projection's documents from the events; the others are not touched.
    func rebuildDocuments(projection: String, progress: @Sendable (_ done: Int64, _ total: Int64) -> Void) async throws -> Int
    /// An asynchronous projection's checkpoint (0 before it applied anything).
    func projectionCheckpoint(projection: String) async throws -> Int64
    /// Applies a page of events to an asynchronous projection and moves its checkpoint; see
    /// ``AsyncProjectionStore/applyProjection(_:after:through:)``.
    func applyProjection(_ events: [RecordedEvent], after checkpoint: Int64, through: Int64, projection: String) async throws -> Int64
}

extension ProjectionStore {
    /// The registration of a projection, or an error that names the store's projections.
    public func registration(named name: String) throws -> ProjectionRegistration {
        if let found = projections.first(where: { $0.name == name }) { return found }
        let known = projections.map(\.name)
        let kept = known.isEmpty ? "this store keeps none." : "this store keeps \(known.joined(separator: ", "))."
        throw ChronicleError(.projectionNotFound, "There is no projection named \(name.debugDescription); \(kept)")
    }

    /// One projection's documents, checkpoint and rebuild, as a store of its own.
    public func projection(named name: String) throws -> ProjectionView {
        ProjectionView(store: self, registration: try registration(named: name))
    }

    /// Every projection, as views.
    public var projectionViews: [ProjectionView] {
        projections.map { ProjectionView(store: self, registration: $0) }
    }

    /// The position up to which a projection's documents are current: its checkpoint when
    /// asynchronous, else the head.
    public func documentsPosition(projection: String) async throws -> Int64 {
        try registration(named: projection).lifecycle == .async ? try await projectionCheckpoint(projection: projection) : try await headPosition()
    }

    /// The inline projections, which are applied in the append's transaction.
    public var inlineProjections: [any Projection] {
        ProjectionRegistration.inline(projections)
    }

    /// Refuses an append carrying request rules when no projection's documents are current
    /// in the write transaction.
    public func refuseRulesWithoutInlineProjection(_ request: PreparedAppend) throws {
        if !request.rules.isEmpty && !projections.contains(where: { $0.lifecycle == .inline }) {
            throw ChronicleError(.invalidInput, "Rules need an inline projection: their documents must be current in the append's transaction. Open the store with one.")
        }
    }

    // The primary projection, for the single-projection protocols.

    private var primary: String? { projections.first?.name }

    /// The primary projection's document; see ``DocumentStore/document(entity:id:)``.
    public func document(entity: String, id: String) async throws -> Document? {
        guard let primary else { return nil }
        return try await document(entity: entity, id: id, projection: primary)
    }

    /// A page of the primary projection's documents; see ``DocumentStore/documents(_:)``.
    public func documents(_ query: DocumentQuery) async throws -> DocumentPage {
        guard let primary else { return DocumentPage(documents: [], next: nil) }
        return try await documents(query, projection: primary)
    }

    /// See ``DocumentStore/documentsPosition()``.
    public func documentsPosition() async throws -> Int64 {
        guard let primary else { return try await headPosition() }
        return try await documentsPosition(projection: primary)
    }

    /// See ``DocumentStore/snapshot(entity:id:before:)``.
    public func snapshot(entity: String, id: String, before point: EntityTimeline.Point) async throws -> Document? {
        guard let primary else { return nil }
        return try await snapshot(entity: entity, id: id, before: point, projection: primary)
    }

    /// Rebuilds the primary projection; see ``DocumentStore/rebuildDocuments(progress:)``.
    @discardableResult
    public func rebuildDocuments(progress: @Sendable (_ done: Int64, _ total: Int64) -> Void) async throws -> Int {
        guard let primary else {
            throw ChronicleError(.invalidInput, "This store has no projection to rebuild; open it with one (Configuration.projection).")
        }
        return try await rebuildDocuments(projection: primary, progress: progress)
    }

    /// See ``AsyncProjectionStore/projectionCheckpoint()``.
    public func projectionCheckpoint() async throws -> Int64 {
        guard let primary else { return 0 }
        return try await projectionCheckpoint(projection: primary)
    }

    /// See ``AsyncProjectionStore/applyProjection(_:after:through:)``.
    public func applyProjection(_ events: [RecordedEvent], after checkpoint: Int64, through: Int64) async throws -> Int64 {
        guard let primary else {
            throw ChronicleError(.invalidInput, "This store has no asynchronous projection; open it with one (lifecycle .async).")
        }
        return try await applyProjection(events, after: checkpoint, through: through, projection: primary)
    }

    /// Refuses what a live projection cannot do (it keeps no documents).
    public func refuseLive(_ projection: String, _ what: String) throws {
        if try registration(named: projection).lifecycle == .live {
            throw ChronicleError(.invalidInput, "Projection \(projection) is live: it keeps no documents, so it cannot \(what); use the inline or async lifecycle for that.")
        }
    }

    /// Refuses to apply a page to a projection that is not asynchronous.
    public func asyncRegistration(_ projection: String) throws -> ProjectionRegistration {
        let registration = try registration(named: projection)
        guard registration.lifecycle == .async else {
            throw ChronicleError(.invalidInput, "Projection \(projection) is \(registration.lifecycle.rawValue), not asynchronous: the store applies it itself.")
        }
        return registration
    }
}
