/// Which tag of a query item leads its walk of the tag index.
///
/// The SQL of ``DCBQuerySQL`` walks the index entries of an item's first tag and probes the
/// others for each, so its cost is the number of entries of the leading tag in the range.
/// Led by the alphabetically first tag, `{tags: [course:c1, student:s7]}` walked every event
/// of the course to find one student's few (0.75 s for 1,000 matches beside 1,000,000 entries
/// of the other tag, 4 ms led the other way). So the rarest tag leads: each tag's rarity is
/// told by where its ``sample``-th entry in the range lies (the farther, the rarer; none at
/// all: fewer entries than that, as rare as it gets), which costs `sample` index steps a tag
/// however long the log is. Clustered tags can fool that estimate; it then costs what the
/// walk would have cost without it.
package enum DCBLeadingTags {
    /// How many entries of a tag are looked at to tell how rare it is.
    package static let sample = 32

    /// For each item of `query`, the tag that should lead, or `nil` where there is no choice
    /// (fewer than two tags). `reach(tag)` is the position of the tag's ``sample``-th entry in
    /// the range read, or `nil` when it has fewer.
    package static func choose(_ query: DCBQuery, reach: (String) throws -> Int64?) rethrows -> [String?] {
        try query.items.map { item in
            guard item.tags.count > 1 else { return nil }
            var rarest: (tag: String, reach: Int64)?
            for tag in item.tags.sorted() {
                guard let position = try reach(tag) else { return tag }
                if rarest.map({ position > $0.reach }) ?? true { rarest = (tag, position) }
            }
            return rarest?.tag
        }
    }

    /// The tags of item `index` in the order its walk takes them: sorted, but the tag
    /// `leading[index]` (from ``choose(_:reach:)``), when given, first.
    package static func ordered(_ item: DCBQuery.Item, _ index: Int, leading: [String?]) -> [String] {
        var tags = item.tags.sorted()
        if index < leading.count, let lead = leading[index], let at = tags.firstIndex(of: lead) {
            tags.insert(tags.remove(at: at), at: 0)
        }
        return tags
    }

    /// Whether some item of `query` has tags whose rarity differs by ``skew`` or more in the
    /// range after `after` (one with fewer than ``sample`` entries beside one with more, or
    /// one whose ``sample`` entries span `skew` times as many positions as another's): then
    /// which tag leads decides the cost, and a driver whose planner may pick another order
    /// should fix the order (PostgreSQL: ``DCBQuerySQL/Probe/subquery``). When no item is
    /// skewed, leaving the order to the planner costs nothing (a merge join of two dense tags
    /// read 163,000 events/s on PostgreSQL, the fixed order 119,000).
    package static func isSkewed(_ query: DCBQuery, after: Int64, reach: (String) -> Int64?) -> Bool {
        query.items.contains { item in
            guard item.tags.count > 1 else { return false }
            let spans = item.tags.map { reach($0).map { $0 - after } }
            let known = spans.compactMap { $0 }
            guard let densest = known.min() else { return false }
            if known.count < spans.count { return true }
            return known.max()! >= densest * skew
        }
    }

    /// How many times rarer one tag must be than another for the order to be fixed.
    package static let skew: Int64 = 8
}
