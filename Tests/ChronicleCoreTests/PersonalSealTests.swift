@testable import ChronicleCore
import Foundation
import Testing

/// Sealing works on the bytes of canonical text (``CanonicalMembers``). What it stores must be
/// byte for byte what sealing the parsed value gives (the first implementation, kept here as
/// the reference): the hash chain covers it, and an idempotent retry compares with it.
@Suite("sealing personal fields on canonical text: byte for byte the parsed way")
struct PersonalSealTests {
    static let keys = ["ada": SubjectKey(id: UUID(uuidString: "0190F5A8-0000-7000-8000-00000000000A")!, bytes: Array(repeating: 7, count: 32)),
                       "bob": SubjectKey(id: UUID(uuidString: "0190F5A8-0000-7000-8000-00000000000B")!, bytes: Array(repeating: 9, count: 32))]

    /// The parsed way: fields grouped by subject, one box per subject over the canonical
    /// text of its fields, placeholders, `$sealed` by key id, all encoded again.
    static func reference(_ text: String, fields: [PersonalField], eventID: UUID) throws -> String? {
        guard case .object(var data) = try JSONValue(parsing: text) else { return nil }
        var groups: [String: [String: JSONValue]] = [:]
        for field in fields {
            guard let value = data[field.name], value != .null else { continue }
            switch value {
            case .string, .object, .array: break
            default: throw ChronicleError(.invalidPayload, "not a string")
            }
            groups[field.subject, default: [:]][field.name] = value
        }
        guard !groups.isEmpty else { return nil }
        var boxes: [String: JSONValue] = [:]
        for (subject, members) in groups {
            let key = keys[subject]!
            let id = key.id.uuidString.lowercased()
            boxes[id] = .string(PersonalData.seal(Array(JSONValue.object(members).canonicalText.utf8), eventID: eventID, with: key))
            for name in members.keys { data[name] = [PersonalData.sealedMember: true] }
        }
        data[PersonalData.sealedMember] = .object(boxes)
        return JSONValue.object(data).canonicalText
    }

    static func sealed(_ text: String, _ fields: [PersonalField], eventID: UUID) throws -> String? {
        try PersonalData.seal(text, fields: fields, eventID: eventID, type: "T") { keys[$0]! }
    }

    static func event(_ data: String, id: UUID) -> RecordedEvent {
        RecordedEvent(id: id, stream: try! StreamName("user-ada"), type: "T", revision: 0, position: 1, recordedAtMicroseconds: 0, dataJSON: data, metadataJSON: "{}", hash: .zero)
    }

    @Test("fixed data: members before and after $sealed, escaped keys, nesting, null and absent fields")
    func fixed() throws {
        let id = UUID()
        let ada = { PersonalField(name: $0, subject: "ada") }
        let cases: [(JSONValue, [PersonalField])] = [
            (["email": "ada@example.com", "name": "Ada", "plan": "standard", "age": 36], [ada("email"), ada("name")]),
            (["!first": "x", "#hash": ["a": [1, "}"]], "$a": "before", "$t": "after", "email": "e"], [ada("email"), ada("#hash"), ada("$t")]),
            (["a\"b": "quote in a key", "k\\": ["\\\"", "}]"], "\u{1}": "control", "é": "ü"], [ada("a\"b"), PersonalField(name: "é", subject: "bob")]),
            (["email": .null, "name": "Ada"], [ada("email"), ada("name"), ada("absent")]),
            (["address": ["street": "1 Main", "lines": ["a", "b"]], "x": [:]], [ada("address"), PersonalField(name: "x", subject: "bob")]),
        ]
        for (data, fields) in cases {
            let text = data.canonicalText
            let sealed = try Self.sealed(text, fields, eventID: id)
            #expect(sealed == (try Self.reference(text, fields: fields, eventID: id)), "\(text)")
            let revealed = PersonalData.reveal(Self.event(try #require(sealed), id: id), keys: Dictionary(uniqueKeysWithValues: Self.keys.values.map { ($0.id, $0) }))
            #expect(revealed.dataJSON == text)
        }
        #expect(try Self.sealed(JSONValue.object(["plan": "x", "email": .null]).canonicalText, [ada("email")], eventID: id) == nil)
        #expect(try Self.sealed("{}", [ada("email")], eventID: id) == nil)
    }

    @Test("a number or a boolean in a personal field is refused, naming the field and its kind")
    func refusals() throws {
        for value: JSONValue in [36, 2.5, true] {
            let text = JSONValue.object(["age": value, "name": "Ada"]).canonicalText
            do {
                _ = try Self.sealed(text, [PersonalField(name: "age", subject: "ada")], eventID: UUID())
                Issue.record("\(text) was sealed")
            } catch let error as ChronicleError {
                #expect(error.code == .invalidPayload)
                #expect(error.message.contains("personal field age holds a JSON \(value.kindName)"), "\(error.message)")
            }
        }
    }

    @Test("placeholders: {\"$sealed\": true} now, the older {\"$sealed\": \"<key id>\"} still read; a store's search finds both")
    func placeholderForms() throws {
        let id = UUID()
        let ada = Self.keys["ada"]!, bob = Self.keys["bob"]!
        let text = JSONValue.object(["email": "ada@example.com", "name": "Ada", "boss": "Bob", "plan": "standard"]).canonicalText
        let fields = [PersonalField(name: "email", subject: "ada"), PersonalField(name: "name", subject: "ada"), PersonalField(name: "boss", subject: "bob")]
        let sealed = try #require(try Self.sealed(text, fields, eventID: id))
        #expect(sealed.contains(#""email":{"$sealed":true}"#) && !sealed.contains(#""$sealed":""#), "\(sealed)")
        // The form stores wrote before: each placeholder names its box's key.
        guard case .object(var old) = try JSONValue(parsing: sealed) else { Issue.record("not an object"); return }
        for (name, key) in [("email", ada), ("name", ada), ("boss", bob)] { old[name] = [PersonalData.sealedMember: .string(key.id.uuidString.lowercased())] }
        let older = JSONValue.object(old).canonicalText
        let both = Dictionary(uniqueKeysWithValues: Self.keys.values.map { ($0.id, $0) })
        for form in [sealed, older] {
            #expect(PersonalData.reveal(Self.event(form, id: id), keys: both).dataJSON == text)
            #expect(PersonalData.isSealed(form, with: ada.id) && PersonalData.isSealed(form, with: bob.id))
            #expect(!PersonalData.isSealed(form, with: UUID()))
            let adaErased = try JSONValue(parsing: PersonalData.reveal(Self.event(form, id: id), keys: [bob.id: bob]).dataJSON)
            #expect(adaErased == ["email": PersonalData.erased, "name": PersonalData.erased, "boss": "Bob", "plan": "standard"])
        }
        // An append stored in the older form, retried now, is the same append; other data is not.
        let retried = PreparedEvent(unchecked: id, type: "T", data: sealed, metadata: "{}")
        #expect(retried.hasSameContent(as: Self.event(older, id: id)))
        #expect(!PreparedEvent(unchecked: id, type: "T", data: sealed.replacingOccurrences(of: "standard", with: "premium"), metadata: "{}").hasSameContent(as: Self.event(older, id: id)))
        // A placeholder naming another key is not filled by this one.
        old["boss"] = [PersonalData.sealedMember: .string(ada.id.uuidString.lowercased())]
        #expect(try JSONValue(parsing: PersonalData.reveal(Self.event(JSONValue.object(old).canonicalText, id: id), keys: [bob.id: bob]).dataJSON)["boss"] == PersonalData.erased)
        // Plain data that mentions a key id as text is not sealed with it.
        #expect(!PersonalData.isSealed(JSONValue.object(["note": .string("\"\(ada.id.uuidString.lowercased())\":\"x")]).canonicalText, with: ada.id))
    }

    @Test("text that is not canonical is read by the parser and sealed in its canonical form")
    func notCanonical() throws {
        let id = UUID()
        let fields = [PersonalField(name: "email", subject: "ada")]
        for text in [#"{ "email": "e", "name": "n" }"#, #"{"name":"n","email":"e"}"#, #"{"email":"e","email":"f"}"#.replacingOccurrences(of: #","email":"f""#, with: ""), #"{"email" :"e"}"#] {
            let canonical = try JSONValue(parsing: text).canonicalText
            #expect(try Self.sealed(text, fields, eventID: id) == (try Self.reference(canonical, fields: fields, eventID: id)), "\(text)")
        }
        for text in [#"{ "a": 1 }"#, #"{"b":1,"a":2}"#, #"{"a":1,"a":1}"#, #"{"a":1 }"#, #"{"a":[1, 2]}"#, "[1]", #"{"a":"#, #"{"a":"x}"#, "{\"a\":1,}"] {
            #expect(Array(text.utf8).withUnsafeBufferPointer { CanonicalMembers($0) } == nil, "\(text)")
        }
    }

    @Test("random data, a thousand objects, against the parsed way and back")
    func random() throws {
        var generator = SystemRandomNumberGenerator()
        let names = ["email", "name", "$a", "$sealee", "#", " ", "a\"q", "z\\", "é", "address", "plan", "\u{1}"]
        let alphabet: [Character] = ["a", "}", "]", "{", "[", ",", ":", "\"", "\\", "\n", "é", "🚀", " "]
        func text() -> String { String((0..<Int.random(in: 0...6, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }) }
        func value(_ depth: Int, personal: Bool) -> JSONValue {
            switch Int.random(in: (personal ? 3 : 0)...(depth > 2 ? 4 : 6), using: &generator) {
            case 0: return .bool(Bool.random(using: &generator))
            case 1: return .integer(Int64.random(in: .min ... .max, using: &generator))
            case 2: return .double(Double.random(in: -1e6...1e6, using: &generator))
            case 3: return .null
            case 4: return .string(text())
            case 5: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in value(depth + 1, personal: false) })
            default:
                var members: [String: JSONValue] = [:]
                for _ in 0..<Int.random(in: 0...4, using: &generator) { members[text()] = value(depth + 1, personal: false) }
                return .object(members)
            }
        }
        let keys = Dictionary(uniqueKeysWithValues: Self.keys.values.map { ($0.id, $0) })
        for _ in 0..<1000 {
            let id = UUID()
            var data: [String: JSONValue] = [:]
            var fields: [PersonalField] = []
            for name in names.shuffled(using: &generator).prefix(Int.random(in: 0...8, using: &generator)) {
                let personal = Bool.random(using: &generator)
                data[name] = value(0, personal: personal)
                if personal { fields.append(PersonalField(name: name, subject: Bool.random(using: &generator) ? "ada" : "bob")) }
            }
            let text = JSONValue.object(data).canonicalText
            let sealed = try Self.sealed(text, fields, eventID: id)
            #expect(sealed == (try Self.reference(text, fields: fields, eventID: id)), "\(text) \(fields)")
            if let sealed {
                #expect(PersonalData.reveal(Self.event(sealed, id: id), keys: keys).dataJSON == text)
            }
        }
    }
}
