/// The top-level members of a JSON object in canonical text (see
/// ``JSONValue/canonicalText``), found by one pass over its bytes without building values:
/// each member's key and the byte ranges of the member and of its value. What reads or
/// rewrites a few members of stored data (sealing personal fields) works on these slices
/// instead of parsing the whole object and encoding it again.
///
/// Only canonical text is taken: an object, no whitespace between tokens, keys in the order
/// of their UTF-8 bytes without repeats. Anything else is `nil`, and the caller parses
/// instead. Values are skipped, not checked: this reads what the canonical writer wrote.
struct CanonicalMembers {
    struct Member {
        /// The key (unescaped).
        var key: String
        /// The member from its key's opening quote to the end of its value.
        var member: Range<Int>
        /// The value.
        var value: Range<Int>
    }

    /// The members, in the text's (canonical, sorted) order.
    private(set) var members: [Member] = []

    /// The members of `bytes`, or `nil` if they are not a canonical object as above.
    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        let count = bytes.count
        guard count >= 2, bytes[0] == UInt8(ascii: "{"), bytes[count - 1] == UInt8(ascii: "}") else { return nil }
        if count == 2 { return }
        var index = 1
        while index < count - 1 {
            guard bytes[index] == UInt8(ascii: "\"") else { return nil }
            let keyStart = index
            var escaped = false
            index += 1
            while index < count, bytes[index] != UInt8(ascii: "\"") {
                if bytes[index] == UInt8(ascii: "\\") {
                    escaped = true
                    index += 1
                }
                index += 1
            }
            guard index < count - 1 else { return nil }
            let key: String
            if escaped {
                guard case .string(let unescaped)? = try? JSONValue(parsing: String(decoding: UnsafeBufferPointer(rebasing: bytes[keyStart...index]), as: UTF8.self)) else { return nil }
                key = unescaped
            } else {
                key = String(decoding: UnsafeBufferPointer(rebasing: bytes[(keyStart + 1)..<index]), as: UTF8.self)
            }
            // Sorted, without repeats: otherwise this is not canonical text.
            if let previous = members.last, !previous.key.utf8.lexicographicallyPrecedes(key.utf8) { return nil }
            index += 1
            guard bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            let valueStart = index
            guard let valueEnd = Self.endOfValue(bytes, from: index, limit: count - 1) else { return nil }
            index = valueEnd
            members.append(Member(key: key, member: keyStart..<valueEnd, value: valueStart..<valueEnd))
            if index == count - 1 { return }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
        return nil
    }

    /// The index just past the value that starts at `start`, before `limit`; `nil` if no
    /// value ends there.
    private static func endOfValue(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) -> Int? {
        guard start < limit else { return nil }
        var index = start
        var depth = 0
        repeat {
            guard index < limit else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                while index < limit, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < limit else { return nil }
                index += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { return nil }
                depth -= 1
                index += 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                guard depth > 0 else { return nil }
                index += 1
            case UInt8(ascii: " "), 0x0A, 0x0D, 0x09:
                return nil
            default:
                // A scalar: up to the next delimiter.
                index += 1
                while index < limit, !isDelimiter(bytes[index]) { index += 1 }
            }
        } while depth > 0
        return index
    }

    private static func isDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: " "): true
        default: false
        }
    }
}
