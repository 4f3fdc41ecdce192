/// An RFC 6901 JSON Pointer, such as `/address/city` or `/tags/0`.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    /// The reference tokens, unescaped (`~1` is `/`, `~0` is `~`).
    public var tokens: [String]

    /// The pointer to the whole document (`""`).
    public static let root = JSONPointer(tokens: [])

    /// Creates a pointer from unescaped tokens.
    public init(tokens: [String]) {
        self.tokens = tokens
    }

    /// Parses a pointer: empty, or `/`-separated tokens with `~0` and `~1` escapes.
    ///
    /// - Throws: ``ChronicleError`` (``ChronicleError/Code/invalidInput``) if it does not
    ///   start with `/` or holds a bad escape.
    public init(parsing text: String) throws {
        if text.isEmpty {
            self.init(tokens: [])
            return
        }
        guard text.hasPrefix("/") else {
            throw ChronicleError(.invalidInput, "JSON Pointer \(text.debugDescription) must be empty or start with '/'.")
        }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var escaping = false
            for character in raw {
                if escaping {
                    switch character {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: throw ChronicleError(.invalidInput, "JSON Pointer \(text.debugDescription) has '~\(character)'; only ~0 and ~1 are escapes.")
                    }
                    escaping = false
                } else if character == "~" {
                    escaping = true
                } else {
                    token.append(character)
                }
            }
            if escaping { throw ChronicleError(.invalidInput, "JSON Pointer \(text.debugDescription) ends with a lone '~'.") }
            tokens.append(token)
        }
        self.init(tokens: tokens)
    }

    /// The pointer as text, escaped.
    public var description: String {
        tokens.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }.joined()
    }

    /// The pointer to a member or element below this one.
    public func appending(_ token: String) -> JSONPointer {
        JSONPointer(tokens: tokens + [token])
    }

    /// Whether `other` is this pointer or below it.
    public func isPrefix(of other: JSONPointer) -> Bool {
        other.tokens.count >= tokens.count && Array(other.tokens.prefix(tokens.count)) == tokens
    }
}
