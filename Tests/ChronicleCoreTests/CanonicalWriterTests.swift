import ChronicleCore
import Foundation
import Testing

/// The canonical writer is what the hash chain hashes: it must never change a byte. These
/// tests hold it to a plain reference (the first implementation, kept here) over values that
/// reach every branch: escapes, control characters, non-ASCII text, keys that sort differently
/// by bytes than by characters, nesting, numbers.
@Suite("canonical JSON text: byte for byte as it always was")
struct CanonicalWriterTests {
    static func reference(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .double(let number): return number.isFinite ? number.description : "null"
        case .string(let string): return quoted(string)
        case .array(let values): return "[" + values.map(reference).joined(separator: ",") + "]"
        case .object(let members):
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return "{" + keys.map { quoted($0) + ":" + reference(members[$0]!) }.joined(separator: ",") + "}"
        }
    }

    static func quoted(_ string: String) -> String {
        var output = "\""
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
        return output + "\""
    }

    @Test("fixed values with every escape and ordering case")
    func fixed() {
        let values: [JSONValue] = [
            ["b": 1, "a": [true, false, .null], "é": "x", "e": "\u{0}\u{1}\u{1f}\u{7f}\"\\/\n\r\t\u{8}\u{c}", "Z": -9_223_372_036_854_775_808, "z": 0.1],
            ["": "", "emoji": "ünïcødé 🚀 \u{2028}", "nested": ["deep": ["deeper": [1, 2.5e-10, 1e300, -0.0]]]],
            "plain", 42, 3.75, .null, true, [], [:],
        ]
        for value in values {
            #expect(value.canonicalText == Self.reference(value))
        }
        #expect("a\"b".jsonQuoted == "\"a\\\"b\"")
    }

    @Test("random values, a thousand of them")
    func random() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "B", "é", "\"", "\\", "\n", "\u{1}", "\u{1f}", "🚀", " ", "z", "\u{7f}", "Ω", "\t"]
        func text() -> String { String((0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }) }
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0...(depth > 2 ? 4 : 6), using: &generator) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &generator))
            case 2: return .integer(Int64.random(in: .min ... .max, using: &generator))
            case 3: return .double(Double.random(in: -1e6...1e6, using: &generator))
            case 4: return .string(text())
            case 5: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in value(depth + 1) })
            default:
                var members: [String: JSONValue] = [:]
                for _ in 0..<Int.random(in: 0...5, using: &generator) { members[text()] = value(depth + 1) }
                return .object(members)
            }
        }
        for _ in 0..<1000 {
            let sample = value(0)
            #expect(sample.canonicalText == Self.reference(sample), "\(sample)")
        }
    }
}
