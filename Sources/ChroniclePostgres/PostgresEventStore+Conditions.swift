import ChronicleCore
import Logging
import PostgresNIO

extension PostgresEventStore {
    /// The first stored match of each append condition of a write batch (`nil`: none).
    ///
    /// One statement per query shape, whatever the number of conditions: the conditions'
    /// values go in as arrays, one row each (`unnest`), and the shape's SQL runs once per row
    /// as a correlated subquery. The statement's text depends on the shape only, so planning
    /// costs the same for one condition as for a full batch; a statement with a subquery per
    /// condition spent more time being planned (and JIT-compiled) than run.
    ///
    /// `sampled`: reaches (``reaches(_:through:on:logger:)``) read already; those of tags it
    /// lacks are read here. A commit samples before it takes the write lock, while the
    /// commit before it still holds it: a reach only picks which tag leads a walk, so one
    /// that misses the last commits changes how fast the check runs, never its answer.
    static func firstMatches(_ keys: Set<ConditionKey>, sampled: [TagRange: Int64?] = [:], on connection: PostgresConnection, logger: Logger) async throws -> [ConditionKey: Int64?] {
        var matches: [ConditionKey: Int64?] = [:]
        var reach = sampled
        let unsampled = keys.filter { !ranges(of: [($0.query, $0.after)]).isSubset(of: sampled.keys) }
        if !unsampled.isEmpty {
            reach.merge(try await reaches(unsampled.map { ($0.query, $0.after) }, through: nil, on: connection, logger: logger)) { _, read in read }
        }
        var byShape: [ShapeAndProbe: [ConditionKey]] = [:]
        for key in keys {
            matches[key] = .some(nil)
            let skewed = DCBLeadingTags.isSkewed(key.query, after: key.after, reach: lookup(reach, after: key.after))
            byShape[ShapeAndProbe(shape: DCBQuerySQL.Shape(key.query, bounded: false), probe: skewed ? .subquery : .join), default: []].append(key)
        }
        for (kind, keys) in byShape {
            let (sql, binds) = firstMatches(kind.shape, keys, probe: kind.probe, leading: leading(keys, reach))
            let rows = try await connection.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            for try await (index, position) in rows.decode((Int64, Int64?).self) {
                matches[keys[Int(index)]] = position
            }
        }
        return matches
    }

    /// The statement and bindings of the first matches of `keys`, all of `shape`: row `i`
    /// of the result is key `i` and its first match, or null.
    static func firstMatches(_ shape: DCBQuerySQL.Shape, _ keys: [ConditionKey], probe: DCBQuerySQL.Probe = .join, leading: [[String?]] = []) -> (String, PostgresBindings) {
        let rows = keys.indices.map { DCBQuerySQL.values(keys[$0].query, after: keys[$0].after, through: nil, limit: 1, leading: $0 < leading.count ? leading[$0] : []) }
        var binds = PostgresBindings()
        binds.append(keys.indices.map(Int64.init))
        var arrays = ["$1::int8[]"]
        var names = ["i"]
        // Every query of one shape has values of the same kinds in the same places.
        for column in rows[0].indices {
            if case .integer = rows[0][column] {
                binds.append(rows.map { row -> Int64 in
                    if case .integer(let number) = row[column] { return number }
                    return 0
                })
                arrays.append("$\(binds.count)::int8[]")
            } else {
                binds.append(rows.map { row -> String in
                    if case .text(let text) = row[column] { return text }
                    return ""
                })
                arrays.append("$\(binds.count)::text[]")
            }
            names.append("c\(column + 1)")
        }
        let subquery = DCBQuerySQL.sql(shape, prefix: "k.c", probe: probe)
        let sql = "SELECT k.i, (\(subquery))::int8 FROM unnest(\(arrays.joined(separator: ", "))) AS k(\(names.joined(separator: ", ")))"
        return (sql, binds)
    }

    /// For each key, the tag that leads each item of its query (``DCBLeadingTags``), from
    /// ``reaches(_:through:on:logger:)``.
    static func leading(_ keys: [ConditionKey], _ reach: [TagRange: Int64?]) -> [[String?]] {
        keys.map { key in DCBLeadingTags.choose(key.query, reach: lookup(reach, after: key.after)) }
    }

    /// The reaches of ``reaches(_:through:on:logger:)`` in a range starting at `after`, by tag.
    static func lookup(_ reach: [TagRange: Int64?], after: Int64) -> (String) -> Int64? {
        { reach[TagRange(tag: $0, after: after)] ?? nil }
    }

    /// The statements of a batch's conditions: one per shape and way of probing.
    struct ShapeAndProbe: Hashable {
        var shape: DCBQuerySQL.Shape
        var probe: DCBQuerySQL.Probe
    }

    /// A tag and the start of the range it is looked for in.
    struct TagRange: Hashable {
        var tag: String
        var after: Int64
    }

    /// The reach of each tag of the items with more than one tag (which of them leads their
    /// walk, see ``DCBLeadingTags``) in `(after, through]`, for every query of `queries`, in
    /// one statement: the position of its ``DCBLeadingTags/sample``-th entry there, or `nil`.
    ///
    /// PostgreSQL's planner picks the order of an item's tags from its statistics, but on a
    /// table it has not analyzed (a new store; the rows since the last `ANALYZE`) it keeps the
    /// order written, which was alphabetical, or picks a merge join that reads the common
    /// tag's entries either way: a page of `{bench:dcb, user:p7}` on 1,000,000 unanalyzed
    /// entries walked every `bench:dcb` entry (1.15 s; led by `user:p7`, 16 ms).
    static func reaches(_ queries: [(DCBQuery, after: Int64)], through: Int64?, on connection: PostgresConnection, logger: Logger) async throws -> [TagRange: Int64?] {
        let ranges = ranges(of: queries)
        guard !ranges.isEmpty else { return [:] }
        let list = Array(ranges)
        var reach: [TagRange: Int64?] = [:]
        for range in list { reach[range] = .some(nil) }
        for (index, position) in try await connection.run(Reaches(tags: list.map(\.tag), after: list.map(\.after), through: through ?? Int64.max), logger: logger) {
            reach[list[Int(index) - 1]] = position
        }
        return reach
    }

    /// The statement of ``reaches(_:through:on:logger:)``: the same text for every batch, so
    /// it is prepared once per connection.
    struct Reaches: PostgresPreparedStatement {
        static let name = "chronicle_tag_reaches"
        static let sql = """
            SELECT r.i, (SELECT position FROM event_tags WHERE tag = r.tag AND position > r.after AND position <= $3 ORDER BY position LIMIT 1 OFFSET \(DCBLeadingTags.sample - 1))
            FROM unnest($1::text[], $2::int8[]) WITH ORDINALITY AS r(tag, after, i)
            """
        typealias Row = (Int64, Int64?)
        var tags: [String]
        var after: [Int64]
        var through: Int64

        func makeBindings() throws -> PostgresBindings {
            var binds = PostgresBindings(capacity: 3)
            binds.append(tags)
            binds.append(after)
            binds.append(through)
            return binds
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The tags whose reach picks the leading tag of the queries' items (those of items with
    /// more than one tag), each with the start of its range.
    static func ranges(of queries: [(DCBQuery, after: Int64)]) -> Set<TagRange> {
        var ranges: Set<TagRange> = []
        for (query, after) in queries {
            for item in query.items where item.tags.count > 1 {
                for tag in item.tags { ranges.insert(TagRange(tag: tag, after: after)) }
            }
        }
        return ranges
    }
}
