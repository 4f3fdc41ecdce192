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
    }

    /// What the rule checks.
    public var check: Check
    /// The HTTP status when it fails (403, 409 or 422).
    public var status: Int
    /// What to tell the client when it fails.
    public var detail: String

    /// Creates a rule.
    public init(_ check: Check, status: Int, detail: String) {
        self.check = check
        self.status = status
        self.detail = detail
    }

    /// Checks the rule with the documents a transaction sees.
    public func verify(document: (String, String) throws -> Document?, holder: (String, String, JSONValue) throws -> String?) throws {
        let holds: Bool
        switch check {
        case .exists(let entity, let id):
            holds = try document(entity, id).map { !$0.deleted } ?? false
        case .absent(let entity, let id):
            holds = try document(entity, id).map(\.deleted) ?? true
        case .matches(let entity, let id, let conditions):
            if let found = try document(entity, id), !found.deleted {
                holds = conditions.allSatisfy { field, condition in condition.holds(for: found.state[field]) }
            } else {
                holds = false
            }
        case .unique(let entity, let field, let value, let id):
            holds = try holder(entity, field, value).map { $0 == id } ?? true
        }
        if !holds {
            var error = ChronicleError(.ruleViolated, detail)
            error.status = status
            throw error
        }
    }
}
