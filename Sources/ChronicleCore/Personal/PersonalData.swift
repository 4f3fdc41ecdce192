import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A field of an event's data that is personal: sealed with its subject's own key when the
/// event is stored, readable while the key exists, `{"$erased": true}` everywhere once the
/// subject is erased (crypto-shredding). Which fields are personal is a property of event
/// types (a schema's `personal:`), applied by ``LogWriter`` on every append.
public struct PersonalField: Sendable, Hashable {
    /// The member of the event's data.
    public var name: String
    /// Whose data it is (an entity id, or what a schema's `subject:` names).
    public var subject: String

    /// Creates a personal field.
    public init(name: String, subject: String) {
        self.name = name
        self.subject = subject
    }
}

/// How personal fields are stored: the data's `$sealed` member holds, by key id, one AES-GCM
/// box per subject with the canonical JSON text of that subject's fields, and each personal
/// field holds the placeholder `{"$sealed": true}` (stores before 2026-12-03 wrote
/// `{"$sealed": "<key id>"}`; both are read). The nonce is derived from the key, the event
/// and the plaintext (a synthetic IV), so sealing the same event again gives the same bytes:
/// an idempotent retry compares equal, and the hash chain covers the sealed form.
public enum PersonalData {
    /// The member that marks a sealed value.
    public static let sealedMember = "$sealed"
    /// What a sealed value reads as once its key is destroyed.
    public static let erased: JSONValue = ["$erased": true]

    private static let marker = Array("\"$sealed\"".utf8)
    /// What a sealed field holds in place of its value (its box says whose it is).
    private static let placeholderBytes = Array("{\"$sealed\":true}".utf8)

    /// Whether canonical JSON text may hold a sealed value (a fast byte search; ``reveal``
    /// parses only such text).
    public static func mayBeSealed(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= marker.count, let base = bytes.baseAddress else { return false }
            // The `$` of a match is at 1...count - marker.count + 1.
            var offset = 1
            let last = bytes.count - marker.count + 1
            while offset <= last {
                guard let found = memchr(base + offset, Int32(UInt8(ascii: "$")), last + 1 - offset) else { return false }
                let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + index - 1, marker, marker.count) == 0 { return true }
                offset = index + 1
            }
            return false
        }
    }

    /// Seals the personal `fields` of `data` (canonical JSON text of an object): the fields of
    /// each subject go, as one canonical JSON object, into one AES-GCM box under the
    /// subject's key, kept in the data's `$sealed` member by key id; each field holds
    /// `{"$sealed": true}` in its place (fields that are absent or `null` stay as they
    /// are). The box's nonce is derived from the key, the event id and the plaintext (a
    /// synthetic IV), so sealing the same event again gives the same bytes; the event id is
    /// its associated data. Works on the text's bytes (``CanonicalMembers``): the members
    /// that are not personal are copied as they are, nothing is parsed. Returns `nil` when
    /// no field holds a value.
    ///
    /// - Throws: ``ChronicleError/Code/invalidPayload`` when a personal field holds a number
    ///   or a boolean (personal fields are strings, objects or arrays).
    static func seal(_ data: String, fields: [PersonalField], eventID: UUID, type: String, key: (String) throws -> SubjectKey) throws -> String? {
        var bytes = Array(data.utf8)
        var scanned = bytes.withUnsafeBufferPointer { CanonicalMembers($0) }
        if scanned == nil {
            // Not canonical text (an event made without PreparedEvent's checks): seal its
            // canonical form.
            bytes = Array(try JSONValue(parsing: data).canonicalText.utf8)
            scanned = bytes.withUnsafeBufferPointer { CanonicalMembers($0) }
        }
        guard let members = scanned?.members else {
            throw ChronicleError(.invalidInput, "The data of event \(eventID) (\(type)) is not a JSON object.")
        }
        // Which members are sealed, by subject, in the text's order.
        var subjects: [(subject: String, members: [Int])] = []
        for (index, member) in members.enumerated() {
            guard let field = fields.first(where: { $0.name == member.key }) else { continue }
            switch bytes[member.value.lowerBound] {
            case UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "["): break
            case UInt8(ascii: "n"): continue
            default:
                let kind = (try? JSONValue(parsing: String(decoding: bytes[member.value], as: UTF8.self)))?.kindName ?? "number"
                var error = ChronicleError(.invalidPayload, "\(type): the personal field \(field.name) holds a JSON \(kind); personal fields are strings or objects (they are sealed as a whole). Send it as a string, or leave it out of `personal:`.")
                error.details = ["pointer": .string("/\(field.name)"), "eventType": .string(type)]
                throw error
            }
            if let group = subjects.firstIndex(where: { $0.subject == field.subject }) {
                subjects[group].members.append(index)
            } else {
                subjects.append((field.subject, [index]))
            }
        }
        guard !subjects.isEmpty else { return nil }
        var boxes: [(id: String, box: String)] = []
        var placeholders: Set<Int> = []
        for (subject, indices) in subjects {
            let subjectKey = try key(subject)
            let id = subjectKey.id.uuidString.lowercased()
            // The canonical text of the subject's fields: their members, in order.
            var plaintext: [UInt8] = [UInt8(ascii: "{")]
            for (position, index) in indices.enumerated() {
                if position > 0 { plaintext.append(UInt8(ascii: ",")) }
                plaintext.append(contentsOf: bytes[members[index].member])
                placeholders.insert(index)
            }
            plaintext.append(UInt8(ascii: "}"))
            boxes.append((id, seal(plaintext, eventID: eventID, with: subjectKey)))
        }
        boxes.sort { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        var output: [UInt8] = [UInt8(ascii: "{")]
        output.reserveCapacity(bytes.count + boxes.count * 200)
        var sealedWritten = false
        func separate() {
            if output.count > 1 { output.append(UInt8(ascii: ",")) }
        }
        func writeBoxes() {
            separate()
            JSONValue.writeString(sealedMember, to: &output)
            output.append(contentsOf: ":{".utf8)
            for (position, box) in boxes.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                JSONValue.writeString(box.id, to: &output)
                output.append(UInt8(ascii: ":"))
                JSONValue.writeString(box.box, to: &output)
            }
            output.append(UInt8(ascii: "}"))
            sealedWritten = true
        }
        for (index, member) in members.enumerated() {
            // A `$sealed` member of data that skipped PreparedEvent's checks gives way.
            if member.key == sealedMember { continue }
            if !sealedWritten, sealedMember.utf8.lexicographicallyPrecedes(member.key.utf8) { writeBoxes() }
            separate()
            if placeholders.contains(index) {
                output.append(contentsOf: bytes[member.member.lowerBound..<member.value.lowerBound])
                output.append(contentsOf: placeholderBytes)
            } else {
                output.append(contentsOf: bytes[member.member])
            }
        }
        if !sealedWritten { writeBoxes() }
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    static func seal(_ plaintext: [UInt8], eventID: UUID, with key: SubjectKey) -> String {
        let associated = eventID.bytes
        var derivation = SHA256()
        derivation.update(data: key.bytes)
        derivation.update(data: associated)
        derivation.update(data: plaintext)
        let nonce = try! AES.GCM.Nonce(data: Data(derivation.finalize()).prefix(12))
        // Sealing with a 256-bit key and a 12-byte nonce cannot fail.
        return try! AES.GCM.seal(plaintext, using: key.material, nonce: nonce, authenticating: associated).combined!.base64EncodedString()
    }

    /// The personal fields of an event about to be appended to `stream`, as the projections
    /// that declare personal data name them (each field once). The data is parsed only for a
    /// projection that asks (a `subject:` path).
    static func fields(of event: PreparedEvent, in stream: StreamName, declaring: [ProjectionRegistration]) throws -> [PersonalField] {
        var parsed: JSONValue?
        func data() throws -> JSONValue {
            if let parsed { return parsed }
            let value = try JSONValue(parsing: event.data)
            parsed = value
            return value
        }
        var fields: [PersonalField] = []
        for registration in declaring {
            for field in try registration.projection.personalFields(type: event.type, stream: stream, data: try data()) where !fields.contains(where: { $0.name == field.name }) {
                fields.append(field)
            }
        }
        return fields
    }

    /// Text that data sealed with the key holds (its box's member name, in either form of
    /// placeholder), for stores to search the log with; confirm each hit with
    /// ``isSealed(_:with:)``.
    public static func searchText(keyID: UUID) -> String {
        "\"\(keyID.uuidString.lowercased())\":\""
    }

    /// Whether canonical data text holds a value sealed with the key.
    public static func isSealed(_ text: String, with keyID: UUID) -> Bool {
        text.contains(searchText(keyID: keyID)) && keyIDs(in: text).contains(keyID)
    }

    /// Whether two sealed forms of data differ only in their placeholders' form (an append
    /// stored before 2026-12-03, retried after: sealed again, it holds the newer form).
    static func sameSealedData(_ sent: String, _ stored: String) -> Bool {
        guard mayBeSealed(sent), mayBeSealed(stored), case .object(var members)? = try? JSONValue(parsing: stored) else { return false }
        for (name, value) in members where name != sealedMember {
            if case .object(let inner) = value, inner.count == 1, case .string? = inner[sealedMember] { members[name] = [sealedMember: true] }
        }
        return JSONValue.object(members).canonicalText == sent
    }

    /// Whether `value` is a sealed field's placeholder that the box of `keyID` may fill:
    /// `{"$sealed": true}`, or the older `{"$sealed": "<key id>"}` naming that key.
    private static func isPlaceholder(_ value: JSONValue?, keyID: String) -> Bool {
        guard case .object(let members)? = value, members.count == 1, let marker = members[sealedMember] else { return false }
        return marker == .bool(true) || marker == .string(keyID)
    }

    /// The key ids the sealed values of canonical data text name.
    public static func keyIDs(in text: String) -> Set<UUID> {
        guard mayBeSealed(text), case .object(let members)? = try? JSONValue(parsing: text), case .object(let boxes)? = members[sealedMember] else { return [] }
        return Set(boxes.keys.compactMap(UUID.init(uuidString:)))
    }

    /// The event with its sealed fields opened with `keys` (by key id); a field whose key is
    /// not there reads as ``erased``.
    static func reveal(_ event: RecordedEvent, keys: [UUID: SubjectKey]) -> RecordedEvent {
        guard mayBeSealed(event.dataJSON), case .object(var members) = try? JSONValue(parsing: event.dataJSON),
              case .object(let boxes)? = members.removeValue(forKey: sealedMember) else { return event }
        for (id, box) in boxes {
            guard let uuid = UUID(uuidString: id), let key = keys[uuid], case .string(let text) = box, let combined = Data(base64Encoded: text),
                  let sealedBox = try? AES.GCM.SealedBox(combined: combined),
                  let plaintext = try? AES.GCM.open(sealedBox, using: key.material, authenticating: event.id.bytes),
                  case .object(let fields)? = try? JSONValue(parsing: String(decoding: plaintext, as: UTF8.self)) else { continue }
            for (name, value) in fields where isPlaceholder(members[name], keyID: id) { members[name] = value }
        }
        // What is still a placeholder has no key: erased.
        for (name, value) in members where value[sealedMember] != nil && value.objectValue?.count == 1 { members[name] = erased }
        var revealed = event
        revealed.dataJSON = JSONValue.object(members).canonicalText
        return revealed
    }

    /// Refuses data that imitates a sealed value: `$sealed` is Chronicle's.
    static func refuseImitation(_ data: String, eventID: UUID, type: String) throws {
        guard mayBeSealed(data), case .object(let members)? = try? JSONValue(parsing: data) else { return }
        func imitates(_ value: JSONValue) -> Bool {
            switch value {
            case .object(let members): members[sealedMember] != nil || members.values.contains(where: imitates)
            case .array(let values): values.contains(where: imitates)
            default: false
            }
        }
        if members.values.contains(where: imitates) || members[sealedMember] != nil {
            throw ChronicleError(.invalidInput, "The data of event \(eventID) (\(type)) has a member named \(sealedMember), which Chronicle keeps for sealed personal fields; rename it.")
        }
    }
}

/// Opens sealed values for readers: the stores call it on every page of events they return,
/// with a lookup of the key rows the page names (one query per page that holds sealed
/// values; pages without any cost one byte search per event).
public struct PersonalDataReader: Sendable {
    /// The master key the store's subject keys are wrapped with; `nil` when none was given.
    public let masterKey: MasterKey?

    /// A reader with the store's master key.
    public init(masterKey: MasterKey?) {
        self.masterKey = masterKey
    }

    /// `events` with their sealed values opened (or ``PersonalData/erased``).
    public func reveal(_ events: [RecordedEvent], lookup: (Set<UUID>) throws -> [StoredSubjectKey]) throws -> [RecordedEvent] {
        guard let ids = Self.keyIDs(of: events) else { return events }
        return try reveal(events, with: lookup(ids))
    }

    /// `events` with their sealed values opened, looking the keys up asynchronously.
    public func reveal(_ events: [RecordedEvent], lookup: (Set<UUID>) async throws -> [StoredSubjectKey]) async throws -> [RecordedEvent] {
        guard let ids = Self.keyIDs(of: events) else { return events }
        return try reveal(events, with: await lookup(ids))
    }

    /// One event; see ``reveal(_:lookup:)``.
    public func reveal(_ event: RecordedEvent, lookup: (Set<UUID>) throws -> [StoredSubjectKey]) throws -> RecordedEvent {
        try reveal([event], lookup: lookup)[0]
    }

    private static func keyIDs(of events: [RecordedEvent]) -> Set<UUID>? {
        var ids: Set<UUID> = []
        var sealed = false
        // By index: `for event in events` copies every event (a retain of each of its
        // members), which was a tenth of a query page's time in Swift.
        for index in events.indices where PersonalData.mayBeSealed(events[index].dataJSON) {
            sealed = true
            ids.formUnion(PersonalData.keyIDs(in: events[index].dataJSON))
        }
        return sealed ? ids : nil
    }

    private func reveal(_ events: [RecordedEvent], with rows: [StoredSubjectKey]) throws -> [RecordedEvent] {
        let keys = try unwrap(rows)
        return events.map { PersonalData.reveal($0, keys: keys) }
    }

    /// The usable keys of `rows`, by id.
    func unwrap(_ rows: [StoredSubjectKey]) throws -> [UUID: SubjectKey] {
        var keys: [UUID: SubjectKey] = [:]
        for row in rows {
            guard let wrapped = row.wrapped else { continue }
            guard let masterKey else {
                throw ChronicleError(.masterKeyMissing, "This store holds personal data sealed with subject keys; open it with its master key (--master-key-file or CHRONICLE_MASTER_KEY).")
            }
            keys[row.id] = try masterKey.unwrap(wrapped, id: row.id)
        }
        return keys
    }

    /// Refuses to open a store whose key table cannot be read with this master key (one
    /// sample row is unwrapped).
    public func check(sample: StoredSubjectKey?) throws {
        guard let sample else { return }
        _ = try unwrap([sample])
    }
}
