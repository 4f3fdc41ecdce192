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
        /// The event's data is merged onto the state (RFC 7386). The entity must exist.
        case merge
        /// Like ``merge``, but creates the entity when it does not exist.
        case upsert
        /// These fields are merged onto the state. The entity must exist.
        case set(JSONValue)
        /// The entity is soft-deleted (hidden, state kept). The entity must exist.
        case delete
        /// The entity is erased: its stream is hard-deleted (events purged, tombstoned) in the
        /// append's transaction and its document removed. For erasure requests.
        case erase
    }

    /// A precondition of an event type (`require:`), checked in the append's transaction.
    public struct Requirement: Sendable, Hashable {
        /// Which entity it is about.
        public enum Target: Sendable, Hashable {
            /// The entity the event changes.
            case this
            /// Another entity, whose id is at a path of the event's data (`$.data.userId`).
            case entity(String, idPath: [String])
        }

        /// What must hold.
        public enum Check: Sendable, Hashable {
            /// The entity exists and is not deleted.
            case exists
            /// The entity does not exist (or was deleted).
            case absent
            /// The entity exists, is not deleted, and its fields meet the conditions.
            case matches([String: AppendRule.FieldCondition])
        }

        /// The entity concerned.
        public var target: Target
        /// What must hold.
        public var check: Check
        /// The status when it does not (403, 409 or 422).
        public var status: Int
        /// What to tell the client when it does not; `nil` says what was found.
        public var detail: String?
        /// The rule's name in errors (`otherwise.code`); `nil` for `<type>.require[<index>]`.
        public var code: String?
    }

    /// One entity kind and its events.
    public struct Entity: Sendable, Hashable {
        /// The event types that change it, and how.
        public var events: [String: Operation]
        /// The field of a `POST /v1/events/{type}` payload that holds the entity id (default `id`).
        public var idField: String = "id"
        /// Fields whose values no two live entities may share.
        public var unique: [String] = []
        /// JSON Schemas of event payloads, by event type.
        public var payloadSchemas: [String: JSONValue] = [:]
        /// Preconditions, by event type.
        public var requirements: [String: [Requirement]] = [:]
        /// Event types that may be appended to the entity's streams without changing it
        /// (`ignore:`); any other undeclared type is refused.
        public var ignored: Set<String> = []
        /// Event types that change documents named by their data (`id:`, `each:`) rather than
        /// the entity of their stream, and which ones; such a type may be appended to any stream
        /// that accepts it, and several entities may declare it.
        public var routes: [String: Route] = [:]
        /// The data an event type's `create`, `merge` or `upsert` uses instead of all of it.
        public var templates: [String: DataTemplate] = [:]
        /// Personal fields of every event type the entity is the home of (`personal:`).
        public var personal: PersonalFields?
        /// Personal fields of one event type (its own `personal:`), added to the entity's.
        public var personalByType: [String: PersonalFields] = [:]

        /// Creates an entity definition.
        public init(events: [String: Operation]) {
            self.events = events
        }
    }

    /// A reactor declared in the schema: a webhook called for events of some types.
    public struct ReactorDefinition: Sendable, Hashable {
        /// The event types it reacts to.
        public var types: [String]
        /// The webhook's URL.
        public var url: String
        /// How long to wait for the webhook.
        public var timeout: Duration
        /// The HMAC key of the signature header, if any.
        public var secret: String?
        /// Attempts before an event is parked.
        public var attempts: Int
        /// The first retry's delay.
        public var backoff: Duration
        /// Whether a new reactor starts at the beginning of the log (default: at its end).
        public var fromBeginning: Bool
        /// How many streams' events are delivered at once (events of one stream stay in order);
        /// the reactor runner's default, 8.
        public var concurrency: Int = ReactorDefinition.defaultConcurrency

        /// The reactor runner's default concurrency.
        public static let defaultConcurrency = 8
    }

    /// The entities, by name (the stream category).
    public var entities: [String: Entity]
    /// The reactors, by name.
    public var reactors: [String: ReactorDefinition] = [:]

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
                case .upsert: "upsert"
                case .delete: "delete"
                case .erase: "erase"
                case .set(let fields): ["set": fields]
                }
            }
            for (type, route) in entity.routes {
                var declaration: [String: JSONValue] = ["operation": events[type] ?? .null, "route": route.fingerprint]
                if let template = entity.templates[type] { declaration["data"] = template.fingerprint }
                events[type] = .object(declaration)
            }
            for (type, template) in entity.templates where entity.routes[type] == nil {
                events[type] = ["operation": events[type] ?? .null, "data": template.fingerprint]
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
            case "entities", "reactors": continue
            default: throw fail(key, "unknown key \(key.string.map { $0.debugDescription } ?? "?"); the schema has `entities:` and `reactors:`.")
            }
        }
        guard let entitiesNode = top["entities"], let entitiesMapping = entitiesNode.mapping else {
            throw fail(root, "`entities:` is missing or not a mapping of entity names.")
        }
        var entities: [String: Entity] = [:]
        var homes: [String: String] = [:]
        for (nameNode, entityNode) in entitiesMapping {
            guard let name = nameNode.string, !name.isEmpty, !name.contains("-"), (try? StreamName(name)) != nil else {
                throw fail(nameNode, "entity name \(nameNode.string.map { $0.debugDescription } ?? "?") must be a stream category: printable, no whitespace, no '-', not starting with '$'.")
            }
            guard let fields = entityNode.mapping else {
                throw fail(entityNode, "entity \(name) must be a mapping with `events:`.")
            }
            for (key, _) in fields where !["events", "id", "unique", "ignore", "personal", "subject"].contains(key.string ?? "") {
                throw fail(key, "unknown key \(key.string.map { $0.debugDescription } ?? "?") in entity \(name); an entity has `events:`, and may have `id:`, `unique:`, `ignore:`, `personal:` and `subject:`.")
            }
            guard let eventsNode = fields["events"], let events = eventsNode.mapping, !events.isEmpty else {
                throw fail(entityNode, "entity \(name) has no `events:` mapping; list the event types that change it.")
            }
            var operations: [String: Operation] = [:]
            var payloadSchemas: [String: JSONValue] = [:]
            var requirements: [String: [Requirement]] = [:]
            var routes: [String: Route] = [:]
            var templates: [String: DataTemplate] = [:]
            var personalByType: [String: PersonalFields] = [:]
            let personal = try Self.personal(fields, owner: "entity \(name)", fail: fail)
            for (typeNode, operationNode) in events {
                guard let type = typeNode.string, (try? StreamName(type)) != nil else {
                    throw fail(typeNode, "event type \(typeNode.string.map { $0.debugDescription } ?? "?") is not valid: printable, no whitespace, not starting with '$'.")
                }
                let parsed = try Self.operation(operationNode, type: type, fail: fail)
                if parsed.route == nil, let home = homes[type] {
                    throw fail(typeNode, "event type \(type) already changes entity \(home) as its stream's entity; an event type has one such home. To change \(name) documents too, say which ones with `id:` (a path such as $.data.\(name)Id) or `each:` with `id:`.")
                }
                if parsed.route == nil { homes[type] = name }
                operations[type] = parsed.operation
                payloadSchemas[type] = parsed.schema
                if !parsed.requirements.isEmpty { requirements[type] = parsed.requirements }
                routes[type] = parsed.route
                templates[type] = parsed.template
                if let own = parsed.personal {
                    if parsed.route != nil && own.subject == nil {
                        throw fail(operationNode, "\(type): its documents are named by `id:`/`each:`, so say whose its personal fields are with `subject:` (a path such as $.data.userId).")
                    }
                    personalByType[type] = own
                }
                for declared in [parsed.route == nil ? personal : nil, parsed.personal].compactMap({ $0 }) {
                    try Self.checkPersonal(declared, payload: parsed.schema, type: type, node: operationNode, fail: fail)
                }
            }
            var entity = Entity(events: operations)
            entity.payloadSchemas = payloadSchemas
            entity.requirements = requirements
            entity.routes = routes
            entity.templates = templates
            entity.personal = personal
            entity.personalByType = personalByType
            if let idNode = fields["id"] {
                guard let idField = idNode.string, !idField.isEmpty else { throw fail(idNode, "entity \(name): `id:` names the payload field that holds the entity id, such as id.") }
                entity.idField = idField
            }
            if let uniqueNode = fields["unique"] {
                guard let list = uniqueNode.sequence, list.allSatisfy({ $0.string?.isEmpty == false }) else {
                    throw fail(uniqueNode, "entity \(name): `unique:` is a list of field names, such as [email].")
                }
                entity.unique = list.compactMap(\.string)
            }
            if let ignoreNode = fields["ignore"] {
                guard let list = ignoreNode.sequence, list.allSatisfy({ $0.string.map { (try? StreamName($0)) != nil } ?? false }) else {
                    throw fail(ignoreNode, "entity \(name): `ignore:` is a list of event types that may be appended to its streams without changing it, such as [UserLoggedIn].")
                }
                entity.ignored = Set(list.compactMap(\.string))
                if let both = entity.ignored.first(where: { operations[$0] != nil }) {
                    throw fail(ignoreNode, "entity \(name): \(both) is both declared under `events:` and listed under `ignore:`; keep one.")
                }
            }
            entities[name] = entity
        }
        if entities.isEmpty && (top["reactors"]?.mapping ?? [:]).isEmpty {
            throw fail(entitiesNode, "`entities:` is empty; define at least one entity (or only reactors, with `entities: {}`).")
        }
        self.init(entities: entities)
        if let reactorsNode = top["reactors"] {
            guard let mapping = reactorsNode.mapping else { throw fail(reactorsNode, "`reactors:` is a mapping of reactor names.") }
            for (nameNode, node) in mapping {
                guard let name = nameNode.string, !name.isEmpty, let fields = node.mapping else {
                    throw fail(nameNode, "a reactor is a name with a mapping: on, webhook, and optional retry and from.")
                }
                reactors[name] = try Self.reactor(name, fields, node: node, fail: fail)
            }
        }
    }

    private struct ParsedOperation {
        var operation: Operation
        var schema: JSONValue?
        var requirements: [Requirement] = []
        var route: Route?
        var template: DataTemplate?
        var personal: PersonalFields?
    }

    private static func operation(_ node: Node, type: String, fail: (Node?, String) -> ChronicleError) throws -> ParsedOperation {
        let hint = "use create, merge, upsert, delete, erase, or { set: { field: value } }"
        if let word = node.scalar?.string {
            switch word {
            case "create": return ParsedOperation(operation: .create)
            case "merge": return ParsedOperation(operation: .merge)
            case "upsert": return ParsedOperation(operation: .upsert)
            case "delete": return ParsedOperation(operation: .delete)
            case "erase": return ParsedOperation(operation: .erase)
            default: throw fail(node, "\(type): unknown operation \(word.debugDescription); \(hint).")
            }
        }
        guard let mapping = node.mapping, mapping.count >= 1 else {
            throw fail(node, "\(type): \(hint).")
        }
        let route = try Self.route(mapping, type: type, fail: fail)
        var found: [Operation] = []
        var schema: JSONValue?
        var requirements: [Requirement] = []
        var template: DataTemplate?
        for (key, value) in mapping {
            switch key.string {
            case "id", "each", "where", "personal", "subject":
                continue
            case "create", "merge", "upsert":
                let operations: [String: Operation] = ["create": .create, "merge": .merge, "upsert": .upsert]
                found.append(operations[key.string!]!)
                template = try Self.template(value, key: key.string!, type: type, stripping: route?.each == nil, fail: fail)
            case "delete", "erase":
                guard value.bool == true else { throw fail(value, "\(type): `\(key.string!): ` takes true.") }
                if key.string == "erase", route != nil {
                    throw fail(key, "\(type): `erase` hard-deletes the event's own stream, so it cannot take `id:` or `each:`; use delete to soft-delete the documents they name.")
                }
                found.append(key.string == "erase" ? .erase : .delete)
            case "set":
                let fields = try json(value)
                guard case .object = fields else { throw fail(value, "\(type): `set:` takes a mapping of fields, such as { emailVerified: true }.") }
                found.append(.set(fields))
            case "schema":
                let parsed = try json(value)
                do {
                    _ = try JSONSchema(parsed)
                } catch let error as ChronicleError {
                    throw fail(value, "\(type): `schema:` is not a usable JSON Schema: \(error.message)")
                }
                schema = parsed
            case "require":
                guard let list = value.sequence else { throw fail(value, "\(type): `require:` is a list of conditions.") }
                requirements = try list.map { try requirement($0, type: type, fail: fail) }
            default:
                throw fail(key, "\(type): unknown key \(key.string.map { $0.debugDescription } ?? "?"); \(hint), with optional `id:`/`each:`/`where:` (which documents), `schema:`, `require:` and `personal:`/`subject:`.")
            }
        }
        guard found.count == 1 else { throw fail(node, "\(type): give exactly one operation; \(hint).") }
        let personal = try Self.personal(mapping, owner: type, fail: fail)
        return ParsedOperation(operation: found[0], schema: schema, requirements: requirements, route: route, template: template, personal: personal)
    }

    private static func requirement(_ node: Node, type: String, fail: (Node?, String) -> ChronicleError) throws -> Requirement {
        guard let fields = node.mapping else { throw fail(node, "\(type): each `require:` item is a mapping, such as { entity: user, id: $.data.userId, where: { emailVerified: true } }.") }
        for (key, _) in fields where !["entity", "id", "this", "where", "exists", "otherwise"].contains(key.string ?? "") {
            throw fail(key, "\(type): unknown key \(key.string.map { $0.debugDescription } ?? "?") in a requirement; use entity/id/where/exists, or this, and otherwise.")
        }
        var status: Int?
        var detail: String?
        var code: String?
        if let otherwise = fields["otherwise"] {
            guard let mapping = otherwise.mapping else { throw fail(otherwise, "\(type): `otherwise:` is { status: 403, code: email-unverified, detail: \"…\" }.") }
            for (key, _) in mapping where !["status", "code", "detail"].contains(key.string ?? "") {
                throw fail(key, "\(type): unknown key \(key.string.map { $0.debugDescription } ?? "?") in `otherwise:`; it has status, code and detail.")
            }
            if let node = mapping["status"] {
                guard let value = node.int, [403, 409, 422].contains(value) else { throw fail(node, "\(type): `otherwise.status` must be 403, 409 or 422.") }
                status = value
            }
            if let node = mapping["code"] {
                guard let text = node.string, !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                    throw fail(node, "\(type): `otherwise.code` is a name such as email-unverified (letters, digits, '-', '_', '.').")
                }
                code = text
            }
            if let node = mapping["detail"] {
                guard let text = node.string, !text.isEmpty else { throw fail(node, "\(type): `otherwise.detail` is the text the client gets.") }
                detail = text
            }
        }
        if let this = fields["this"] {
            guard fields["entity"] == nil, fields["id"] == nil, fields["exists"] == nil else {
                throw fail(this, "\(type): a requirement names `this:` or `entity:` with `id:`, not both.")
            }
            switch this.string {
            case "exists":
                let check = try fields["where"].map { Requirement.Check.matches(try conditions($0, type: type, fail: fail)) } ?? .exists
                return Requirement(target: .this, check: check, status: status ?? 422, detail: detail, code: code)
            case "absent":
                if let node = fields["where"] { throw fail(node, "\(type): `where:` needs `this: exists` (an absent entity has no fields).") }
                return Requirement(target: .this, check: .absent, status: status ?? 409, detail: detail, code: code)
            default: throw fail(this, "\(type): `this:` is exists (optionally with `where:`) or absent.")
            }
        }
        guard let entity = fields["entity"]?.string, let path = fields["id"]?.string else {
            throw fail(node, "\(type): a requirement names `entity:` and `id:` (a path such as $.data.userId), or `this: exists|absent`.")
        }
        var tokens = path.split(separator: ".").map(String.init)
        guard tokens.first == "$", tokens.count >= 2 else { throw fail(fields["id"], "\(type): `id:` is a path into the event such as $.data.userId.") }
        tokens.removeFirst()
        if tokens.first == "data" { tokens.removeFirst() }
        var check = Requirement.Check.exists
        if fields["exists"]?.bool == false { check = .absent }
        if let whereNode = fields["where"] {
            check = .matches(try conditions(whereNode, type: type, fail: fail))
        }
        return Requirement(target: .entity(entity, idPath: tokens), check: check, status: status ?? 422, detail: detail, code: code)
    }

    static func conditions(_ node: Node, type: String, fail: (Node?, String) -> ChronicleError) throws -> [String: AppendRule.FieldCondition] {
        guard let conditions = node.mapping, !conditions.isEmpty else { throw fail(node, "\(type): `where:` is a mapping of fields to values or conditions.") }
        var parsed: [String: AppendRule.FieldCondition] = [:]
        for (fieldNode, conditionNode) in conditions {
            guard let field = fieldNode.string else { throw fail(fieldNode, "\(type): a `where:` key is a field name.") }
            parsed[field] = try condition(conditionNode, type: type, fail: fail)
        }
        return parsed
    }

    private static func condition(_ node: Node, type: String, fail: (Node?, String) -> ChronicleError) throws -> AppendRule.FieldCondition {
        guard let mapping = node.mapping else { return .equals(try json(node)) }
        guard mapping.count == 1, let (key, value) = mapping.first, let name = key.string else {
            throw fail(node, "\(type): a condition is a value, or one of { in: […] }, { gt: n }, { gte: n }, { lt: n }, { lte: n }, { exists: true }.")
        }
        func number() throws -> Double {
            guard let number = value.float ?? value.int.map(Double.init) else { throw fail(value, "\(type): `\(name)` takes a number.") }
            return number
        }
        switch name {
        case "in":
            guard case .array(let options) = try json(value) else { throw fail(value, "\(type): `in` takes a list.") }
            return .oneOf(options)
        case "gt": return .greaterThan(try number())
        case "gte": return .atLeast(try number())
        case "lt": return .lessThan(try number())
        case "lte": return .atMost(try number())
        case "exists":
            guard let flag = value.bool else { throw fail(value, "\(type): `exists` takes true or false.") }
            return .exists(flag)
        default:
            throw fail(key, "\(type): unknown condition \(name.debugDescription); use in, gt, gte, lt, lte or exists.")
        }
    }

    private static func reactor(_ name: String, _ fields: Node.Mapping, node: Node, fail: (Node?, String) -> ChronicleError) throws -> ReactorDefinition {
        for (key, _) in fields where !["on", "webhook", "retry", "from", "concurrency"].contains(key.string ?? "") {
            throw fail(key, "reactor \(name): unknown key \(key.string.map { $0.debugDescription } ?? "?"); a reactor has on, webhook, retry, from and concurrency.")
        }
        guard let on = fields["on"]?.sequence, !on.isEmpty, on.allSatisfy({ $0.string != nil }) else {
            throw fail(fields["on"] ?? node, "reactor \(name): `on:` lists the event types it reacts to, such as [UserCreated].")
        }
        guard let webhook = fields["webhook"]?.mapping, let url = webhook["url"]?.string, let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? "") else {
            throw fail(fields["webhook"] ?? node, "reactor \(name): `webhook:` needs an http(s) `url:`.")
        }
        func duration(_ node: Node?, _ fallback: Duration) throws -> Duration {
            guard let node else { return fallback }
            var text = node.string ?? ""
            var scale = 1000.0
            if text.hasSuffix("ms") { text.removeLast(2); scale = 1 } else if text.hasSuffix("s") { text.removeLast() }
            guard let value = Double(text), value > 0 else { throw fail(node, "reactor \(name): a duration is like 5s or 100ms.") }
            return .milliseconds(Int64(value * scale))
        }
        var attempts = 8
        var backoff = Duration.milliseconds(100)
        if let retry = fields["retry"]?.mapping {
            if let node = retry["attempts"] {
                guard let value = node.int, value >= 1 else { throw fail(node, "reactor \(name): `attempts:` is 1 or more.") }
                attempts = value
            }
            backoff = try duration(retry["backoff"].flatMap { $0.string == "exponential" ? nil : $0 }, backoff)
        }
        var fromBeginning = false
        if let from = fields["from"] {
            guard ["beginning", "end"].contains(from.string ?? "") else { throw fail(from, "reactor \(name): `from:` is beginning or end.") }
            fromBeginning = from.string == "beginning"
        }
        var concurrency = ReactorDefinition.defaultConcurrency
        if let node = fields["concurrency"] {
            guard let value = node.int, (1...256).contains(value) else { throw fail(node, "reactor \(name): `concurrency:` is a number of streams from 1 to 256.") }
            concurrency = value
        }
        return ReactorDefinition(
            types: on.compactMap(\.string), url: url, timeout: try duration(webhook["timeout"], .seconds(5)), secret: webhook["secret"]?.string,
            attempts: attempts, backoff: backoff, fromBeginning: fromBeginning, concurrency: concurrency
        )
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
