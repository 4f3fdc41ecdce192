import ChronicleCore
import Yams

extension EntitySchema {
    /// Personal fields (`personal: [email, name]`) of an entity or of one event type: members
    /// of the event's data sealed with their subject's key (see ``PersonalData``), and whose
    /// they are (`subject: $.data.userId`; by default the id of the event's own entity).
    public struct PersonalFields: Sendable, Hashable {
        /// The members of the event's data.
        public var fields: [String]
        /// The path of the subject's id in the event's data; `nil` for the entity id of the
        /// event's stream.
        public var subject: JSONPath?

        /// Creates a declaration.
        public init(fields: [String], subject: JSONPath? = nil) {
            self.fields = fields
            self.subject = subject
        }
    }

    /// Parses `personal:` and `subject:` of an entity or an event type (`nil` when neither is
    /// there). `owner` names what declares them, for errors.
    static func personal(_ mapping: Node.Mapping, owner: String, fail: (Node?, String) -> ChronicleError) throws -> PersonalFields? {
        let personalNode = mapping["personal"], subjectNode = mapping["subject"]
        guard personalNode != nil || subjectNode != nil else { return nil }
        guard let personalNode else {
            throw fail(subjectNode, "\(owner): `subject:` says whose the personal fields are; list them with `personal:`, such as personal: [email, name].")
        }
        guard let list = personalNode.sequence, !list.isEmpty, list.allSatisfy({ $0.string.map { !$0.isEmpty && !$0.hasPrefix("$") && !$0.contains(".") } ?? false }) else {
            throw fail(personalNode, "\(owner): `personal:` is a list of members of the event's data, such as [email, name, address].")
        }
        var subject: JSONPath?
        if let subjectNode {
            guard let text = subjectNode.string, let path = JSONPath(text, stripping: true) else {
                throw fail(subjectNode, "\(owner): `subject:` is the path of the subject's id in the event, such as $.data.userId.")
            }
            subject = path
        }
        return PersonalFields(fields: list.compactMap(\.string), subject: subject)
    }

    /// Refuses personal fields a payload schema types as something other than a string, an
    /// object or an array: a sealed field is kept as a whole.
    static func checkPersonal(_ personal: PersonalFields, payload: JSONValue?, type: String, node: Node?, fail: (Node?, String) -> ChronicleError) throws {
        guard let properties = payload?["properties"]?.objectValue else { return }
        for field in personal.fields {
            guard case .string(let kind)? = properties[field]?["type"], !["string", "object", "array"].contains(kind) else { continue }
            throw fail(node, "\(type): personal field \(field) is a \(kind) in the event's schema; personal fields are strings or objects (sealed as a whole). Make it a string, or leave it out of `personal:`.")
        }
    }
}
