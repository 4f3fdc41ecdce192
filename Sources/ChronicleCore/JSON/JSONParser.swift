/// A strict RFC 8259 JSON parser whose errors say where and what is wrong.
///
/// Stricter than `JSONDecoder` where it matters for stored events: no trailing commas,
/// no duplicate object keys, `1.0` stays a fractional number, and nesting is bounded.
struct JSONParser {
    static let maximumDepth = 256

    private let bytes: [UInt8]
    private let allowDuplicateKeys: Bool
    private var index = 0
    private var depth = 0

    init(_ bytes: [UInt8], allowDuplicateKeys: Bool = false) {
        self.bytes = bytes
        self.allowDuplicateKeys = allowDuplicateKeys
    }

    static func parse(_ bytes: [UInt8], allowDuplicateKeys: Bool = false) throws -> JSONValue {
        var parser = JSONParser(bytes, allowDuplicateKeys: allowDuplicateKeys)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index < bytes.count {
            throw parser.error("unexpected text after the JSON value")
        }
        return value
    }

    private func error(_ what: String) -> ChronicleError {
        var line = 1
        var column = 1
        for byte in bytes[..<min(index, bytes.count)] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        let place = bytes.isEmpty ? "" : " at line \(line), column \(column)"
        return ChronicleError(.invalidInput, "Malformed JSON\(place): \(what).")
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            index += 1
        }
    }

    private mutating func expect(_ literal: String, _ value: JSONValue) throws -> JSONValue {
        for expected in literal.utf8 {
            guard current == expected else { throw error("expected '\(literal)'") }
            index += 1
        }
        return value
    }

    private mutating func parseValue() throws -> JSONValue {
        guard let byte = current else {
            throw error(bytes.isEmpty ? "the input is empty; send a JSON value such as {}" : "the input ends where a value was expected")
        }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("expected a value (object, array, string, number, true, false or null)")
        }
    }

    private mutating func nest() throws {
        depth += 1
        if depth > Self.maximumDepth {
            throw error("nested deeper than \(Self.maximumDepth) levels")
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        try nest()
        defer { depth -= 1 }
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a member name in double quotes") }
            let keyStart = index
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':' after the member name") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            if members.updateValue(value, forKey: key) != nil && !allowDuplicateKeys {
                index = keyStart
                throw error("the member name \(key.debugDescription) appears twice in one object")
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(members)
            default: throw error("expected ',' or '}' after an object member")
            }
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        try nest()
        defer { depth -= 1 }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default: throw error("expected ',' or ']' after an array element")
            }
        }
    }

    private mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current else { throw error("the input ends inside a \\u escape") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("expected four hexadecimal digits after \\u")
            }
            value = value * 16 + UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func parseString() throws -> String {
        index += 1
        var utf8: [UInt8] = []
        while true {
            guard let byte = current else { throw error("the input ends inside a string; close it with '\"'") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: utf8, as: UTF8.self) else {
                    throw error("a string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                guard let escape = current else { throw error("the input ends inside an escape") }
                index += 1
                switch escape {
                case UInt8(ascii: "\""): utf8.append(0x22)
                case UInt8(ascii: "\\"): utf8.append(0x5C)
                case UInt8(ascii: "/"): utf8.append(0x2F)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("a \\u escape of a high surrogate is not followed by a low surrogate")
                        }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("a high surrogate is followed by \\u\(String(low, radix: 16)), not a low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("a \\u escape holds a lone low surrogate")
                    }
                    utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default:
                    throw error("'\\\(Character(Unicode.Scalar(escape)))' is not a JSON escape")
                }
            case 0x00..<0x20:
                index -= 1
                throw error("a string holds a raw control character (U+\(String(byte, radix: 16, uppercase: true))); escape it, for example as \\n")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func parseNumber() throws -> JSONValue {
        let start = index
        var isInteger = true
        if current == UInt8(ascii: "-") { index += 1 }
        func digits(_ parser: inout JSONParser) -> Int {
            var count = 0
            while let byte = parser.current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                parser.index += 1
                count += 1
            }
            return count
        }
        if current == UInt8(ascii: "0") {
            index += 1
            if let next = current, next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") {
                throw error("a number has a leading zero")
            }
        } else if digits(&self) == 0 {
            throw error("expected digits in a number")
        }
        if current == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            if digits(&self) == 0 { throw error("expected digits after the decimal point") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            if digits(&self) == 0 { throw error("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let integer = Int64(text) {
            return .integer(integer)
        }
        guard let double = Double(text), double.isFinite else {
            index = start
            throw error("the number \(text) is too large")
        }
        guard DecimalDigits(text) == DecimalDigits(double.description) else {
            index = start
            throw error("the number \(text) cannot be kept exactly (integers are kept to 64 bits, up to 9223372036854775807, and fractions to what a 64-bit float holds, about 16 digits); send it as a string")
        }
        return .double(double)
    }
}

/// A decimal number as sign, significant digits and exponent (`-12.50e3` is `-`, `125`,
/// `2`): two spellings of the same value have equal digits, so comparing what was sent with
/// what a `Double` keeps shows whether anything would be rounded away.
struct DecimalDigits: Equatable {
    var negative = false
    var digits: [UInt8] = []
    var exponent = 0

    /// Reads a JSON number or a Swift `Double` description (`1.5`, `1e-07`, `1.2345678901234568e+29`).
    init(_ text: String) {
        var mantissa: [UInt8] = []
        var pointAt: Int?
        var exponentText = ""
        var inExponent = false
        for byte in text.utf8 {
            if inExponent {
                exponentText.unicodeScalars.append(Unicode.Scalar(byte))
            } else if byte == UInt8(ascii: "-"), mantissa.isEmpty, pointAt == nil {
                negative = true
            } else if byte == UInt8(ascii: ".") {
                pointAt = mantissa.count
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                inExponent = true
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                mantissa.append(byte - UInt8(ascii: "0"))
            }
        }
        // value = 0.mantissa × 10^(pointAt + exponent)
        var scale = (pointAt ?? mantissa.count) + (Int(exponentText) ?? 0)
        let leading = mantissa.prefix { $0 == 0 }.count
        mantissa.removeFirst(leading)
        scale -= leading
        while mantissa.last == 0 { mantissa.removeLast() }
        if mantissa.isEmpty {
            // Zero: the sign stays (-0.0 is a value of its own), the scale goes.
            return
        }
        self.digits = mantissa
        self.exponent = scale
    }
}
