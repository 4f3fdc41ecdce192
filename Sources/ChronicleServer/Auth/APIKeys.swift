import ChronicleCore
import Crypto
import Foundation

/// What an API key may do. Each role includes the ones before it.
public enum Role: String, Sendable, Hashable, Comparable, CaseIterable, Codable {
    /// Read streams, the log, subscriptions and metrics.
    case read
    /// Also append and soft-delete.
    case write
    /// Also hard-delete (erasure) and operate the server.
    case admin

    /// `read < write < admin`.
    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The server's API keys. Keys are kept only as SHA-256 digests and compared in constant
/// time, and they never appear in logs or errors.
public struct APIKeys: Sendable {
    private let entries: [(digest: [UInt8], role: Role)]

    /// The shortest key accepted, in characters.
    public static let minimumLength = 16

    /// No keys: the server is open, and binds to loopback only.
    public static let none = APIKeys(entries: [])

    private init(entries: [(digest: [UInt8], role: Role)]) {
        self.entries = entries
    }

    /// Creates the key set.
    ///
    /// - Throws: ``ChronicleError`` (``ChronicleError/Code/invalidInput``) for a key shorter
    ///   than ``minimumLength`` or used twice.
    public init(_ keys: [(key: String, role: Role)]) throws {
        var digests = Set<[UInt8]>()
        var entries: [(digest: [UInt8], role: Role)] = []
        for (index, entry) in keys.enumerated() {
            if entry.key.count < Self.minimumLength {
                throw ChronicleError(.invalidInput, "API key #\(index + 1) (role \(entry.role.rawValue)) is \(entry.key.count) characters long; use at least \(Self.minimumLength) random characters (for example: openssl rand -hex 24).")
            }
            let digest = Self.digest(entry.key)
            if !digests.insert(digest).inserted {
                throw ChronicleError(.invalidInput, "API key #\(index + 1) is listed twice; give each key one role.")
            }
            entries.append((digest, entry.role))
        }
        self.entries = entries
    }

    /// Parses `CHRONICLE_API_KEYS`: comma-separated `role:key` pairs.
    public init(environment value: String) throws {
        try self.init(Self.pairs(fromEnvironment: value))
    }

    /// The `role:key` pairs of a `CHRONICLE_API_KEYS` value.
    public static func pairs(fromEnvironment value: String) throws -> [(key: String, role: Role)] {
        var keys: [(key: String, role: Role)] = []
        for (index, item) in value.split(separator: ",").enumerated() {
            let parts = item.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let role = Role(rawValue: parts[0]) else {
                throw ChronicleError(.invalidInput, "CHRONICLE_API_KEYS entry #\(index + 1) is not role:key with a role of read, write or admin.")
            }
            keys.append((parts[1], role))
        }
        return keys
    }

    /// Whether any key is configured.
    public var isEmpty: Bool { entries.isEmpty }

    /// How many keys there are.
    public var count: Int { entries.count }

    /// The role of a presented key, or `nil`. Takes the same time whichever key matches.
    public func role(of key: String) -> Role? {
        let presented = Self.digest(key)
        var found: Role?
        for entry in entries {
            var difference: UInt8 = 0
            for (left, right) in zip(presented, entry.digest) {
                difference |= left ^ right
            }
            if difference == 0 { found = entry.role }
        }
        return found
    }

    private static func digest(_ key: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(key.utf8)))
    }
}
