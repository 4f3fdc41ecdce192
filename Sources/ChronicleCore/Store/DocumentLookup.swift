/// The documents a write transaction sees: what append rules are checked against.
///
/// Every ``EventStoreTransaction`` is one; the documents it returns include the changes the
/// transaction made so far, so a rule of the second event of an append sees what the first
/// one did.
public protocol DocumentLookup {
    /// The inline projection's document of an entity, deleted or not.
    func document(entity: String, id: String) throws -> Document?
    /// The id of a live entity of the kind whose state has `value` in `field`, for uniqueness.
    func holder(entity: String, field: String, value: JSONValue) throws -> String?
}
