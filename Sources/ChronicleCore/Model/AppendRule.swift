/// A rule an append must satisfy, checked against the documents of the store's inline
/// projection in the same transaction as the append — so nothing can change the documents
/// between the check and the write.
public struct AppendRule: Sendable, Hashable {
    /// A condition on one field of a document's state.
    public enum FieldCondition: Sendable, Hashable {
        /// Equal to the value.
        case equals(JSONValue)
        /// Equal to one of the values.
        case oneOf([JSONValue])
        /// A number greater than, at least, less than, or at most the value.
        case greaterThan(Double), atLeast(Double), lessThan(Double), atMost(Double)
        /// Present (`true`) or absent (`false`).
        case exists(Bool)

        /// Whether `value` (nil when the field is missing) satisfies the condition.
        public func holds(for value: JSONValue?) -> Bool {
            let number: Double? = switch value {
            case .integer(let integer)?: Double(integer)
            case .double(let double)?: double
            default: nil
            }
            switch self {
            case .equals(let wanted): return value.map { JSONValue.equal($0, wanted) } ?? false
            case .oneOf(let options): return value.map { value in options.contains { JSONValue.equal($0, value) } } ?? false
            case .greaterThan(let bound): return number.map { $0 > bound } ?? false
            case .atLeast(let bound): return number.map { $0 >= bound } ?? false
            case .lessThan(let bound): return number.map { $0 < bound } ?? false
            case .atMost(let bound): return number.map { $0 <= bound } ?? false
            case .exists(let present): return (value != nil && value != .null) == present
            }
        }
    }

    /// What the rule checks.
    public enum Check: Sendable, Hashable {
        /// The entity exists and is not deleted.
        case exists(entity: String, id: String)
        /// The entity does not exist (or was deleted).
        case absent(entity: String, id: String)
        /// The entity exists, is not deleted, and its state meets every condition.
        case matches(entity: String, id: String, conditions: [String: FieldCondition])
        /// No other live entity of the kind has this value in the field.
        case unique(entity: String, field: String, value: JSONValue, id: String)
        /// The entity's document is at this version (`-1`: there is none), as `GET` reports
        /// it; a mismatch is a ``ChronicleError/Code/wrongExpectedRevision`` conflict.
        case version(entity: String, id: String, expected: Int64)
    }

    /// What the rule checks.
    public var check: Check
    /// The HTTP status when it fails (403, 404, 409 or 422).
    public var status: Int
    /// What to tell the client when it fails; `nil` for a message that says what was found
    /// ("user 9999 does not exist", "user ada has emailVerified = false").
    public var detail: String?
    /// The rule's name, returned as `rule` with the error: the schema's `otherwise.code`, or
    /// a generated one such as `AdvertisementPosted.require[0]`.
    public var name: String?
    /// The inline projection whose documents the rule reads; `nil` for the store's first
    /// inline projection.
    public var projection: String?

    /// Creates a rule.
    public init(_ check: Check, status: Int, detail: String? = nil, name: String? = nil, projection: String? = nil) {
        self.check = check
        self.status = status
        self.detail = detail
        self.name = name
        self.projection = projection
    }

    /// Checks the rule with the documents a transaction sees.
    ///
    /// - Throws: ``ChronicleError/Code/ruleViolated`` with ``ChronicleError/status`` and
    ///   `rule`, `entity` and `id` in ``ChronicleError/details``.
    public func verify(in documents: some DocumentLookup) throws {
        let found: String?
        let target: (entity: String, id: String)
        switch check {
        case .exists(let entity, let id):
            target = (entity, id)
            let document = try documents.document(entity: entity, id: id)
            found = Self.live(document) == nil ? Self.missing(entity, id, document) : nil
        case .absent(let entity, let id):
            target = (entity, id)
            found = try Self.live(documents.document(entity: entity, id: id)) != nil ? "\(entity) \(id) already exists" : nil
        case .matches(let entity, let id, let conditions):
            target = (entity, id)
            let stored = try documents.document(entity: entity, id: id)
            if let document = Self.live(stored) {
                found = conditions.sorted { $0.key < $1.key }.first { !$0.value.holds(for: document.state[$0.key]) }.map { field, _ in
                    document.state[field].map { "\(entity) \(id) has \(field) = \($0.canonicalText)" } ?? "\(entity) \(id) has no \(field)"
                }
            } else {
                found = Self.missing(entity, id, stored)
            }
        case .unique(let entity, let field, let value, let id):
            target = (entity, id)
            found = try documents.holder(entity: entity, field: field, value: value).flatMap { holder in
                // The holder is not named: that would tell any writer who holds a value.
                holder == id ? nil : "another \(entity) already has \(field) = \(value.canonicalText); \(field) is unique"
            }
        case .version(let entity, let id, let expected):
            let version = try Self.live(documents.document(entity: entity, id: id))?.version ?? -1
            guard version != expected else { return }
            let state = version < 0 ? "does not exist" : "is at version \(version)"
            var error = ChronicleError(
                .wrongExpectedRevision, "\(entity) \(id) \(state), but the request expected version \(expected). Read it again, decide again, and retry with the new ETag.",
                expectedRevision: .exact(expected), actualRevision: version < 0 ? nil : version
            )
            error.details = ["entity": .string(entity), "id": .string(id)]
            throw error
        }
        guard let found else { return }
        var error = ChronicleError(.ruleViolated, detail ?? "\(found.prefix(1).uppercased())\(found.dropFirst()).")
        error.status = status
        error.details = ["entity": .string(target.entity), "id": .string(target.id)]
        if let name { error.details["rule"] = .string(name) }
        throw error
    }

    private static func live(_ document: Document?) -> Document? {
        document.flatMap { $0.deleted ? nil : $0 }
    }

    /// What a rule found of an entity that is not live: its document, deleted, or none.
    private static func missing(_ entity: String, _ id: String, _ document: Document?) -> String {
        document?.deleted == true ? "\(entity) \(id) was deleted" : "\(entity) \(id) does not exist"
    }
}
