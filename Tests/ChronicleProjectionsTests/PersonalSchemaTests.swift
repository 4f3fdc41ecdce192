import ChronicleCore
import ChronicleProjections
import Foundation
import Testing

@Suite("schema: personal fields")
struct PersonalSchemaTests {
    let schema = """
        entities:
          user:
            personal: [email, name]
            events:
              UserRegistered: create
              UserMoved: { merge: true, personal: [address] }
              UserLoggedIn: { set: { seen: true } }
          ticket:
            events:
              TicketOpened: { create: true, personal: [body], subject: $.data.userId }
          audit:
            events:
              UserRegistered: { id: $.data.auditId, upsert: { seen: true }, personal: [note], subject: $.data.id }
        """

    @Test("which fields are personal and whose: the entity's for its home types, a type's own, subjects by path or the stream's entity id")
    func fields() throws {
        let projection = DeclarativeProjection(schema: try EntitySchema(yaml: schema))
        #expect(projection.declaresPersonalData)
        #expect(projection.declaresPersonalFields(type: "UserRegistered") && projection.declaresPersonalFields(type: "TicketOpened"))
        #expect(!projection.declaresPersonalFields(type: "Unknown"))
        let user = try StreamName("user-ada")
        let registered = try projection.personalFields(type: "UserRegistered", stream: user, data: ["email": "a@x", "id": "ada2", "auditId": "a1"])
        #expect(Set(registered) == [PersonalField(name: "email", subject: "ada"), PersonalField(name: "name", subject: "ada"), PersonalField(name: "note", subject: "ada2")])
        #expect(Set(try projection.personalFields(type: "UserMoved", stream: user, data: [:])) == [PersonalField(name: "address", subject: "ada"), PersonalField(name: "email", subject: "ada"), PersonalField(name: "name", subject: "ada")])
        #expect(try projection.personalFields(type: "TicketOpened", stream: try StreamName("ticket-t1"), data: ["userId": 42]) == [PersonalField(name: "body", subject: "42")])
        #expect(throws: ChronicleError.self) { try projection.personalFields(type: "TicketOpened", stream: try StreamName("ticket-t1"), data: ["userId": ""]) }
        #expect(performing: { try projection.personalFields(type: "TicketOpened", stream: try StreamName("ticket-t1"), data: [:]) }, throws: { error in
            guard let error = error as? ChronicleError, error.code == .invalidPayload else { return false }
            return error.message.contains("$.data.userId") && error.message.contains("resolves to nothing") && error.details["pointer"] == "/userId"
        })
        #expect(!(DeclarativeProjection(schema: try EntitySchema(yaml: "entities:\n  a:\n    events:\n      E: create\n")).declaresPersonalData))
    }

    @Test("a bad declaration names the line and what is wrong", arguments: [
        ("entities:\n  a:\n    subject: $.data.x\n    events:\n      E: create\n", "line 3", "list them with `personal:`"),
        ("entities:\n  a:\n    personal: email\n    events:\n      E: create\n", "line 3", "is a list of members"),
        ("entities:\n  a:\n    personal: [data.email]\n    events:\n      E: create\n", "line 3", "is a list of members"),
        ("entities:\n  a:\n    personal: [email]\n    subject: userId\n    events:\n      E: create\n", "line 4", "`subject:` is the path"),
        ("entities:\n  a:\n    events:\n      E: { id: $.data.x, merge: true, personal: [email] }\n", "line 4", "say whose its personal fields are with `subject:`"),
        ("entities:\n  a:\n    personal: [age]\n    events:\n      E: { create: true, schema: { type: object, properties: { age: { type: integer } } } }\n", "line 5", "personal field age is a integer"),
    ])
    func badSchemas(yaml: String, line: String, fragment: String) {
        #expect(performing: { try EntitySchema(yaml: yaml, file: "schema.yaml") }, throws: { error in
            guard let error = error as? ChronicleError else { return false }
            return error.message.contains(line) && error.message.contains(fragment)
        })
    }
}
