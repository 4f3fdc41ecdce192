import ChronicleCore
import Yams

extension EntitySchema {
    /// Which documents of an entity an event changes when it is not (only) its stream's own
    /// entity: `id: $.data.listId` (one document), or `each: $.data.updated` with an optional
    /// `where:` and `id: $._id` (one change per matching element of an array, the element as
    /// the data the operation uses).
    public struct Route: Sendable, Hashable {
        /// The path of the array in the event's data (`each:`); `nil` for one document.
        public var each: JSONPath?
        /// The conditions an element meets to change a document (`where:`).
        public var filter: [String: AppendRule.FieldCondition] = [:]
        /// The path of the id: into the event's data, or into the element with ``each``.
        public var id: JSONPath

        /// Creates a route.
        public init(each: JSONPath? = nil, filter: [String: AppendRule.FieldCondition] = [:], id: JSONPath) {
            self.each = each
            self.filter = filter
            self.id = id
        }

        /// The documents the route names in an event's data, each with the data its
        /// operation uses (the event's data, or the element), in order; an id named by several
        /// elements has them all, in order.
        ///
        /// - Throws: ``RouteFailure`` when a path resolves to nothing, `each:` to something
        ///   other than an array, or an id to something other than a non-empty string.
        public func sources(in data: JSONValue) throws(RouteFailure) -> [(id: String, data: JSONValue)] {
            guard let each else { return [(try Self.id(at: id, in: data), data)] }
            guard let found = each.resolve(in: data) else { throw RouteFailure(path: each, problem: "resolves to nothing") }
            guard case .array(let elements) = found else { throw RouteFailure(path: each, problem: "is a JSON \(found.kindName), not an array") }
            var sources: [(id: String, data: JSONValue)] = []
            for element in elements where filter.allSatisfy({ $0.value.holds(for: element[$0.key]) }) {
                sources.append((try Self.id(at: id, in: element), element))
            }
            return sources
        }

        private static func id(at path: JSONPath, in data: JSONValue) throws(RouteFailure) -> String {
            switch path.resolve(in: data) {
            case .string(let text)? where !text.isEmpty: return text
            case nil: throw RouteFailure(path: path, problem: "resolves to nothing")
            case let other?: throw RouteFailure(path: path, problem: "is \(other.kindName == "string" ? "an empty string" : "a JSON \(other.kindName)"), not an id (a non-empty string)")
            }
        }

        /// As the schema fingerprint records it.
        var fingerprint: JSONValue {
            var fields: [String: JSONValue] = ["id": .string(id.text)]
            if let each { fields["each"] = .string(each.text) }
            if !filter.isEmpty { fields["where"] = .string(String(describing: filter.sorted { $0.key < $1.key })) }
            return .object(fields)
        }
    }

    /// Why a route or a template could not be resolved in an event.
    public struct RouteFailure: Error, Sendable {
        /// The path, as the schema writes it.
        public var path: JSONPath
        /// What is wrong with what it found.
        public var problem: String
    }

    /// The data an operation uses instead of all of it: `merge: $.profile` (a sub-object) or
    /// `merge: { email: $.email }` (a template whose `$.` strings are paths).
    public enum DataTemplate: Sendable, Hashable {
        /// The object at a path.
        case path(JSONPath)
        /// An object whose strings starting with `$.` are replaced by what their paths name;
        /// with `stripping`, a leading `data.` of a path is dropped (paths into the event's
        /// data, where `each:` paths are into the element).
        case template(JSONValue, stripping: Bool)

        /// The data the template makes from `data`.
        ///
        /// - Throws: ``RouteFailure`` when a path resolves to nothing (or, for ``path``, to
        ///   something other than an object).
        public func resolve(in data: JSONValue) throws(RouteFailure) -> JSONValue {
            switch self {
            case .path(let path):
                guard let found = path.resolve(in: data) else { throw RouteFailure(path: path, problem: "resolves to nothing") }
                guard case .object = found else { throw RouteFailure(path: path, problem: "is a JSON \(found.kindName), not an object") }
                return found
            case .template(let template, let stripping):
                return try Self.fill(template, from: data, stripping: stripping)
            }
        }

        private static func fill(_ template: JSONValue, from data: JSONValue, stripping: Bool) throws(RouteFailure) -> JSONValue {
            switch template {
            case .string(let text):
                guard let path = JSONPath(text, stripping: stripping) else { return template }
                guard let found = path.resolve(in: data) else { throw RouteFailure(path: path, problem: "resolves to nothing") }
                return found
            case .object(let members):
                var filled: [String: JSONValue] = [:]
                for (key, value) in members { filled[key] = try fill(value, from: data, stripping: stripping) }
                return .object(filled)
            case .array(let items):
                var filled: [JSONValue] = []
                for item in items { filled.append(try fill(item, from: data, stripping: stripping)) }
                return .array(filled)
            default:
                return template
            }
        }

        /// As the schema fingerprint records it.
        var fingerprint: JSONValue {
            switch self {
            case .path(let path): .string(path.text)
            case .template(let template, _): template
            }
        }
    }

    /// A path such as `$.data.user.id` or `$._id`: member names from a root.
    public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
        /// The member names.
        public var tokens: [String]
        /// The path as written.
        public var text: String

        /// Parses `$.a.b`; with `stripping`, a leading `data` is dropped (`$.data.a` and `$.a`
        /// both name `a` of the event's data). `nil` if it is not such a path.
        public init?(_ text: String, stripping: Bool) {
            guard text.hasPrefix("$.") else { return nil }
            var tokens = text.dropFirst(2).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if stripping, tokens.first == "data", tokens.count > 1 { tokens.removeFirst() }
            guard !tokens.isEmpty, tokens.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) else { return nil }
            self.tokens = tokens
            self.text = text
        }

        /// What the path names in `value`, if anything.
        public func resolve(in value: JSONValue) -> JSONValue? {
            var current: JSONValue? = value
            for token in tokens { current = current?[token] }
            return current
        }

        public var description: String { text }
    }

    /// Parses the route keys (`id:`, `each:`, `where:`) of an event type's declaration.
    static func route(_ mapping: Node.Mapping, type: String, fail: (Node?, String) -> ChronicleError) throws -> Route? {
        let idNode = mapping["id"], eachNode = mapping["each"], whereNode = mapping["where"]
        guard idNode != nil || eachNode != nil || whereNode != nil else { return nil }
        guard let idNode else {
            throw fail(eachNode ?? whereNode, "\(type): `each:` and `where:` need `id:`, the path of the id of the document each element changes, such as $._id.")
        }
        if let whereNode, eachNode == nil {
            throw fail(whereNode, "\(type): `where:` filters the elements of `each:`; add `each:` (the path of an array, such as $.data.updated).")
        }
        var each: JSONPath?
        if let eachNode {
            guard let text = eachNode.string, let path = JSONPath(text, stripping: true) else {
                throw fail(eachNode, "\(type): `each:` is the path of an array in the event, such as $.data.updated.")
            }
            each = path
        }
        guard let text = idNode.string, let id = JSONPath(text, stripping: each == nil) else {
            let example = each == nil ? "$.data.mailingListId" : "$._id (a path into each element)"
            throw fail(idNode, "\(type): `id:` is the path of the id of the document the event changes, such as \(example).")
        }
        let filter = try whereNode.map { try conditions($0, type: type, fail: fail) } ?? [:]
        return Route(each: each, filter: filter, id: id)
    }

    /// Parses what an operation key takes: `true`, a path (`$.profile`) or a template mapping.
    /// `stripping`: the paths are into the event's data (no `each:`), so `$.data.x` is `$.x`.
    static func template(_ node: Node, key: String, type: String, stripping: Bool, fail: (Node?, String) -> ChronicleError) throws -> DataTemplate? {
        if node.bool == true { return nil }
        if let text = node.string, node.mapping == nil {
            guard let path = JSONPath(text, stripping: stripping) else {
                throw fail(node, "\(type): `\(key):` takes true, a path such as $.profile, or a template such as { email: $.email }.")
            }
            return .path(path)
        }
        guard node.mapping != nil, case .object = try json(node) else {
            throw fail(node, "\(type): `\(key):` takes true, a path such as $.profile, or a template such as { email: $.email }.")
        }
        return .template(try json(node), stripping: stripping)
    }
}
