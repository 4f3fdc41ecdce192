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
    static func firstMatches(_ keys: Set<ConditionKey>, on connection: PostgresConnection, logger: Logger) async throws -> [ConditionKey: Int64?] {
        var matches: [ConditionKey: Int64?] = [:]
        var byShape: [DCBQuerySQL.Shape: [ConditionKey]] = [:]
        for key in keys {
            matches[key] = .some(nil)
            byShape[DCBQuerySQL.Shape(key.query, bounded: false), default: []].append(key)
        }
        for (shape, keys) in byShape {
            let (sql, binds) = firstMatches(shape, keys)
            let rows = try await connection.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
            for try await (index, position) in rows.decode((Int64, Int64?).self) {
                matches[keys[Int(index)]] = position
            }
        }
        return matches
    }

    /// The statement and bindings of the first matches of `keys`, all of `shape`: row `i`
    /// of the result is key `i` and its first match, or null.
    static func firstMatches(_ shape: DCBQuerySQL.Shape, _ keys: [ConditionKey]) -> (String, PostgresBindings) {
        let rows = keys.map { DCBQuerySQL.values($0.query, after: $0.after, through: nil, limit: 1) }
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
        let subquery = DCBQuerySQL.sql(shape, prefix: "k.c")
        let sql = "SELECT k.i, (\(subquery))::int8 FROM unnest(\(arrays.joined(separator: ", "))) AS k(\(names.joined(separator: ", ")))"
        return (sql, binds)
    }
}
