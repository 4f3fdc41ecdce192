/// The validated name of a stream: `category-id`, such as `user-1234`.
///
/// 1 to 200 printable characters (Unicode scalars) with no whitespace, control or invisible
/// format characters (see ``isUnprintable(_:)``). The category is
/// the part before the first `-` (the whole name when there is none). Names starting with
/// `$` are reserved for Chronicle's own streams and are refused by ``init(_:)``.
public struct StreamName: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The name as text.
    public let rawValue: String

    /// The longest name accepted, in characters.
    public static let maximumLength = 200

    /// Validates `name`.
    ///
    /// - Throws: ``ChronicleError`` (``ChronicleError/Code/invalidInput``) saying which rule the name breaks.
    public init(_ name: String) throws {
        try self.init(validating: name, allowReserved: false)
    }

    /// A name read back from storage, where it was validated when first written. Backends use
    /// this to skip validating every name of every event they read.
    public init(stored name: String) {
        self.rawValue = name
    }

    /// Validates `name`, optionally allowing reserved `$` names (for Chronicle's own streams).
    init(validating name: String, allowReserved: Bool) throws {
        try Self.validate(name, what: "Stream name", allowReserved: allowReserved)
        self.rawValue = name
    }

    /// Checks the shared rules for stream names and event types.
    static func validate(_ name: String, what: String, allowReserved: Bool) throws {
        if name.isEmpty {
            throw ChronicleError(.invalidInput, "\(what) is empty. Use 1 to \(maximumLength) printable characters, such as 'user-1234'.")
        }
        let printableASCII = name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        let length = printableASCII ? name.utf8.count : name.unicodeScalars.count
        if length > maximumLength {
            throw ChronicleError(.invalidInput, "\(what) is \(length) characters long; the limit is \(maximumLength).")
        }
        if !printableASCII, let bad = name.unicodeScalars.first(where: isUnprintable) {
            throw ChronicleError(.invalidInput, "\(what) \(name.debugDescription) contains whitespace or an invisible control or format character (U+\(String(bad.value, radix: 16, uppercase: true))). Use printable characters only.")
        }
        if !allowReserved && name.hasPrefix("$") {
            throw ChronicleError(.invalidInput, "\(what) \(name.debugDescription) starts with '$', which is reserved for Chronicle's own names.")
        }
    }

    /// Whether a name may not hold `scalar`: whitespace, a control character, or one of the
    /// invisible format characters that make two names look alike (soft hyphen, zero-width
    /// spaces and joiners, direction marks and overrides, the byte-order mark, ...).
    ///
    /// A fixed list, not the Unicode tables' general categories: those grow with each Unicode
    /// version, and nodes built with different versions must agree on which names are valid.
    /// So characters Unicode has not assigned yet are accepted. openapi.json's `StreamName`
    /// pattern states the same list.
    static func isUnprintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.properties.isWhitespace { return true }
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0xAD, 0x600...0x605, 0x61C, 0x6DD, 0x70F, 0x890...0x891, 0x8E2, 0x180E,
             0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2064, 0x2066...0x206F, 0xFEFF, 0xFFF9...0xFFFB:
            return true
        default:
            return false
        }
    }

    /// The part of the name before the first `-`, or the whole name when it has no `-`.
    public var category: String {
        if let dash = rawValue.firstIndex(of: "-") { return String(rawValue[..<dash]) }
        return rawValue
    }

    /// The part after the first `-`, or `nil` when the name has no `-`.
    public var entityID: String? {
        guard let dash = rawValue.firstIndex(of: "-") else { return nil }
        return String(rawValue[rawValue.index(after: dash)...])
    }

    /// Whether the name is one of Chronicle's own (`$…`).
    public var isReserved: Bool { rawValue.hasPrefix("$") }

    /// The name.
    public var description: String { rawValue }

    /// Orders by the name's text.
    public static func < (lhs: StreamName, rhs: StreamName) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes and validates a name.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(validating: text, allowReserved: true)
    }

    /// Encodes the name as a string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The stream where Chronicle records stream deletions (`$streams`).
    public static let deletions = try! StreamName(validating: "$streams", allowReserved: true)
    /// The stream where Chronicle records events parked by reactors (`$reactors`).
    public static let reactors = try! StreamName(validating: "$reactors", allowReserved: true)
}
