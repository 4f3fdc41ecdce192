import Foundation

/// A JSON value: the type of an event's `data` and `metadata`.
///
/// Integers and fractional numbers are kept apart so that `42` round-trips as `42`, never
/// as `42.0`, and integers up to 64 bits keep every digit.
///
/// ```swift
/// let data: JSONValue = ["email": "ada@example.com", "age": 36, "tags": ["admin"]]
/// ```
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number without a fraction or exponent that fits in 64 bits.
    case integer(Int64)
    /// Any other number. Must be finite.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object. Key order is not significant; the canonical encoding sorts keys.
    case object([String: JSONValue])

    /// The members of an object, or `nil` for any other value.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The value of `key` if this is an object that has it.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// The value as a whole number: an integer, or a number with no fractional part such as
    /// `3.0` or `1e2` (JSON Schema calls both integers, and clients that hold every number as a
    /// double send them so). `nil` for anything else, and for numbers outside `Int64`.
    public var integralValue: Int64? {
        switch self {
        case .integer(let value): return value
        // 2^63 is exact as a double; every integral double below it and at or above -2^63 fits.
        case .double(let value) where value.rounded(.towardZero) == value && value >= -0x1p63 && value < 0x1p63: return Int64(value)
        default: return nil
        }
    }

    /// A short name for the kind of value (`"object"`, `"array"`, `"string"`…), for error messages.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue {
    /// Parses JSON text strictly (RFC 8259; no trailing commas, no duplicate keys).
    ///
    /// - Throws: ``ChronicleError`` with code ``ChronicleError/Code/invalidInput`` giving the
    ///   line, the column and what is wrong.
    public init(parsing text: String) throws {
        self = try JSONParser.parse(Array(text.utf8))
    }

    /// Parses JSON text that may repeat a member name in an object; the last value wins.
    /// For reading documents written by others (test suites, exports of other systems):
    /// Chronicle refuses repeated names in what it stores.
    public init(parsingAllowingDuplicateKeys text: String) throws {
        self = try JSONParser.parse(Array(text.utf8), allowDuplicateKeys: true)
    }

    /// Parses UTF-8 JSON bytes strictly.
    ///
    /// - Throws: ``ChronicleError`` with code ``ChronicleError/Code/invalidInput`` giving the
    ///   line, the column and what is wrong.
    public init(parsing data: Data) throws {
        self = try JSONParser.parse(Array(data))
    }
}

extension JSONValue: Codable {
    /// Decodes any JSON value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Not a JSON value")
        }
    }

    /// Encodes the value as itself.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    /// `nil` is `null`.
    public init(nilLiteral: ()) { self = .null }
    /// A boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer literal.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A floating-point literal.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array literal.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A dictionary literal; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
