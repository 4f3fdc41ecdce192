import ChronicleCore
import ChronicleProjections
import Foundation
import Testing

/// The seed's example: one `UserUpdated` changes the user and the mailing list its
/// `updated` list names.
let fanOutSchema = """
    entities:
      user:
        events:
          UserCreated: create
          UserUpdated:
            each: $.data.updated
            where: { type: User }
            id: $._id
            merge: { email: $.email }
      mailingList:
        events:
          MailingListCreated: create
          MailingListRenamed: { merge: $.data.names }
          UserUpdated:
            each: $.data.updated
            where: { type: MailingList }
            id: $._id
            merge: { email: $.email }
      audit:
        events:
          UserUpdated: { id: $.data.user_id, upsert: { lastEmail: $.email } }
    """

@Suite("Declarative schema: one event, several entities")
struct FanOutSchemaTests {
    let projection = DeclarativeProjection(schema: try! EntitySchema(yaml: fanOutSchema))

    func event(_ stream: String, _ type: String, _ data: JSONValue, revision: Int64 = 0, position: Int64 = 1) -> RecordedEvent {
        RecordedEvent(id: .timeOrdered(), stream: try! StreamName(stream), type: type, revision: revision, position: position, recordedAtMicroseconds: position * 1_000, dataJSON: data.canonicalText, metadataJSON: "{}", hash: .zero)
    }

    var seedEvent: RecordedEvent {
        event("user-bgg7x", "UserUpdated", [
            "user_id": "auth0|123456", "email": "new_email@gmail.com",
            "updated": [
                ["type": "MailingList", "_id": "aXd45", "email": "new_email@gmail.com"],
                ["type": "User", "_id": "bgg7x", "email": "new_email@gmail.com"],
            ],
        ], revision: 1, position: 3)
    }

    @Test("routes and templates parse; the same type is declared under several entities")
    func parses() throws {
        let schema = try EntitySchema(yaml: fanOutSchema)
        let route = try #require(schema.entities["mailingList"]?.routes["UserUpdated"])
        #expect(route.each?.tokens == ["updated"] && route.id.tokens == ["_id"] && route.filter == ["type": .equals("MailingList")])
        #expect(schema.entities["audit"]?.routes["UserUpdated"]?.id.tokens == ["user_id"] && schema.entities["audit"]?.routes["UserUpdated"]?.each == nil)
        #expect(schema.entities["mailingList"]?.templates["MailingListRenamed"] == .path(try #require(EntitySchema.JSONPath("$.data.names", stripping: true))))
        #expect(schema.entities["user"]?.events["UserUpdated"] == .merge)
        #expect(projection.changesOtherEntities)
        #expect(projection.homeEntity(of: "UserUpdated") == nil && projection.homeEntity(of: "UserCreated") == "user")
        let changed = try EntitySchema(yaml: fanOutSchema.replacingOccurrences(of: "where: { type: MailingList }", with: "where: { type: List }"))
        #expect(changed.definitionHash != schema.definitionHash, "a route is part of the fingerprint, so changing it rebuilds")
        let template = try EntitySchema(yaml: fanOutSchema.replacingOccurrences(of: "upsert: { lastEmail: $.email }", with: "upsert: { last: $.email }"))
        #expect(template.definitionHash != schema.definitionHash, "so is a template")
        #expect(!DeclarativeProjection(schema: try EntitySchema(yaml: userSchema)).changesOtherEntities)
    }

    @Test("the seed's UserUpdated changes the user, the mailing list and the audit entry, each with its own data")
    func seedExample() throws {
        let event = seedEvent
        #expect(projection.targets(of: event) == [
            DocumentChangeKey(entity: "audit", id: "auth0|123456"),
            DocumentChangeKey(entity: "mailingList", id: "aXd45"),
            DocumentChangeKey(entity: "user", id: "bgg7x"),
        ])
        let user = Document(entity: "user", id: "bgg7x", state: ["email": "old@example.com", "name": "Ada"], version: 0, position: 1, updatedAtMicroseconds: 1_000)
        let list = Document(entity: "mailingList", id: "aXd45", state: ["email": "old@example.com", "list": "news"], version: 4, position: 2, updatedAtMicroseconds: 2_000)
        guard case .save(let newUser) = try projection.evolve(user, with: event, target: DocumentChangeKey(entity: "user", id: "bgg7x")) else { Issue.record("user unchanged"); return }
        #expect(newUser.state == ["email": "new_email@gmail.com", "name": "Ada"] && newUser.version == 1 && newUser.position == 3, "its own stream's event: the version is the revision")
        guard case .save(let newList) = try projection.evolve(list, with: event, target: DocumentChangeKey(entity: "mailingList", id: "aXd45")) else { Issue.record("list unchanged"); return }
        #expect(newList.state == ["email": "new_email@gmail.com", "list": "news"], "only the template's fields are merged, not the whole element")
        #expect(newList.version == 4 && newList.position == 3, "another stream's event keeps the version and moves the position")
        guard case .save(let audit) = try projection.evolve(nil, with: event, target: DocumentChangeKey(entity: "audit", id: "auth0|123456")) else { Issue.record("audit unchanged"); return }
        #expect(audit.state == ["lastEmail": "new_email@gmail.com"] && audit.version == -1, "upsert creates it; it has no stream of its own")
        #expect(try projection.evolve(list, with: event, target: DocumentChangeKey(entity: "mailingList", id: "other")) == .none, "a list the event does not name is unchanged")
        let renamed = self.event("mailingList-aXd45", "MailingListRenamed", ["names": ["title": "News"], "other": 1], revision: 5, position: 4)
        #expect(try projection.evolve(list, with: renamed) == .save(Document(entity: "mailingList", id: "aXd45", state: ["email": "old@example.com", "list": "news", "title": "News"], version: 5, position: 4, updatedAtMicroseconds: 4_000)), "merge: $.data.names merges that sub-object")
    }

    @Test("bad paths in an appended event are refused, naming the entity, the path and the event")
    func badPaths() throws {
        var documents = DocumentSet()
        documents.saveDocument(Document(entity: "user", id: "bgg7x", state: [:], version: 0, position: 1, updatedAtMicroseconds: 0), snapshot: false)
        documents.saveDocument(Document(entity: "mailingList", id: "aXd45", state: [:], version: 0, position: 2, updatedAtMicroseconds: 0), snapshot: false)
        try projection.checkAppend(seedEvent, documents: documents)
        func refused(_ data: JSONValue, code: ChronicleError.Code, _ fragments: String...) {
            #expect {
                try projection.checkAppend(event("user-bgg7x", "UserUpdated", data), documents: documents)
            } throws: { error in
                guard let error = error as? ChronicleError, error.code == code else { return false }
                return fragments.allSatisfy { error.message.contains($0) }
            }
        }
        let base: [String: JSONValue] = ["user_id": "u1", "email": "e@x"]
        func with(_ updated: JSONValue) -> JSONValue { .object(base.merging(["updated": updated]) { $1 }) }
        refused(with(.array([["type": "MailingList", "email": "e@x"]])), code: .invalidPayload, "mailingList", "$._id", "resolves to nothing", "UserUpdated")
        refused(with(.array([["type": "MailingList", "_id": 42, "email": "e@x"]])), code: .invalidPayload, "mailingList", "$._id", "a JSON number", "not an id")
        refused(with(.array([["type": "MailingList", "_id": "", "email": "e@x"]])), code: .invalidPayload, "an empty string")
        refused(with("aXd45"), code: .invalidPayload, "$.data.updated", "not an array")
        refused(["email": "e@x", "updated": []], code: .invalidPayload, "audit", "$.data.user_id", "resolves to nothing")
        refused(with(.array([["type": "MailingList", "_id": "aXd45"]])), code: .invalidPayload, "mailingList", "$.email", "resolves to nothing")
        refused(with(.array([["type": "MailingList", "_id": "zzz", "email": "e@x"]])), code: .entityNotFound, "mailingList zzz", "does not exist")
        try projection.checkAppend(event("user-bgg7x", "UserUpdated", with([])), documents: documents)
        #expect(projection.targets(of: event("user-bgg7x", "UserUpdated", with(.array([["type": "MailingList"]])))) == [DocumentChangeKey(entity: "audit", id: "u1")], "a stored event whose path names nothing changes nothing there (a rebuild never fails on it)")
    }

    @Test("the stream rules: a routed type goes to streams that declare or ignore it, or to streams of no entity")
    func streams() throws {
        let data: JSONValue = ["user_id": "u1", "email": "e@x", "updated": []]
        try projection.checkAppend(event("import-1", "UserUpdated", data), documents: nil)
        #expect {
            try projection.checkAppend(event("audit-1", "UserCreated", [:]), documents: nil)
        } throws: { ($0 as? ChronicleError)?.code == .undeclaredEventType }
        #expect {
            try projection.checkAppend(event("mailingList-1", "UserCreated", [:]), documents: nil)
        } throws: { ($0 as? ChronicleError)?.code == .undeclaredEventType }
    }

    @Test("a bad route or template names the line and what is wrong", arguments: [
        ("entities:\n  a:\n    events:\n      E: { each: $.data.xs, merge: true }\n", "line 4", "need `id:`"),
        ("entities:\n  a:\n    events:\n      E: { id: $.data.x, where: { t: 1 }, merge: true }\n", "line 4", "add `each:`"),
        ("entities:\n  a:\n    events:\n      E: { id: data.x, merge: true }\n", "line 4", "`id:` is the path"),
        ("entities:\n  a:\n    events:\n      E: { each: xs, id: $._id, merge: true }\n", "line 4", "`each:` is the path of an array"),
        ("entities:\n  a:\n    events:\n      E: { id: $.data.x, erase: true }\n", "line 4", "cannot take `id:` or `each:`"),
        ("entities:\n  a:\n    events:\n      E: { merge: 3 }\n", "line 4", "takes true, a path"),
        ("entities:\n  a:\n    events:\n      E: { merge: email }\n", "line 4", "takes true, a path"),
        ("entities:\n  a:\n    events:\n      E: create\n  b:\n    events:\n      E: merge\n", "line 7", "say which ones with `id:`"),
    ])
    func badSchemas(yaml: String, line: String, fragment: String) {
        #expect {
            _ = try EntitySchema(yaml: yaml, file: "schema.yaml")
        } throws: { error in
            guard let error = error as? ChronicleError, error.code == .invalidInput else { return false }
            return error.message.hasPrefix("schema.yaml") && error.message.contains(line) && error.message.contains(fragment)
        }
    }
}
