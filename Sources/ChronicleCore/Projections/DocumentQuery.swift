/// A query over an entity's documents: filters on top-level fields, a sort, a page size and
/// a cursor. Every backend answers it with the same order and the same pages.
///
/// Comparisons follow SQLite's ordering of JSON values, the reference backend: missing and
/// `null` fields first, then numbers (booleans count as 1 and 0), then strings; objects and
/// arrays compare as their canonical JSON text. Ties are broken by id.
public struct DocumentQuery: Sendable, Hashable {
    /// How a filter compares.
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
        /// Equal.
        case eq
        /// Not equal (documents without the field do not match).
        case ne
        /// Greater than.
        case gt
        /// Greater than or equal.
        case gte
        /// Less than.
        case lt
        /// Less than or equal.
        case lte
    }

    /// One filter: `field comparison value`.
    public struct Filter: Sendable, Hashable {
        /// A top-level field of the state.
        public var field: String
        /// How to compare.
        public var comparison: Comparison
        /// The value to compare with (a JSON scalar).
        public var value: JSONValue

        /// Creates a filter.
        public init(field: String, _ comparison: Comparison, _ value: JSONValue) {
            self.field = field
            self.comparison = comparison
            self.value = value
        }
    }

    /// The entity kind.
    public var entity: String
    /// All must match.
    public var filters: [Filter]
    /// The field to sort by; `nil` sorts by id.
    public var sortField: String?
    /// Whether the sort is descending.
    public var descending: Bool
    /// The most documents in a page.
    public var limit: Int
    /// Where the page starts: the ``DocumentPage/next`` of the previous page.
    public var cursor: DocumentCursor?
    /// Whether soft-deleted documents are listed.
    public var includeDeleted: Bool

    /// Creates a query.
    public init(entity: String, filters: [Filter] = [], sortField: String? = nil, descending: Bool = false, limit: Int = 100, cursor: DocumentCursor? = nil, includeDeleted: Bool = false) {
        self.entity = entity
        self.filters = filters
        self.sortField = sortField
        self.descending = descending
        self.limit = limit
        self.cursor = cursor
        self.includeDeleted = includeDeleted
    }
}

/// Where a page of documents ends: the sort key and id of its last document.
public struct DocumentCursor: Sendable, Hashable {
    /// The sort key of the last document (`nil` when sorting by id or when it had no value).
    public var key: SortKey
    /// The id of the last document.
    public var id: String

    /// Creates a cursor.
    public init(key: SortKey, id: String) {
        self.key = key
        self.id = id
    }

    /// The opaque text form given to clients.
    public var token: String {
        let value: JSONValue = switch key {
        case .missing: ["i": .string(id)]
        case .number(let number): ["n": .double(number), "i": .string(id)]
        case .text(let text): ["t": .string(text), "i": .string(id)]
        }
        return Array(value.canonicalText.utf8).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads a token made by ``token``.
    public init?(token: String) {
        let digits = Array(token.utf8)
        guard digits.count % 2 == 0, !digits.isEmpty else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        guard let value = try? JSONValue(parsing: String(decoding: bytes, as: UTF8.self)), case .string(let id)? = value["i"] else { return nil }
        switch (value["n"], value["t"]) {
        case (.double(let number)?, nil): self.init(key: .number(number), id: id)
        case (.integer(let number)?, nil): self.init(key: .number(Double(number)), id: id)
        case (nil, .string(let text)?): self.init(key: .text(text), id: id)
        case (nil, nil): self.init(key: .missing, id: id)
        default: return nil
        }
    }
}

/// The comparable form of a field's value.
public enum SortKey: Sendable, Hashable, Comparable {
    /// Missing or `null`: sorts first.
    case missing
    /// A number (booleans are 1 and 0).
    case number(Double)
    /// A string, or the canonical JSON of an object or array.
    case text(String)

    /// The key of a JSON value.
    public init(_ value: JSONValue?) {
        switch value {
        case nil, .null?: self = .missing
        case .bool(let flag)?: self = .number(flag ? 1 : 0)
        case .integer(let number)?: self = .number(Double(number))
        case .double(let number)?: self = .number(number)
        case .string(let text)?: self = .text(text)
        case let other?: self = .text(other.canonicalText)
        }
    }

    /// Missing < numbers < strings; strings by their UTF-8 bytes.
    public static func < (lhs: SortKey, rhs: SortKey) -> Bool {
        switch (lhs, rhs) {
        case (.missing, .missing): false
        case (.missing, _): true
        case (_, .missing): false
        case (.number(let a), .number(let b)): a < b
        case (.number, .text): true
        case (.text, .number): false
        case (.text(let a), .text(let b)): a.utf8.lexicographicallyPrecedes(b.utf8)
        }
    }
}

/// A page of documents.
public struct DocumentPage: Sendable, Hashable {
    /// The documents, in the query's order.
    public var documents: [Document]
    /// The cursor of the next page, or `nil` if this is the last.
    public var next: DocumentCursor?

    /// Creates a page.
    public init(documents: [Document], next: DocumentCursor?) {
        self.documents = documents
        self.next = next
    }
}

extension DocumentQuery {
    /// Whether a document passes the filters (not the cursor).
    public func matches(_ document: Document) -> Bool {
        guard document.entity == entity, includeDeleted || !document.deleted else { return false }
        return filters.allSatisfy { filter in
            let value = document.state[filter.field]
            let key = SortKey(value), wanted = SortKey(filter.value)
            if key == .missing { return false }
            switch filter.comparison {
            case .eq: return key == wanted
            case .ne: return key != wanted
            case .gt: return wanted < key
            case .gte: return !(key < wanted)
            case .lt: return key < wanted
            case .lte: return !(wanted < key)
            }
        }
    }

    /// The sort key of a document under this query.
    public func sortKey(of document: Document) -> SortKey {
        sortField.map { SortKey(document.state[$0]) } ?? .missing
    }

    /// Answers the query over documents held in memory (the in-memory store; and the
    /// reference the conformance suite compares backends with).
    public func page(of documents: some Sequence<Document>) -> DocumentPage {
        func before(_ a: (SortKey, String), _ b: (SortKey, String)) -> Bool {
            let ascending = a.0 < b.0 || (a.0 == b.0 && a.1.utf8.lexicographicallyPrecedes(b.1.utf8))
            let equal = a.0 == b.0 && a.1 == b.1
            return descending ? !ascending && !equal : ascending
        }
        var selected = documents.filter(matches).map { (key: sortKey(of: $0), document: $0) }
        if let cursor {
            selected = selected.filter { before((cursor.key, cursor.id), ($0.key, $0.document.id)) }
        }
        selected.sort { before(($0.key, $0.document.id), ($1.key, $1.document.id)) }
        let page = Array(selected.prefix(max(0, limit)))
        let next = selected.count > page.count ? page.last.map { DocumentCursor(key: $0.key, id: $0.document.id) } : nil
        return DocumentPage(documents: page.map(\.document), next: next)
    }
}
