/// An RFC 6902 JSON Patch: a list of operations that turn one JSON document into another.
///
/// Chronicle uses it to show what each event changed in an entity (history) and what changed
/// between two versions (diff). ``diff(from:to:)`` makes one; ``apply(to:)`` replays it.
///
/// ```swift
/// let patch = JSONPatch.diff(from: ["email": "a@x.org"], to: ["email": "b@x.org", "verified": true])
/// // [{"op":"replace","path":"/email","value":"b@x.org"},{"op":"add","path":"/verified","value":true}]
/// ```
public struct JSONPatch: Sendable, Hashable {
    /// One operation.
    public enum Operation: Sendable, Hashable {
        /// Adds a member, inserts an array element (`-` appends), or replaces the whole document.
        case add(path: JSONPointer, value: JSONValue)
        /// Removes a member or element, which must exist.
        case remove(path: JSONPointer)
        /// Replaces a value, which must exist.
        case replace(path: JSONPointer, value: JSONValue)
        /// Removes the value at `from` and adds it at `path`.
        case move(from: JSONPointer, path: JSONPointer)
        /// Adds a copy of the value at `from` at `path`.
        case copy(from: JSONPointer, path: JSONPointer)
        /// Fails the whole patch unless the value at `path` equals `value`.
        case test(path: JSONPointer, value: JSONValue)
    }

    /// The operations, applied in order.
    public var operations: [Operation]

    /// Creates a patch.
    public init(_ operations: [Operation] = []) {
        self.operations = operations
    }

    /// Parses a patch document: an array of operation objects.
    ///
    /// - Throws: ``ChronicleError`` (``ChronicleError/Code/invalidInput``) naming the bad operation.
    public init(json: JSONValue) throws {
        guard case .array(let items) = json else {
            throw ChronicleError(.invalidInput, "A JSON Patch is an array of operations; got a JSON \(json.kindName).")
        }
        var operations: [Operation] = []
        for (index, item) in items.enumerated() {
            guard let object = item.objectValue else {
                throw ChronicleError(.invalidInput, "Operation \(index) of the patch is not an object.")
            }
            func pointer(_ name: String) throws -> JSONPointer {
                guard case .string(let text)? = object[name] else {
                    throw ChronicleError(.invalidInput, "Operation \(index) of the patch has no '\(name)' string.")
                }
                return try JSONPointer(parsing: text)
            }
            func value() throws -> JSONValue {
                guard let value = object["value"] else {
                    throw ChronicleError(.invalidInput, "Operation \(index) of the patch has no 'value'.")
                }
                return value
            }
            guard case .string(let op)? = object["op"] else {
                throw ChronicleError(.invalidInput, "Operation \(index) of the patch has no 'op' string.")
            }
            switch op {
            case "add": operations.append(.add(path: try pointer("path"), value: try value()))
            case "remove": operations.append(.remove(path: try pointer("path")))
            case "replace": operations.append(.replace(path: try pointer("path"), value: try value()))
            case "move": operations.append(.move(from: try pointer("from"), path: try pointer("path")))
            case "copy": operations.append(.copy(from: try pointer("from"), path: try pointer("path")))
            case "test": operations.append(.test(path: try pointer("path"), value: try value()))
            default: throw ChronicleError(.invalidInput, "Operation \(index) of the patch has op \(op.debugDescription); the ops are add, remove, replace, move, copy and test.")
            }
        }
        self.operations = operations
    }

    /// The patch as a JSON Patch document.
    public var json: JSONValue {
        .array(operations.map { operation in
            switch operation {
            case .add(let path, let value): ["op": "add", "path": .string(path.description), "value": value]
            case .remove(let path): ["op": "remove", "path": .string(path.description)]
            case .replace(let path, let value): ["op": "replace", "path": .string(path.description), "value": value]
            case .move(let from, let path): ["op": "move", "from": .string(from.description), "path": .string(path.description)]
            case .copy(let from, let path): ["op": "copy", "from": .string(from.description), "path": .string(path.description)]
            case .test(let path, let value): ["op": "test", "path": .string(path.description), "value": value]
            }
        })
    }

    /// Applies the operations in order to `document`.
    ///
    /// - Throws: ``ChronicleError`` (``ChronicleError/Code/invalidInput``) if an operation's
    ///   target is missing, an index is out of range, or a `test` fails; the document is
    ///   unchanged (the result is only returned when every operation succeeds).
    public func apply(to document: JSONValue) throws -> JSONValue {
        var result = document
        for (index, operation) in operations.enumerated() {
            do {
                switch operation {
                case .add(let path, let value):
                    try Self.add(value, at: path.tokens[...], in: &result)
                case .remove(let path):
                    _ = try Self.remove(path.tokens[...], in: &result)
                case .replace(let path, let value):
                    if path.tokens.isEmpty {
                        result = value
                    } else {
                        _ = try Self.remove(path.tokens[...], in: &result)
                        try Self.add(value, at: path.tokens[...], in: &result)
                    }
                case .move(let from, let path):
                    if from != path {
                        guard !(from.isPrefix(of: path)) else {
                            throw ChronicleError(.invalidInput, "cannot move \(from) into its own child \(path)")
                        }
                        let value = try Self.remove(from.tokens[...], in: &result)
                        try Self.add(value, at: path.tokens[...], in: &result)
                    } else {
                        _ = try Self.value(at: from.tokens[...], in: result)
                    }
                case .copy(let from, let path):
                    try Self.add(try Self.value(at: from.tokens[...], in: result), at: path.tokens[...], in: &result)
                case .test(let path, let value):
                    guard JSONValue.equal(try Self.value(at: path.tokens[...], in: result), value) else {
                        throw ChronicleError(.invalidInput, "the value at \(path) is not \(value.canonicalText)")
                    }
                }
            } catch let error as ChronicleError {
                throw ChronicleError(.invalidInput, "JSON Patch operation \(index) failed: \(error.message)")
            }
        }
        return result
    }

    /// A patch that turns `old` into `new`: members added, removed or replaced, arrays
    /// changed element by element (trailing elements added or removed).
    public static func diff(from old: JSONValue, to new: JSONValue) -> JSONPatch {
        var operations: [Operation] = []
        diff(old, new, at: .root, into: &operations)
        return JSONPatch(operations)
    }

    private static func diff(_ old: JSONValue, _ new: JSONValue, at path: JSONPointer, into operations: inout [Operation]) {
        if JSONValue.equal(old, new) && old.kindName == new.kindName { return }
        switch (old, new) {
        case (.object(let before), .object(let after)):
            for key in before.keys.sorted() where after[key] == nil {
                operations.append(.remove(path: path.appending(key)))
            }
            for key in after.keys.sorted() {
                if let previous = before[key] {
                    diff(previous, after[key]!, at: path.appending(key), into: &operations)
                } else {
                    operations.append(.add(path: path.appending(key), value: after[key]!))
                }
            }
        case (.array(let before), .array(let after)):
            let common = min(before.count, after.count)
            for index in 0..<common {
                diff(before[index], after[index], at: path.appending(String(index)), into: &operations)
            }
            if before.count > after.count {
                for index in (after.count..<before.count).reversed() {
                    operations.append(.remove(path: path.appending(String(index))))
                }
            } else {
                for index in before.count..<after.count {
                    operations.append(.add(path: path.appending(String(index)), value: after[index]))
                }
            }
        default:
            operations.append(.replace(path: path, value: new))
        }
    }

    // MARK: Navigation

    private static func arrayIndex(_ token: String, count: Int, allowEnd: Bool) throws -> Int {
        if allowEnd && token == "-" { return count }
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), token == "0" || !token.hasPrefix("0"), let index = Int(token) else {
            throw ChronicleError(.invalidInput, "\(token.debugDescription) is not an array index")
        }
        guard index < count || (allowEnd && index == count) else {
            throw ChronicleError(.invalidInput, "index \(index) is out of range (the array has \(count) elements)")
        }
        return index
    }

    private static func value(at tokens: ArraySlice<String>, in document: JSONValue) throws -> JSONValue {
        guard let token = tokens.first else { return document }
        switch document {
        case .object(let members):
            guard let member = members[token] else { throw ChronicleError(.invalidInput, "there is no member \(token.debugDescription)") }
            return try value(at: tokens.dropFirst(), in: member)
        case .array(let elements):
            return try value(at: tokens.dropFirst(), in: elements[try arrayIndex(token, count: elements.count, allowEnd: false)])
        default:
            throw ChronicleError(.invalidInput, "cannot look up \(token.debugDescription) in a \(document.kindName)")
        }
    }

    private static func add(_ value: JSONValue, at tokens: ArraySlice<String>, in document: inout JSONValue) throws {
        guard let token = tokens.first else {
            document = value
            return
        }
        let last = tokens.count == 1
        switch document {
        case .object(var members):
            if last {
                members[token] = value
            } else {
                guard var child = members[token] else { throw ChronicleError(.invalidInput, "there is no member \(token.debugDescription)") }
                try add(value, at: tokens.dropFirst(), in: &child)
                members[token] = child
            }
            document = .object(members)
        case .array(var elements):
            if last {
                elements.insert(value, at: try arrayIndex(token, count: elements.count, allowEnd: true))
            } else {
                let index = try arrayIndex(token, count: elements.count, allowEnd: false)
                try add(value, at: tokens.dropFirst(), in: &elements[index])
            }
            document = .array(elements)
        default:
            throw ChronicleError(.invalidInput, "cannot add below a \(document.kindName)")
        }
    }

    private static func remove(_ tokens: ArraySlice<String>, in document: inout JSONValue) throws -> JSONValue {
        guard let token = tokens.first else {
            throw ChronicleError(.invalidInput, "cannot remove the whole document")
        }
        let last = tokens.count == 1
        switch document {
        case .object(var members):
            guard var child = members[token] else { throw ChronicleError(.invalidInput, "there is no member \(token.debugDescription)") }
            let removed: JSONValue
            if last {
                removed = child
                members[token] = nil
            } else {
                removed = try remove(tokens.dropFirst(), in: &child)
                members[token] = child
            }
            document = .object(members)
            return removed
        case .array(var elements):
            let index = try arrayIndex(token, count: elements.count, allowEnd: false)
            let removed: JSONValue
            if last {
                removed = elements.remove(at: index)
            } else {
                removed = try remove(tokens.dropFirst(), in: &elements[index])
            }
            document = .array(elements)
            return removed
        default:
            throw ChronicleError(.invalidInput, "cannot remove below a \(document.kindName)")
        }
    }
}

extension JSONValue {
    /// JSON equality: numbers compare by value (`1` equals `1.0`), objects ignore key order,
    /// strings compare code point by code point (unlike Swift's `==`, which treats `é` and
    /// `e` + combining accent as equal).
    public static func equal(_ left: JSONValue, _ right: JSONValue) -> Bool {
        switch (left, right) {
        case (.string(let a), .string(let b)):
            return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.integer(let a), .double(let b)), (.double(let b), .integer(let a)):
            return Double(a) == b
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { equal(value, $0) } ?? false }
        default:
            return left == right
        }
    }

    /// RFC 7386 JSON Merge Patch: members of `patch` replace those of `self`, `null` members
    /// remove them, nested objects merge; any patch that is not an object replaces `self`.
    public func merging(_ patch: JSONValue) -> JSONValue {
        guard case .object(let changes) = patch else { return patch }
        var members = objectValue ?? [:]
        for (key, change) in changes {
            if case .null = change {
                members[key] = nil
            } else {
                members[key] = (members[key] ?? .null).merging(change)
            }
        }
        return .object(members)
    }
}
