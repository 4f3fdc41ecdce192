import ChronicleCore
import Crypto
import Foundation
import Yams

/// The declarative schema: which entities exist, and how each event type changes them.
///
/// ```yaml
/// entities:
///   user:
///     events:
///       UserCreated: create                                # state := data
///       UserUpdatedEmailAddress: merge                     # RFC 7386 merge patch of data onto state
///       UserEmailVerified: { set: { emailVerified: true } } # fixed fields
///       UserDeleted: delete                                # soft delete
///       UserErased: erase                                  # hard delete: stream purged, document removed
/// ```
///
/// The entity of an event is its stream's category (`user-1234` → entity `user`, id `1234`).
public struct EntitySchema: Sendable, Hashable {
    /// How an event changes its entity.
    public enum Operation: Sendable, Hashable {
        /// The state becomes the event's data.
        case create
        /// The event's data is merged onto the state (RFC 7386).
        case merge
        /// These fields are merged onto the state.
        case set(JSONValue)
        /// The entity is soft-deleted (hidden, state kept).
        case delete
        /// The entity is erased: its stream is hard-deleted (events purged, tombstoned) in the
        /// append's transaction and its document removed. For erasure requests.
        case erase
    }

    /// One entity kind and its events.
    public struct Entity: Sendable, Hashable {
        /// The event types that change it, and how.
        public var events: [String: Operation]

        /// Creates an entity definition.
        public init(events: [String: Operation]) {
            self.events = events
        }
    }

    /// The entities, by name (the stream category).
    public var entities: [String: Entity]

    /// Creates a schema.
    public init(entities: [String: Entity]) {
        self.entities = entities
    }

    /// A stable fingerprint of the definition.
    public var definitionHash: String {
        var entries: [String: JSONValue] = [:]
        for (name, entity) in entities {
            var events: [String: JSONValue] = [:]
            for (type, operation) in entity.events {
                events[type] = switch operation {
                case .create: "create"
                case .merge: "merge"
                case .delete: "delete"
                case .erase: "erase"
                case .set(let fields): ["set": fields]
                }
            }
            entries[name] = .object(events)
        }
        return SHA256.hash(data: Data(JSONValue.object(entries).canonicalText.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads a schema file.
    ///
    /// - Throws: ``ChronicleError`` (``ChronicleError/Code/invalidInput``) naming the file,
    ///   the line and what is wrong.
    public static func load(file: String) throws -> EntitySchema {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ChronicleError(.invalidInput, "Cannot read the schema file \(file): \(error.localizedDescription).")
        }
        return try EntitySchema(yaml: text, file: file)
    }

    /// Parses a schema from YAML text; `file` names it in errors.
    public init(yaml text: String, file: String = "schema") throws {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ChronicleError(.invalidInput, "\(file) is not valid YAML: \(error)")
        }
        func fail(_ node: Node?, _ message: String) -> ChronicleError {
            let line = node?.mark.map { ", line \($0.line)" } ?? ""
            return ChronicleError(.invalidInput, "\(file)\(line): \(message)")
        }
        guard let root, let top = root.mapping else {
            throw fail(root, "the schema must be a mapping with an `entities:` key.")
        }
        for (key, _) in top {
            switch key.string {
            case "entities": continue
            case "reactors": throw fail(key, "`reactors:` are not supported yet (side effects come with a later version).")
            default: throw fail(key, "unknown key \(key.string.map { $0.debugDescription } ?? "?"); the schema has `entities:`.")
            }
        }
        guard let entitiesNode = top["entities"], let entitiesMapping = entitiesNode.mapping else {
            throw fail(root, "`entities:` is missing or not a mapping of entity names.")
        }
        var entities: [String: Entity] = [:]
        for (nameNode, entityNode) in entitiesMapping {
            guard let name = nameNode.string, !name.isEmpty, !name.contains("-"), (try? StreamName(name)) != nil else {
                throw fail(nameNode, "entity name \(nameNode.string.map { $0.debugDescription } ?? "?") must be a stream category: printable, no whitespace, no '-', not starting with '$'.")
            }
            guard let fields = entityNode.mapping else {
                throw fail(entityNode, "entity \(name) must be a mapping with `events:`.")
            }
            for (key, _) in fields where key.string != "events" {
                let detail = key.string == "unique" ? "`unique:` is not supported yet (uniqueness comes with rules)." : "unknown key \(key.string.map { $0.debugDescription } ?? "?") in entity \(name); an entity has `events:`."
                throw fail(key, detail)
            }
            guard let eventsNode = fields["events"], let events = eventsNode.mapping, !events.isEmpty else {
                throw fail(entityNode, "entity \(name) has no `events:` mapping; list the event types that change it.")
            }
            var operations: [String: Operation] = [:]
            for (typeNode, operationNode) in events {
                guard let type = typeNode.string, (try? StreamName(type)) != nil else {
                    throw fail(typeNode, "event type \(typeNode.string.map { $0.debugDescription } ?? "?") is not valid: printable, no whitespace, not starting with '$'.")
                }
                if let claimed = entities.first(where: { $0.value.events[type] != nil }) {
                    throw fail(typeNode, "event type \(type) already changes entity \(claimed.key); an event type belongs to one entity.")
                }
                operations[type] = try Self.operation(operationNode, type: type, fail: fail)
            }
            entities[name] = Entity(events: operations)
        }
        if entities.isEmpty {
            throw fail(entitiesNode, "`entities:` is empty; define at least one entity.")
        }
        self.init(entities: entities)
    }

    private static func operation(_ node: Node, type: String, fail: (Node?, String) -> ChronicleError) throws -> Operation {
        let hint = "use create, merge, delete, erase, or { set: { field: value } }"
        if let word = node.scalar?.string {
            switch word {
            case "create": return .create
            case "merge": return .merge
            case "delete": return .delete
            case "erase": return .erase
            default: throw fail(node, "\(type): unknown operation \(word.debugDescription); \(hint).")
            }
        }
        guard let mapping = node.mapping, mapping.count >= 1 else {
            throw fail(node, "\(type): \(hint).")
        }
        var found: Operation?
        for (key, value) in mapping {
            switch key.string {
            case "create", "merge", "delete":
                guard value.bool == true else { throw fail(value, "\(type): `\(key.string!): ` takes true.") }
                found = key.string == "create" ? .create : key.string == "merge" ? .merge : .delete
            case "set":
                let fields = try json(value)
                guard case .object = fields else { throw fail(value, "\(type): `set:` takes a mapping of fields, such as { emailVerified: true }.") }
                found = .set(fields)
            case "require":
                throw fail(key, "\(type): `require:` (preconditions) is not supported yet.")
            default:
                throw fail(key, "\(type): unknown key \(key.string.map { $0.debugDescription } ?? "?"); \(hint).")
            }
        }
        guard let found, mapping.count == 1 else { throw fail(node, "\(type): give exactly one operation; \(hint).") }
        return found
    }

    /// A YAML node as JSON: plain scalars resolve to booleans, numbers and null; quoted ones are strings.
    static func json(_ node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if node.null != nil { return .null }
                if let flag = node.bool { return .bool(flag) }
                if let integer = node.int { return .integer(Int64(integer)) }
                if let double = node.float { return .double(double) }
            }
            return .string(scalar.string)
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                members[key.string ?? ""] = try json(value)
            }
            return .object(members)
        case .sequence(let sequence):
            return .array(try sequence.map(json))
        case .alias:
            throw ChronicleError(.invalidInput, "YAML aliases are not supported in the schema.")
        }
    }
}
