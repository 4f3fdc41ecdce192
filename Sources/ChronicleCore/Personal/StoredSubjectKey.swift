import Foundation

/// A subject's row in a store's key table: the subject's key wrapped under the master key,
/// or, once the subject is erased, no key and the id of the erasure's receipt.
public struct StoredSubjectKey: Sendable, Hashable {
    /// Whose key it is: the subject (an entity id, or what a schema's `subject:` names).
    public var subject: String
    /// The key's id, which sealed values name.
    public var id: UUID
    /// The key sealed under the master key; `nil` once the subject is erased.
    public var wrapped: Data?
    /// The id of the `$subjectErased` receipt of the last erasure, if any.
    public var receipt: UUID?

    /// Creates a key row.
    public init(subject: String, id: UUID, wrapped: Data?, receipt: UUID? = nil) {
        self.subject = subject
        self.id = id
        self.wrapped = wrapped
        self.receipt = receipt
    }

    /// Whether the subject was erased and has no key since.
    public var isErased: Bool { wrapped == nil }
}
