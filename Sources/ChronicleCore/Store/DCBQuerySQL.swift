/// The SQL both relational drivers use to find the positions of events matching a DCB
/// query, over `events(position, type)` and a tag index `event_tags(tag, position)` with its
/// primary key on (tag, position): an item with tags walks the index of its first tag and
/// probes the others, an item with types only walks `events_by_type`, so a condition check
/// costs a few index probes however long the log is. The SQL is plain (`IN`, `JOIN`,
/// `UNION`); each driver passes its own placeholder syntax.
package enum DCBQuerySQL {
    /// A value to bind.
    package enum Value: Sendable {
        case text(String)
        case integer(Int64)
    }

    /// `SELECT position …` of the matching events in `(after, through]` (no upper bound when
    /// `through` is nil), in position order, at most `limit`. `bind` records a value and
    /// returns its placeholder.
    package static func positions(_ query: DCBQuery, after: Int64, through: Int64?, limit: Int, bind: (Value) -> String) -> String {
        func range(_ column: String) -> String {
            var text = "\(column) > \(bind(.integer(after)))"
            if let through { text += " AND \(column) <= \(bind(.integer(through)))" }
            return text
        }
        func types(_ types: Set<String>) -> String {
            types.sorted().map { bind(.text($0)) }.joined(separator: ", ")
        }
        func limitText() -> String { bind(.integer(Int64(max(0, limit)))) }
        if query.matchesEverything {
            return "SELECT position FROM events WHERE \(range("position")) ORDER BY position LIMIT \(limitText())"
        }
        let parts = query.items.map { item -> String in
            let tags = item.tags.sorted()
            guard let first = tags.first else {
                return "SELECT position FROM events WHERE type IN (\(types(item.types))) AND \(range("position")) ORDER BY position LIMIT \(limitText())"
            }
            var sql = "SELECT t0.position AS position FROM event_tags t0"
            for (index, tag) in tags.dropFirst().enumerated() {
                sql += " JOIN event_tags t\(index + 1) ON t\(index + 1).tag = \(bind(.text(tag))) AND t\(index + 1).position = t0.position"
            }
            if !item.types.isEmpty {
                sql += " JOIN events e ON e.position = t0.position AND e.type IN (\(types(item.types)))"
            }
            sql += " WHERE t0.tag = \(bind(.text(first))) AND \(range("t0.position")) ORDER BY t0.position LIMIT \(limitText())"
            return sql
        }
        if parts.count == 1 { return parts[0] }
        let union = parts.map { "SELECT position FROM (\($0)) AS q" }.joined(separator: " UNION ")
        return "SELECT position FROM (\(union)) AS u ORDER BY position LIMIT \(limitText())"
    }
}
