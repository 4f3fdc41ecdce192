import Foundation

/// A JSON Schema (draft 2020-12 subset) validator: a small, pure unit, used to check event
/// payloads before they are stored.
///
/// Supported: `type`, `enum`, `const`, `required`, `properties`, `patternProperties`,
/// `additionalProperties`, `propertyNames`, `dependentSchemas`, `items`, `prefixItems`,
/// `minItems`, `maxItems`, `minLength`, `maxLength`, `pattern`, `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`, `allOf`, local `$ref` (`#`, `#/$defs/…`), and the
/// formats `email`, `uuid` and `date-time`. Other keywords are ignored, as the specification
/// says of unknown ones.
///
/// ```swift
/// let schema = try JSONSchema(["type": "object", "required": ["email"], "properties": ["email": ["type": "string", "format": "email"]]])
/// schema.validate(["email": "nope"])   // [Violation(pointer: "/email", message: "is not an email address")]
/// ```
public struct JSONSchema: Sendable {
    /// One way the instance breaks the schema.
    public struct Violation: Sendable, Hashable, CustomStringConvertible {
        /// Where in the instance, as a JSON Pointer (`""` is the whole instance).
        public var pointer: String
        /// What is wrong.
        public var message: String

        /// `pointer: message`.
        public var description: String { "\(pointer.isEmpty ? "/" : pointer): \(message)" }
    }

    /// The schema document.
    public let root: JSONValue
    /// Whether `format` is asserted (it is only an annotation unless asked).
    public let validatesFormats: Bool

    /// Creates a validator.
    ///
    /// - Throws: ``ChronicleError`` (``ChronicleError/Code/invalidInput``) if the schema is not
    ///   an object or a boolean, or a `pattern` is not a valid regular expression.
    public init(_ schema: JSONValue, validatesFormats: Bool = true) throws {
        switch schema {
        case .object, .bool: break
        default: throw ChronicleError(.invalidInput, "A JSON Schema is an object or a boolean; got a JSON \(schema.kindName).")
        }
        self.root = schema
        self.validatesFormats = validatesFormats
        try Self.checkPatterns(schema)
    }

    private static func checkPatterns(_ schema: JSONValue) throws {
        switch schema {
        case .object(let members):
            if case .string(let pattern)? = members["pattern"], (try? NSRegularExpression(pattern: pattern)) == nil {
                throw ChronicleError(.invalidInput, "The schema's pattern \(pattern.debugDescription) is not a valid regular expression.")
            }
            for value in members.values { try checkPatterns(value) }
        case .array(let items):
            for item in items { try checkPatterns(item) }
        default:
            break
        }
    }

    /// Every violation of the schema by `instance` (empty when it is valid).
    public func validate(_ instance: JSONValue) -> [Violation] {
        var violations: [Violation] = []
        check(root, instance, at: .root, depth: 0, into: &violations)
        return violations
    }

    private func check(_ schema: JSONValue, _ instance: JSONValue, at path: JSONPointer, depth: Int, into violations: inout [Violation]) {
        func fail(_ message: String) {
            violations.append(Violation(pointer: path.description, message: message))
        }
        guard depth < 64 else {
            fail("the schema nests or refers to itself too deeply")
            return
        }
        switch schema {
        case .bool(true): return
        case .bool(false):
            fail("no value is allowed here")
            return
        case .object: break
        default: return
        }
        if case .string(let reference)? = schema["$ref"] {
            if let target = resolve(reference) {
                check(target, instance, at: path, depth: depth + 1, into: &violations)
            } else {
                fail("the schema refers to \(reference), which it does not define")
            }
        }
        if case .array(let schemas)? = schema["allOf"] {
            for subschema in schemas { check(subschema, instance, at: path, depth: depth + 1, into: &violations) }
        }
        if let type = schema["type"] {
            let names: [String] = switch type {
            case .string(let name): [name]
            case .array(let items): items.compactMap { if case .string(let name) = $0 { name } else { nil } }
            default: []
            }
            if !names.isEmpty && !names.contains(where: { Self.isOfType(instance, $0) }) {
                fail("is a \(instance.kindName), not \(names.count == 1 ? names[0] : "one of " + names.joined(separator: ", "))")
            }
        }
        if case .array(let options)? = schema["enum"], !options.contains(where: { Self.same($0, instance) }) {
            fail("is not one of the allowed values \(JSONValue.array(options).canonicalText)")
        }
        if let constant = schema["const"], !Self.same(constant, instance) {
            fail("must be \(constant.canonicalText)")
        }
        switch instance {
        case .object(let members): checkObject(schema, members, at: path, depth: depth, into: &violations)
        case .array(let items): checkArray(schema, items, at: path, depth: depth, into: &violations)
        case .string(let text): checkString(schema, text, fail: fail)
        case .integer, .double: checkNumber(schema, instance, fail: fail)
        default: break
        }
    }

    private func checkObject(_ schema: JSONValue, _ members: [String: JSONValue], at path: JSONPointer, depth: Int, into violations: inout [Violation]) {
        if case .array(let required)? = schema["required"] {
            for case .string(let name) in required where members[name] == nil {
                violations.append(Violation(pointer: path.appending(name).description, message: "is required"))
            }
        }
        let properties = schema["properties"]?.objectValue ?? [:]
        let patterns: [(NSRegularExpression, JSONValue)] = (schema["patternProperties"]?.objectValue ?? [:]).compactMap { pattern, subschema in
            (try? NSRegularExpression(pattern: pattern)).map { ($0, subschema) }
        }
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            let location = path.appending(name)
            var matched = false
            if let subschema = properties[name] {
                matched = true
                check(subschema, value, at: location, depth: depth + 1, into: &violations)
            }
            for (expression, subschema) in patterns where Self.matches(expression, name) {
                matched = true
                check(subschema, value, at: location, depth: depth + 1, into: &violations)
            }
            if !matched, let additional = schema["additionalProperties"] {
                if additional == .bool(false) {
                    violations.append(Violation(pointer: location.description, message: "is not an allowed property"))
                } else {
                    check(additional, value, at: location, depth: depth + 1, into: &violations)
                }
            }
            if let names = schema["propertyNames"] {
                var nameViolations: [Violation] = []
                check(names, .string(name), at: location, depth: depth + 1, into: &nameViolations)
                if !nameViolations.isEmpty {
                    violations.append(Violation(pointer: location.description, message: "is not an allowed property name"))
                }
            }
        }
        for (name, subschema) in schema["dependentSchemas"]?.objectValue ?? [:] where members[name] != nil {
            check(subschema, .object(members), at: path, depth: depth + 1, into: &violations)
        }
    }

    private func checkArray(_ schema: JSONValue, _ items: [JSONValue], at path: JSONPointer, depth: Int, into violations: inout [Violation]) {
        if let minimum = schema["minItems"].flatMap(Self.number).map({ Int($0) }), items.count < minimum {
            violations.append(Violation(pointer: path.description, message: "has \(items.count) items; at least \(minimum) are required"))
        }
        if let maximum = schema["maxItems"].flatMap(Self.number).map({ Int($0) }), items.count > maximum {
            violations.append(Violation(pointer: path.description, message: "has \(items.count) items; at most \(maximum) are allowed"))
        }
        var prefix = 0
        if case .array(let schemas)? = schema["prefixItems"] {
            prefix = schemas.count
            for (index, (subschema, item)) in zip(schemas, items).enumerated() {
                check(subschema, item, at: path.appending(String(index)), depth: depth + 1, into: &violations)
            }
        }
        if let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() where index >= prefix {
                check(itemSchema, item, at: path.appending(String(index)), depth: depth + 1, into: &violations)
            }
        }
    }

    private func checkString(_ schema: JSONValue, _ text: String, fail: (String) -> Void) {
        let length = text.unicodeScalars.count
        if let minimum = schema["minLength"].flatMap(Self.number).map({ Int($0) }), length < minimum {
            fail("is \(length) characters long; at least \(minimum) are required")
        }
        if let maximum = schema["maxLength"].flatMap(Self.number).map({ Int($0) }), length > maximum {
            fail("is \(length) characters long; at most \(maximum) are allowed")
        }
        if case .string(let pattern)? = schema["pattern"], let expression = try? NSRegularExpression(pattern: pattern), !Self.matches(expression, text) {
            fail("does not match the pattern \(pattern)")
        }
        if validatesFormats, case .string(let format)? = schema["format"] {
            switch format {
            case "email" where !Formats.isEmail(text): fail("is not an email address")
            case "uuid" where !Formats.isUUID(text): fail("is not a UUID")
            case "date-time" where !Formats.isDateTime(text): fail("is not an RFC 3339 date-time")
            default: break
            }
        }
    }

    private func checkNumber(_ schema: JSONValue, _ instance: JSONValue, fail: (String) -> Void) {
        guard let value = Self.number(instance) else { return }
        if let minimum = schema["minimum"].flatMap(Self.number), value < minimum { fail("is less than the minimum \(Self.text(minimum))") }
        if let maximum = schema["maximum"].flatMap(Self.number), value > maximum { fail("is more than the maximum \(Self.text(maximum))") }
        if let minimum = schema["exclusiveMinimum"].flatMap(Self.number), value <= minimum { fail("must be more than \(Self.text(minimum))") }
        if let maximum = schema["exclusiveMaximum"].flatMap(Self.number), value >= maximum { fail("must be less than \(Self.text(maximum))") }
    }

    private func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        let fragment = String(reference.dropFirst()).removingPercentEncoding ?? String(reference.dropFirst())
        guard let pointer = try? JSONPointer(parsing: fragment) else { return nil }
        var current = root
        for token in pointer.tokens {
            switch current {
            case .object(let members):
                guard let next = members[token] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    static func isOfType(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("number", .integer), ("number", .double), ("integer", .integer): true
        case ("integer", .double(let number)): number.rounded() == number
        default: false
        }
    }

    /// Equality for `enum` and `const`: JSON equality, with `1` and `1.0` equal but never
    /// `true` and `1`.
    static func same(_ left: JSONValue, _ right: JSONValue) -> Bool {
        JSONValue.equal(left, right)
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }

    static func text(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    static func matches(_ expression: NSRegularExpression, _ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// The string formats the validator asserts.
enum Formats {
    static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else if !((48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)) {
                return false
            }
        }
        return true
    }

    static func isDateTime(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 20, let year = digits(0..<4), bytes[4] == 45, let month = digits(5..<7), bytes[7] == 45,
              let day = digits(8..<10), bytes[10] == 84 || bytes[10] == 116,
              let hour = digits(11..<13), bytes[13] == 58, let minute = digits(14..<16), bytes[16] == 58, let second = digits(17..<19)
        else { return false }
        var index = 19
        if bytes[index] == 46 {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            guard index > start else { return false }
        }
        guard index < bytes.count else { return false }
        var offsetMinutes = 0
        if bytes[index] == 90 || bytes[index] == 122 {
            index += 1
        } else if bytes[index] == 43 || bytes[index] == 45 {
            guard let hours = digits((index + 1)..<(index + 3)), index + 3 < bytes.count, bytes[index + 3] == 58,
                  let minutes = digits((index + 4)..<(index + 6)), hours < 24, minutes < 60 else { return false }
            offsetMinutes = (hours * 60 + minutes) * (bytes[index] == 45 ? -1 : 1)
            index += 6
        } else {
            return false
        }
        guard index == bytes.count, (1...12).contains(month), hour < 24, minute < 60, second <= 60 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else { return false }
        if second == 60 {
            // A leap second is 23:59:60 in UTC.
            let utc = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            return utc == 23 * 60 + 59
        }
        return true
    }

    static func isEmail(_ text: String) -> Bool {
        guard let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at], domain = text[text.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty else { return false }
        if local.hasPrefix("\"") {
            guard local.count >= 2, local.hasSuffix("\""), !local.dropFirst().dropLast().contains("\""),
                  local.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else { return false }
        } else {
            let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")
            let parts = local.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(atext.contains) }) else { return false }
        }
        if domain.hasPrefix("[") {
            guard domain.hasSuffix("]") else { return false }
            let literal = domain.dropFirst().dropLast()
            if literal.lowercased().hasPrefix("ipv6:") {
                return literal.dropFirst(5).allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } && literal.count > 5
            }
            let octets = literal.split(separator: ".", omittingEmptySubsequences: false)
            return octets.count == 4 && octets.allSatisfy { octet in
                !octet.isEmpty && octet.count <= 3 && octet.allSatisfy(\.isASCII) && octet.allSatisfy(\.isNumber) && (Int(octet) ?? 256) <= 255
            }
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ($0.value >= 48 && $0.value <= 57) || ($0.value >= 65 && $0.value <= 90) || ($0.value >= 97 && $0.value <= 122) || $0 == "-" }
        }
    }
}
