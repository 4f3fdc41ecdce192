/// Which event last set each field of an entity's document: for every JSON Pointer to a leaf
/// of the state (a scalar, or an empty object or array), the event whose step in the
/// entity's timeline made that leaf what it is. Derived from the same fold as history, so
/// blame and history always agree.
public struct EntityBlame: Sendable {
    /// One leaf and the event that set it.
    public struct Line: Sendable, Hashable {
        /// The leaf.
        public var pointer: JSONPointer
        /// Its value.
        public var value: JSONValue
        /// The event that last set it.
        public var event: RecordedEvent
    }

    /// The document blamed.
    public let document: Document
    /// Its leaves, in pointer order.
    public let lines: [Line]

    /// Blames the document a timeline reaches at its last step up to `position` (every step
    /// when `nil`); `nil` if there is no document there. The timeline must start at the
    /// entity's first event (no snapshot), or the fields set before it are not found.
    public init?(_ timeline: EntityTimeline, upTo position: Int64? = nil) {
        var blamed: [JSONPointer: (value: JSONValue, event: RecordedEvent)] = [:]
        var last: Document?
        for step in timeline.steps {
            if let position, step.event.position > position { break }
            guard let document = step.document else {
                blamed = [:]
                last = nil
                continue
            }
            var next: [JSONPointer: (value: JSONValue, event: RecordedEvent)] = [:]
            for (pointer, value) in Self.leaves(of: document.state) {
                if let previous = blamed[pointer], JSONValue.equal(previous.value, value) {
                    next[pointer] = previous
                } else {
                    next[pointer] = (value, step.event)
                }
            }
            blamed = next
            last = document
        }
        guard let last else { return nil }
        document = last
        lines = blamed.map { Line(pointer: $0.key, value: $0.value.value, event: $0.value.event) }
            .sorted { $0.pointer.description.utf8.lexicographicallyPrecedes($1.pointer.description.utf8) }
    }

    /// The leaves of a JSON value with their pointers.
    static func leaves(of value: JSONValue, at pointer: JSONPointer = .root) -> [(JSONPointer, JSONValue)] {
        switch value {
        case .object(let members) where !members.isEmpty:
            return members.flatMap { leaves(of: $0.value, at: JSONPointer(tokens: pointer.tokens + [$0.key])) }
        case .array(let elements) where !elements.isEmpty:
            return elements.enumerated().flatMap { leaves(of: $0.element, at: JSONPointer(tokens: pointer.tokens + [String($0.offset)])) }
        default:
            return [(pointer, value)]
        }
    }
}
