import Synchronization

/// The SQL both relational drivers use to find the positions of events matching a DCB
/// query, over `events(position, type)` and a tag index `event_tags(tag, position)` with its
/// primary key on (tag, position): an item with tags walks the index of its first tag and
/// probes the others, an item with types only walks `events_by_type`, so a condition check
/// costs a few index probes however long the log is. The SQL is plain (`IN`, `JOIN`,
/// `UNION`) with numbered placeholders; each driver picks their spelling.
///
/// The text depends only on the query's ``Shape`` (how many items, tags and types), never on
/// the tags, types or positions, which are bound as ``values(_:after:through:limit:)``: so
/// the text of a shape is built once (``sql(_:prefix:)`` caches it), and PostgreSQL can
/// check a batch of conditions of one shape with one statement whatever the batch's size.
///
/// The lower bound (`after`) is repeated on every alias of `event_tags` (and on `events`),
/// not only on the driving one: without it PostgreSQL's merge join reads the other tags'
/// index entries from the start of the log, so a page deep in a long log cost time in
/// proportion to its depth. The upper bound (`through`) is applied outside the `LIMIT`, to
/// the page: beside the lower bound inside it, a PostgreSQL that has not analyzed the tables
/// (a new store, and the log's growing end after) takes the two-sided range for a handful of
/// rows, bitmap-scans every match after `after` and sorts them for each page (169 ms for a
/// page of 100 of a type in a 500,000-event log, 0.14 ms this way).
package enum DCBQuerySQL {
    /// How an item's other tags (and its types) are checked for each entry of its leading
    /// tag.
    package enum Probe: Sendable, Hashable {
        /// Joins: SQLite keeps the order of the tags as written; PostgreSQL picks its own
        /// (for two dense tags a merge join, faster than probing).
        case join
        /// A scalar subquery per entry, which PostgreSQL runs as written, one index probe per
        /// entry of the leading tag. With joins, it picked a merge join that read every entry
        /// of the common tag of `{bench:dcb, user:p7}` whichever tag was written first (99,007
        /// entries for a page of 100 on 300,000 unanalyzed rows; 100 this way).
        case subquery
    }

    /// A value to bind.
    package enum Value: Sendable, Hashable {
        case text(String)
        case integer(Int64)
    }

    /// What the SQL text of a query depends on.
    package struct Shape: Sendable, Hashable {
        /// How many tags and types an item has.
        package struct Item: Sendable, Hashable {
            package var tags: Int
            package var types: Int
        }

        /// The items; none when the query matches every event.
        package var items: [Item]
        /// Whether the range has an upper bound (`through`).
        package var bounded: Bool

        /// The shape of `query`, read with an upper bound or not.
        package init(_ query: DCBQuery, bounded: Bool) {
            self.items = query.matchesEverything ? [] : query.items.map { Item(tags: $0.tags.count, types: $0.types.count) }
            self.bounded = bounded
        }
    }

    /// The values the placeholders of ``sql(_:placeholder:)`` stand for, in their order:
    /// `after`, `through` (when given), `limit`, then for each item its tags and then its
    /// types, each sorted — but item `i`'s tag `leading[i]` (``DCBLeadingTags``), when given,
    /// comes first: the first tag leads the item's walk of the index.
    package static func values(_ query: DCBQuery, after: Int64, through: Int64?, limit: Int, leading: [String?] = []) -> [Value] {
        var values: [Value] = [.integer(after)]
        if let through { values.append(.integer(through)) }
        values.append(.integer(Int64(max(0, limit))))
        guard !query.matchesEverything else { return values }
        for (index, item) in query.items.enumerated() {
            values += DCBLeadingTags.ordered(item, index, leading: leading).map(Value.text)
            values += item.types.sorted().map(Value.text)
        }
        return values
    }

    /// `SELECT position …` of the matching events in `(after, through]` (no upper bound when
    /// the shape is not bounded), in position order, at most `limit`. `placeholder(n)` is the
    /// SQL of value `n` (from 0) of ``values(_:after:through:limit:)``; a value may be used
    /// more than once.
    package static func sql(_ shape: Shape, probe: Probe = .join, placeholder: (Int) -> String) -> String {
        let after = placeholder(0)
        let through = shape.bounded ? placeholder(1) : nil
        let limit = placeholder(shape.bounded ? 2 : 1)
        var next = shape.bounded ? 3 : 2
        func take(_ count: Int) -> [String] {
            defer { next += count }
            return (next..<next + count).map(placeholder)
        }
        func range(_ column: String) -> String { "\(column) > \(after)" }
        // The first `limit` positions after `after`, cut at `through`: the first `limit` of
        // (after, through], since the positions come in order.
        func bounded(_ sql: String) -> String {
            guard let through else { return sql }
            return "SELECT position FROM (\(sql)) AS b WHERE position <= \(through) ORDER BY position"
        }
        if shape.items.isEmpty {
            return bounded("SELECT position FROM events WHERE \(range("position")) ORDER BY position LIMIT \(limit)")
        }
        let parts = shape.items.map { item -> String in
            let tags = take(item.tags)
            let types = take(item.types).joined(separator: ", ")
            guard let first = tags.first else {
                return "SELECT position FROM events WHERE type IN (\(types)) AND \(range("position")) ORDER BY position LIMIT \(limit)"
            }
            if probe == .subquery {
                var conditions = ["t0.tag = \(first)", range("t0.position")]
                for (index, tag) in tags.dropFirst().enumerated() {
                    let alias = "t\(index + 1)"
                    conditions.append("(SELECT true FROM event_tags \(alias) WHERE \(alias).tag = \(tag) AND \(alias).position = t0.position LIMIT 1)")
                }
                if item.types > 0 {
                    conditions.append("(SELECT true FROM events e WHERE e.position = t0.position AND e.type IN (\(types)) LIMIT 1)")
                }
                return "SELECT t0.position AS position FROM event_tags t0 WHERE \(conditions.joined(separator: " AND ")) ORDER BY t0.position LIMIT \(limit)"
            }
            var sql = "SELECT t0.position AS position FROM event_tags t0"
            for (index, tag) in tags.dropFirst().enumerated() {
                let alias = "t\(index + 1)"
                sql += " JOIN event_tags \(alias) ON \(alias).tag = \(tag) AND \(alias).position = t0.position AND \(range("\(alias).position"))"
            }
            if item.types > 0 {
                sql += " JOIN events e ON e.position = t0.position AND e.type IN (\(types)) AND \(range("e.position"))"
            }
            sql += " WHERE t0.tag = \(first) AND \(range("t0.position")) ORDER BY t0.position LIMIT \(limit)"
            return sql
        }
        if parts.count == 1 { return bounded(parts[0]) }
        // Each part's first `limit` holds every position of its item among the union's first
        // `limit` in the range: fewer than `limit` of the part's come before any of those.
        let union = parts.map { "SELECT position FROM (\($0)) AS q" }.joined(separator: " UNION ")
        let cut = through.map { " WHERE position <= \($0)" } ?? ""
        return "SELECT position FROM (\(union)) AS u\(cut) ORDER BY position LIMIT \(limit)"
    }

    /// ``sql(_:placeholder:)`` with placeholder `n` spelled `prefix` followed by `n + 1`
    /// (`?1`, `$1`, `k.c1`), built once per shape and prefix.
    package static func sql(_ shape: Shape, prefix: String, probe: Probe = .join) -> String {
        let key = CacheKey(shape: shape, prefix: prefix, probe: probe)
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let text = sql(shape, probe: probe) { "\(prefix)\($0 + 1)" }
        cache.withLock { cache in
            // Shapes are few in practice; a client inventing new ones cannot grow this forever.
            if cache.count >= 1024 { cache.removeAll() }
            cache[key] = text
        }
        return text
    }

    private struct CacheKey: Hashable {
        var shape: Shape
        var prefix: String
        var probe: Probe
    }

    private static let cache = Mutex<[CacheKey: String]>([:])
}
