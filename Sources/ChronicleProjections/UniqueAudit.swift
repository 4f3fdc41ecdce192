import ChronicleCore

/// Live documents that share a value in a field the schema declares `unique:`.
///
/// Appends never create one (the rule is checked in the writer's transaction), but a log
/// imported as it was, or one written before the rule was declared, can hold them; a rebuild
/// then reports them instead of hiding them.
public struct UniqueViolation: Sendable, Hashable, CustomStringConvertible {
    /// The entity kind.
    public var entity: String
    /// The unique field.
    public var field: String
    /// The shared value.
    public var value: JSONValue
    /// The live entities that hold it, in id order.
    public var ids: [String]

    /// Creates a violation.
    public init(entity: String, field: String, value: JSONValue, ids: [String]) {
        self.entity = entity
        self.field = field
        self.value = value
        self.ids = ids
    }

    /// `user.email = "a@x.org" is held by 2 users: ada, eve`.
    public var description: String {
        "\(entity).\(field) = \(value.canonicalText) is held by \(ids.count) live \(entity) entities: \(ids.joined(separator: ", "))"
    }

    /// The violation as JSON, for status endpoints.
    public var json: JSONValue {
        ["entity": .string(entity), "field": .string(field), "value": value, "ids": .array(ids.map(JSONValue.string))]
    }
}

extension DeclarativeProjection {
    /// Every ``UniqueViolation`` among the stored documents, found by listing each unique
    /// field in sorted order (equal values are neighbours), a page at a time.
    public func uniqueViolations(in documents: any DocumentStore, pageSize: Int = 1000) async throws -> [UniqueViolation] {
        var found: [UniqueViolation] = []
        for (entity, definition) in schema.entities.sorted(by: { $0.key < $1.key }) {
            for field in definition.unique {
                var query = DocumentQuery(entity: entity, sortField: field, limit: pageSize)
                var run: (key: SortKey, value: JSONValue, ids: [String])?
                func close() {
                    if let run, run.ids.count > 1 { found.append(UniqueViolation(entity: entity, field: field, value: run.value, ids: run.ids.sorted())) }
                }
                while true {
                    let page = try await documents.documents(query)
                    for document in page.documents {
                        // Erased values (crypto-shredding) are all alike and hold nobody's value.
                        guard let value = document.state[field], value != .null, value != PersonalData.erased else { continue }
                        let key = SortKey(value)
                        if run?.key == key {
                            run?.ids.append(document.id)
                        } else {
                            close()
                            run = (key, value, [document.id])
                        }
                    }
                    guard let next = page.next else { break }
                    query.cursor = next
                }
                close()
            }
        }
        return found
    }
}
