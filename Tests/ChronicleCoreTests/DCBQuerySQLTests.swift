import ChronicleCore
import Foundation
import Testing

/// The SQL text of a query depends on its shape only, and its placeholders and values agree.
@Suite("DCB query SQL and stored tags")
struct DCBQuerySQLTests {
    static let queries: [DCBQuery] = [
        DCBQuery(),
        DCBQuery([.init(tags: ["a:1"])]),
        DCBQuery([.init(tags: ["b:2", "a:1"])]),
        DCBQuery([.init(types: ["T", "S"])]),
        DCBQuery([.init(types: ["T"], tags: ["c:3", "a:1", "b:2"])]),
        DCBQuery([.init(tags: ["a:1", "b:2"]), .init(types: ["T"]), .init(types: ["S"], tags: ["c:3"])]),
        DCBQuery([.init(tags: ["a:1"]), .init()]),
    ]

    @Test("every value has a placeholder that is used, the lower bound on every alias and the upper bound once, outside the limit", arguments: queries, [false, true])
    func placeholdersMatchValues(_ query: DCBQuery, bounded: Bool) {
        let values = DCBQuerySQL.values(query, after: 7, through: bounded ? 9 : nil, limit: 5)
        var used = Set<Int>()
        let sql = DCBQuerySQL.sql(DCBQuerySQL.Shape(query, bounded: bounded)) { index in
            used.insert(index)
            return "$\(index + 1)"
        }
        #expect(used == Set(values.indices), "\(sql)")
        #expect(values[0] == .integer(7) && values[bounded ? 2 : 1] == .integer(5))
        if bounded { #expect(values[1] == .integer(9)) }
        // Each alias of event_tags (and the events join) carries the lower bound.
        let aliases = sql.components(separatedBy: "JOIN event_tags ").count - 1 + sql.components(separatedBy: "FROM event_tags ").count - 1
            + sql.components(separatedBy: "JOIN events e ").count - 1 + sql.components(separatedBy: "FROM events WHERE").count - 1
        #expect(sql.components(separatedBy: "position > $1").count - 1 == aliases, "\(sql)")
        // The upper bound cuts the page once, after every LIMIT of a part (a PostgreSQL
        // without statistics sorts a bitmap scan of the whole range for a bound inside it).
        #expect(sql.components(separatedBy: "position <= $2").count - 1 == (bounded ? 1 : 0), "\(sql)")
        if bounded, let cut = sql.range(of: "position <= $2") {
            #expect(!sql[cut.upperBound...].contains("position >"), "the cut comes after the parts: \(sql)")
        }
    }

    @Test("the text depends on the shape, not on the tags, types or positions")
    func textByShape() {
        let one = DCBQuery([.init(types: ["T"], tags: ["a:1", "b:2"])])
        let other = DCBQuery([.init(types: ["Other"], tags: ["x:9", "y:8"])])
        #expect(DCBQuerySQL.sql(DCBQuerySQL.Shape(one, bounded: false), prefix: "?") == DCBQuerySQL.sql(DCBQuerySQL.Shape(other, bounded: false), prefix: "?"))
        #expect(DCBQuerySQL.Shape(one, bounded: false) != DCBQuerySQL.Shape(DCBQuery([.init(tags: ["a:1", "b:2"])]), bounded: false))
        #expect(DCBQuerySQL.values(one, after: 3, through: nil, limit: 1) == [.integer(3), .integer(1), .text("a:1"), .text("b:2"), .text("T")])
        #expect(DCBQuerySQL.sql(DCBQuerySQL.Shape(one, bounded: false), prefix: "k.c").contains("t0.tag = k.c3"))
    }

    @Test("stored tags are split on spaces, on their bytes")
    func storedTags() {
        #expect(StoredTags.decode("") == [])
        #expect(StoredTags.decode("user:ada") == ["user:ada"])
        #expect(StoredTags.decode("course:c1 term:2026 ünï:cødé") == ["course:c1", "term:2026", "ünï:cødé"])
        #expect(StoredTags.decode(StoredTags.encode(["a:1", "b:2"])) == ["a:1", "b:2"])
        #expect(StoredTags.encode([]) == "")
    }

    @Test("the rarest tag of an item leads: one with fewer entries than the sample at once, else the one whose sample reaches farthest")
    func leadingTags() {
        let reaches: [String: Int64?] = ["a:1": 40, "b:2": 9_000, "c:3": 500, "r:0": nil, "z:9": 99_000]
        var asked: [String] = []
        func choose(_ query: DCBQuery) -> [String?] {
            DCBLeadingTags.choose(query) { tag in
                asked.append(tag)
                return reaches[tag] ?? nil
            }
        }
        #expect(choose(DCBQuery([.init(tags: ["a:1", "b:2", "c:3"])])) == ["b:2"])
        asked = []
        #expect(choose(DCBQuery([.init(tags: ["z:9", "a:1", "r:0"])])) == ["r:0"])
        #expect(asked == ["a:1", "r:0"], "a tag with fewer entries than the sample ends the search")
        asked = []
        #expect(choose(DCBQuery([.init(tags: ["a:1"]), .init(types: ["T"]), .init(tags: ["c:3", "a:1"])])) == [nil, nil, "c:3"])
        #expect(asked == ["a:1", "c:3"], "an item of one tag or none has no choice to make")
        // Skewed: the order is worth fixing when one tag's sample spans 8× the positions of
        // another's, or has fewer entries than the sample beside one that has more.
        func skewed(_ tags: Set<String>, after: Int64 = 0) -> Bool {
            DCBLeadingTags.isSkewed(DCBQuery([.init(tags: tags)]), after: after) { $0 == "d:4" ? 200 : reaches[$0] ?? nil }
        }
        #expect(skewed(["a:1", "c:3"]), "500 ≥ 8 × 40")
        #expect(skewed(["a:1", "c:3"], after: 20), "spans from after: 480 ≥ 8 × 20")
        #expect(!skewed(["c:3", "d:4"]), "500 < 8 × 200")
        #expect(skewed(["c:3", "d:4"], after: 160), "340 ≥ 8 × 40: deeper in the log the same tags are skewed")
        #expect(skewed(["a:1", "r:0"]), "one below the sample beside one above")
        #expect(!skewed(["r:0", "r:1"]), "none reaches the sample: any order walks fewer than 32 entries")
        #expect(!skewed(["c:3"]) && !DCBLeadingTags.isSkewed(DCBQuery([.init(types: ["T"])]), after: 0) { _ in 1 }, "no item with two tags")
        let query = DCBQuery([.init(types: ["T"], tags: ["a:1", "b:2", "c:3"]), .init(tags: ["a:1"])])
        #expect(DCBQuerySQL.values(query, after: 0, through: nil, limit: 1, leading: ["c:3", nil])
            == [.integer(0), .integer(1), .text("c:3"), .text("a:1"), .text("b:2"), .text("T"), .text("a:1")])
        #expect(DCBQuerySQL.values(query, after: 0, through: nil, limit: 1, leading: [])
            == DCBQuerySQL.values(query, after: 0, through: nil, limit: 1), "without a choice the tags come sorted")
    }
}
