extension JSONValue {
    /// The canonical JSON text of the value: no insignificant whitespace, object keys sorted
    /// by their UTF-8 bytes, integers without a fraction, strings escaped minimally.
    ///
    /// Two equal values always have the same canonical text, which is what the hash chain
    /// hashes and what the stores keep.
    public var canonicalText: String {
        var output = ""
        Self.write(self, to: &output)
        return output
    }

    /// Whether every number in the value is finite (JSON has no NaN or infinity).
    public var isFinite: Bool {
        switch self {
        case .double(let value): value.isFinite
        case .array(let values): values.allSatisfy(\.isFinite)
        case .object(let members): members.values.allSatisfy(\.isFinite)
        default: true
        }
    }

    static func write(_ value: JSONValue, to output: inout String) {
        switch value {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .integer(let number): output += String(number)
        case .double(let number):
            if number.isFinite {
                output += number.description
            } else {
                output += "null"
            }
        case .string(let string): writeString(string, to: &output)
        case .array(let values):
            output += "["
            for (index, element) in values.enumerated() {
                if index > 0 { output += "," }
                write(element, to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { output += "," }
                writeString(key, to: &output)
                output += ":"
                write(members[key]!, to: &output)
            }
            output += "}"
        }
    }

    /// Appends `string` as a JSON string literal.
    static func writeString(_ string: String, to output: inout String) {
        output += "\""
        if !string.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            output += string
            output += "\""
            return
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}

extension String {
    /// The string as a JSON string literal, quoted and escaped.
    public var jsonQuoted: String {
        var output = ""
        JSONValue.writeString(self, to: &output)
        return output
    }
}
