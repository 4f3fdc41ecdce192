import Foundation

/// Where a page of changes goes on: after the entity whose last change was at `position`
/// (ties broken by entity kind and id).
public struct ChangeCursor: Sendable, Hashable, Comparable {
    /// The last change's position.
    public var position: Int64
    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String

    /// Creates a cursor.
    public init(position: Int64, entity: String, id: String) {
        self.position = position
        self.entity = entity
        self.id = id
    }

    public static func < (a: ChangeCursor, b: ChangeCursor) -> Bool {
        if a.position != b.position { return a.position < b.position }
        if a.entity != b.entity { return a.entity.utf8.lexicographicallyPrecedes(b.entity.utf8) }
        return a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }

    /// The cursor as an opaque token for URLs.
    public var token: String {
        let text = "\(position)\u{1F}\(entity)\u{1F}\(id)"
        return Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Parses ``token``; `nil` if it is not one.
    public init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: "\u{1F}", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let position = Int64(parts[0]), position > 0 else { return nil }
        self.init(position: position, entity: String(parts[1]), id: String(parts[2]))
    }
}

/// What a driver finds for one entity changed between two positions: the row in force at
/// the start (if any) and the last row begun in the range.
public struct ChangedDocument: Sendable, Hashable {
    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String
    /// The position of the last change in the range.
    public var position: Int64
    /// The row in force right after the range's start.
    public var before: DocumentVersion?
    /// The last row begun in the range.
    public var after: DocumentVersion

    /// Creates a changed document.
    public init(entity: String, id: String, position: Int64, before: DocumentVersion?, after: DocumentVersion) {
        self.entity = entity
        self.id = id
        self.position = position
        self.before = before
        self.after = after
    }

    /// Its place in a page.
    public var cursor: ChangeCursor { ChangeCursor(position: position, entity: entity, id: id) }
}

/// How an entity's document differs between two moments: ``ProjectionStore/changes(projection:from:to:entity:after:limit:)``.
public struct EntityChange: Sendable, Hashable {
    /// What happened to the entity.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// It did not exist (or was deleted) at the start and exists at the end.
        case created
        /// It existed at both ends and its document changed.
        case changed
        /// It existed at the start and was (soft-)deleted at the end.
        case deleted
        /// It was removed for good (hard delete or erase): its events and past are gone.
        case erased
        /// It was soft-deleted at the start and is back at the end.
        case restored
    }

    /// The entity kind.
    public var entity: String
    /// The entity id.
    public var id: String
    /// What happened.
    public var kind: Kind
    /// The position of the last change in the range.
    public var position: Int64
    /// The document at the start, if it existed then.
    public var before: Document?
    /// The document at the end, if it exists then.
    public var after: Document?
    /// The RFC 6902 patch from the state at the start to the state at the end (from `{}` for
    /// a created entity; empty for an erased one).
    public var patch: JSONPatch

    /// The change a driver's row pair makes.
    public init(_ changed: ChangedDocument) {
        entity = changed.entity
        id = changed.id
        position = changed.position
        before = changed.before?.document
        after = changed.after.document
        switch (before, after) {
        case (_, nil):
            kind = .erased
        case (nil, let after?):
            kind = after.deleted ? .deleted : .created
        case (let before?, let after?):
            if before.deleted { kind = after.deleted ? .changed : .restored } else { kind = after.deleted ? .deleted : .changed }
        }
        if let after {
            patch = JSONPatch.diff(from: before?.state ?? [:], to: after.state)
        } else {
            patch = JSONPatch()
        }
    }
}

/// A page of changes.
public struct ChangePage: Sendable, Hashable {
    /// The changes, in position order of their last change.
    public var changes: [EntityChange]
    /// Where the next page starts, or `nil` if this is the last.
    public var next: ChangeCursor?

    /// Creates a page.
    public init(changes: [EntityChange], next: ChangeCursor?) {
        self.changes = changes
        self.next = next
    }
}
