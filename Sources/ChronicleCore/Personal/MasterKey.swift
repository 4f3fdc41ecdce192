import Crypto
import Foundation

/// The key that protects every subject's key (see ``PersonalData``): 256 bits, kept outside
/// the store (`--master-key-file`, `CHRONICLE_MASTER_KEY`). A store's subject keys are only
/// usable with the master key they were wrapped with.
public struct MasterKey: Sendable {
    private let bytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// A master key of 32 bytes.
    ///
    /// - Throws: ``ChronicleError/Code/masterKeyMissing`` when `bytes` is not 32 bytes long.
    public init(bytes: some Collection<UInt8>) throws {
        guard bytes.count == 32 else {
            throw ChronicleError(.masterKeyMissing, "A master key is 32 bytes (256 bits); this one is \(bytes.count). Make one with `openssl rand -base64 32`.")
        }
        self.bytes = Array(bytes)
    }

    /// A master key written as base64 (the form of the key file and `CHRONICLE_MASTER_KEY`).
    public init(base64 text: String) throws {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ChronicleError(.masterKeyMissing, "The master key is not base64 text; write 32 random bytes as base64, such as the output of `openssl rand -base64 32`.")
        }
        try self.init(bytes: [UInt8](data))
    }

    /// A new random master key.
    public static func random() -> MasterKey {
        SymmetricKey(size: .bits256).withUnsafeBytes { try! MasterKey(bytes: [UInt8]($0)) }
    }

    /// The key as base64 text.
    public var base64: String { Data(bytes).base64EncodedString() }

    /// Reads a key file written by ``write(to:)`` (base64 text).
    public static func load(file: String) throws -> MasterKey {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ChronicleError(.masterKeyMissing, "Cannot read the master key file \(file); check the path and its permissions.")
        }
        return try MasterKey(base64: text)
    }

    /// Writes the key as base64 text to a new file readable by its owner only.
    public func write(to file: String) throws {
        guard FileManager.default.createFile(atPath: file, contents: Data((base64 + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ChronicleError(.storageFailure, "Cannot write the master key file \(file); check the directory's permissions.")
        }
    }

    /// A subject key sealed under this key (AES-GCM, the key id as associated data).
    func wrap(_ key: SubjectKey) -> Data {
        let material = Data(key.bytes)
        // AES-GCM sealing with a fresh nonce cannot fail for a 256-bit key.
        return try! AES.GCM.seal(material, using: self.key, authenticating: key.id.bytes).combined!
    }

    /// The subject key sealed by ``wrap(_:)``.
    ///
    /// - Throws: ``ChronicleError/Code/masterKeyMismatch`` when this is not the key it was
    ///   wrapped with.
    func unwrap(_ wrapped: Data, id: UUID) throws -> SubjectKey {
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            let material = try AES.GCM.open(box, using: key, authenticating: id.bytes)
            return SubjectKey(id: id, bytes: [UInt8](material))
        } catch {
            throw ChronicleError(.masterKeyMismatch, "The store's personal-data keys were made with another master key; give the master key this store was created with (--master-key-file or CHRONICLE_MASTER_KEY).")
        }
    }
}

/// One subject's key: what seals the personal fields of the subject's events.
struct SubjectKey: Sendable, Hashable {
    var id: UUID
    var bytes: [UInt8]
    var material: SymmetricKey { SymmetricKey(data: bytes) }

    static func random() -> SubjectKey {
        SubjectKey(id: .timeOrdered(), bytes: SymmetricKey(size: .bits256).withUnsafeBytes { [UInt8]($0) })
    }
}

extension UUID {
    /// The 16 bytes of the UUID.
    var bytes: Data { withUnsafeBytes(of: uuid) { Data($0) } }
}
