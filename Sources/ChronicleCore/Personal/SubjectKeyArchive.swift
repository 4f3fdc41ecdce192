import Crypto
import Foundation

/// The keys of an export made with `--include-keys`: each subject's key in the clear (the
/// file is as secret as the master key), and the subjects erased so far. Written beside the
/// log export, never inside it, so a backup of the events holds no readable personal data.
///
/// Importing several archives merges them, and an erasure in any of them wins: restoring an
/// old backup with a newer archive's erasures does not bring an erased person back.
public struct SubjectKeyArchive: Sendable, Hashable {
    /// A live key.
    public struct Key: Sendable, Hashable {
        public var subject: String
        public var id: UUID
        public var key: Data
    }

    /// An erased subject.
    public struct Erased: Sendable, Hashable {
        public var subject: String
        public var receipt: UUID?
    }

    /// The format name on the first line.
    public static let format = "chronicle-keys/1"

    public var keys: [Key] = []
    public var erased: [Erased] = []

    /// An empty archive.
    public init() {}

    /// The archive as NDJSON: a header line, then one line per key or erased subject.
    public var text: String {
        var lines = [JSONValue.object(["format": .string(Self.format)]).canonicalText]
        for key in keys {
            lines.append(JSONValue.object(["subject": .string(key.subject), "id": .string(key.id.uuidString.lowercased()), "key": .string(key.key.base64EncodedString())]).canonicalText)
        }
        for erased in erased {
            var line: [String: JSONValue] = ["subject": .string(erased.subject), "erased": true]
            if let receipt = erased.receipt { line["receipt"] = .string(receipt.uuidString.lowercased()) }
            lines.append(JSONValue.object(line).canonicalText)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads an archive written by ``text``.
    ///
    /// - Throws: ``ChronicleError/Code/invalidInput`` naming the line.
    public init(text: String, file: String = "keys") throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first, (try? JSONValue(parsing: String(first)))?["format"] == .string(Self.format) else {
            throw ChronicleError(.invalidInput, "\(file) is not a keys file: its first line should be {\"format\":\"\(Self.format)\"} (written by chronicle export --include-keys).")
        }
        for (index, line) in lines.enumerated().dropFirst() {
            func fail() -> ChronicleError {
                ChronicleError(.invalidInput, "\(file), line \(index + 1): expected {\"subject\",\"id\",\"key\"} or {\"subject\",\"erased\":true}.")
            }
            guard let value = try? JSONValue(parsing: String(line)), case .string(let subject)? = value["subject"] else { throw fail() }
            if value["erased"] == true {
                var receipt: UUID?
                if case .string(let text)? = value["receipt"] { receipt = UUID(uuidString: text) }
                erased.append(Erased(subject: subject, receipt: receipt))
            } else {
                guard case .string(let idText)? = value["id"], let id = UUID(uuidString: idText), case .string(let keyText)? = value["key"],
                      let key = Data(base64Encoded: keyText), key.count == 32 else { throw fail() }
                keys.append(Key(subject: subject, id: id, key: key))
            }
        }
    }

    /// Merges another archive in; an erasure in either wins over a key.
    public mutating func merge(_ other: SubjectKeyArchive) {
        keys += other.keys
        erased += other.erased
    }

    /// The key rows to store, each key wrapped under `masterKey`; an erased subject has no
    /// key (whatever key another archive had for it).
    public func rows(wrappingWith masterKey: MasterKey?) throws -> [StoredSubjectKey] {
        var rows: [String: StoredSubjectKey] = [:]
        let erasedSubjects = Dictionary(erased.map { ($0.subject, $0.receipt) }, uniquingKeysWith: { first, second in second ?? first })
        for key in keys where erasedSubjects[key.subject] == nil {
            guard let masterKey else {
                throw ChronicleError(.masterKeyMissing, "Importing keys needs the store's master key to wrap them; give one (--master-key-file or CHRONICLE_MASTER_KEY).")
            }
            rows[key.subject] = StoredSubjectKey(subject: key.subject, id: key.id, wrapped: masterKey.wrap(SubjectKey(id: key.id, bytes: [UInt8](key.key))))
        }
        for (subject, receipt) in erasedSubjects {
            rows[subject] = StoredSubjectKey(subject: subject, id: UUID(), wrapped: nil, receipt: receipt)
        }
        return rows.values.sorted { $0.subject < $1.subject }
    }
}
