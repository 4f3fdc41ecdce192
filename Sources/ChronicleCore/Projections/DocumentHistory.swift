/// One change to a projection's temporal table, as the projection engine makes it: every
/// document version is kept with the positions it was valid between, so that the read model
/// can be read as it was right after any position (``ProjectionStore/document(entity:id:projection:asOf:)``).
public enum DocumentHistoryChange: Sendable, Hashable {
    /// A document was stored at `document.position`; the version that was current until then
    /// (the one that began at `replacing`, if any) stops being valid there.
    case saved(Document, replacing: Int64?)
    /// A document was removed (hard delete, erase) at `position`: its past versions go with
    /// it, and a marker records when.
    case removed(entity: String, id: String, at: Int64)

    /// The entity it concerns.
    public var key: DocumentChangeKey {
        switch self {
        case .saved(let document, _): DocumentChangeKey(entity: document.entity, id: document.id)
        case .removed(let entity, let id, _): DocumentChangeKey(entity: entity, id: id)
        }
    }
}

/// One row of a temporal table: a document as it was from `validFrom` (the position of the
/// event that made it) until `validTo` (the position of the next change; `nil` while it is
/// current). A row without a document marks a removal.
public struct DocumentVersion: Sendable, Hashable {
    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String
    /// The position from which this version holds.
    public var validFrom: Int64
    /// The position from which it no longer holds; `nil` while it is current.
    public var validTo: Int64?
    /// The document; `nil` for a removal marker.
    public var document: Document?

    /// Creates a row.
    public init(entity: String, id: String, validFrom: Int64, validTo: Int64?, document: Document?) {
        self.entity = entity
        self.id = id
        self.validFrom = validFrom
        self.validTo = validTo
        self.document = document
    }

    /// The stored form of "still current" (drivers keep a number so that ranges index well).
    public static let openEnd = Int64.max

    /// `validTo` as stored.
    public var storedValidTo: Int64 { validTo ?? Self.openEnd }
}

/// What a driver does to its temporal table for a list of ``DocumentHistoryChange``s, in this
/// order: remove every stored row of `purges`, end the stored rows of `closes`, insert
/// `inserts`. Versions both made and replaced within the list are inserted already closed,
/// so a batch or a rebuild page writes each row once.
public struct DocumentHistoryPlan: Sendable, Hashable {
    /// A stored version that stops being valid.
    public struct Close: Sendable, Hashable {
        /// The entity kind.
        public var entity: String
        /// The entity id.
        public var id: String
        /// The version's `validFrom`.
        public var validFrom: Int64
        /// Where it ends.
        public var validTo: Int64
    }

    /// Entities whose stored rows all go.
    public var purges: [DocumentChangeKey] = []
    /// Stored rows to end.
    public var closes: [Close] = []
    /// Rows to insert.
    public var inserts: [DocumentVersion] = []

    /// Whether there is nothing to do.
    public var isEmpty: Bool { purges.isEmpty && closes.isEmpty && inserts.isEmpty }

    /// The plan for `changes`, in the order they were made.
    public init(_ changes: some Sequence<DocumentHistoryChange>) {
        var rows: [DocumentChangeKey: [DocumentVersion]] = [:]
        var order: [DocumentChangeKey] = []
        var purged: Set<DocumentChangeKey> = []
        var closes: [Close] = []
        for change in changes {
            switch change {
            case .saved(let document, let replacing):
                let key = DocumentChangeKey(entity: document.entity, id: document.id)
                if rows[key] == nil { order.append(key) }
                if let replacing {
                    if let index = rows[key]?.lastIndex(where: { $0.validFrom == replacing && $0.validTo == nil }) {
                        rows[key]?[index].validTo = document.position
                    } else {
                        closes.append(Close(entity: key.entity, id: key.id, validFrom: replacing, validTo: document.position))
                    }
                }
                rows[key, default: []].append(DocumentVersion(entity: key.entity, id: key.id, validFrom: document.position, validTo: nil, document: document))
            case .removed(let entity, let id, let position):
                let key = DocumentChangeKey(entity: entity, id: id)
                if rows[key] == nil { order.append(key) }
                if purged.insert(key).inserted { purges.append(key) }
                closes.removeAll { $0.entity == entity && $0.id == id }
                rows[key] = [DocumentVersion(entity: entity, id: id, validFrom: position, validTo: nil, document: nil)]
            }
        }
        self.closes = closes
        // In key order (entity, id, then position): a driver inserting them walks its index
        // instead of jumping about it as the log's order would.
        self.inserts = order.sorted { ($0.entity, $0.id) < ($1.entity, $1.id) }.flatMap { rows[$0] ?? [] }
    }
}

/// The versions of one projection's documents held in memory: the in-memory store's temporal
/// table, and the reference its readers are checked against.
public struct DocumentVersions: Sendable {
    /// The rows by entity kind and id, oldest first.
    public private(set) var rows: [DocumentChangeKey: [DocumentVersion]] = [:]

    /// An empty table.
    public init() {}

    /// Applies a plan.
    public mutating func apply(_ plan: DocumentHistoryPlan) {
        for key in plan.purges { rows[key] = nil }
        for close in plan.closes {
            let key = DocumentChangeKey(entity: close.entity, id: close.id)
            if let index = rows[key]?.firstIndex(where: { $0.validFrom == close.validFrom }) { rows[key]?[index].validTo = close.validTo }
        }
        for row in plan.inserts { rows[DocumentChangeKey(entity: row.entity, id: row.id), default: []].append(row) }
    }

    /// Replaces an entity's rows (`nil`: none), as an undo does.
    public mutating func setRows(_ versions: [DocumentVersion]?, for key: DocumentChangeKey) {
        rows[key] = versions
    }

    /// The row in force right after `position`.
    public func version(entity: String, id: String, asOf position: Int64) -> DocumentVersion? {
        rows[DocumentChangeKey(entity: entity, id: id)]?.last { $0.validFrom <= position }
    }

    /// The documents of an entity kind as they were right after `position`.
    public func documents(entity: String, asOf position: Int64) -> [Document] {
        rows.compactMap { key, versions in
            key.entity == entity ? versions.last(where: { $0.validFrom <= position })?.document : nil
        }
    }

    /// The entities changed in `(from, to]`, by last change; see ``ProjectionStore/changedDocuments(projection:from:to:entity:after:limit:)``.
    public func changed(from: Int64, to: Int64, entity: String?, after cursor: ChangeCursor?, limit: Int) -> [ChangedDocument] {
        var found: [ChangedDocument] = []
        for (key, versions) in rows where entity == nil || key.entity == entity {
            guard let last = versions.last(where: { $0.validFrom > from && $0.validFrom <= to }) else { continue }
            let change = ChangedDocument(
                entity: key.entity, id: key.id, position: last.validFrom,
                before: versions.last { $0.validFrom <= from }, after: last
            )
            if let cursor, !(cursor < change.cursor) { continue }
            found.append(change)
        }
        return Array(found.sorted { $0.cursor < $1.cursor }.prefix(max(0, limit)))
    }
}
