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
}
