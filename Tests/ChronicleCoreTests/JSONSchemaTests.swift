import ChronicleCore
import Foundation
import Testing

/// One case of the public JSON Schema Test Suite in `../shared/testdata/json-schema/`.
struct SchemaVector: Sendable, CustomTestStringConvertible {
    let file: String
    let group: String
    let test: String
    let schema: JSONValue
    let data: JSONValue
    let valid: Bool

    var testDescription: String { "\(file): \(group): \(test)" }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/testdata/json-schema/draft2020-12")

    static func all() -> [SchemaVector] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
            + ((try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("optional-format").path)) ?? []).filter { $0.hasSuffix(".json") }.sorted().map { "optional-format/" + $0 }
        var vectors: [SchemaVector] = []
        for file in files {
            guard let text = try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8),
                  case .array(let groups)? = try? JSONValue(parsingAllowingDuplicateKeys: text) else { continue }
            for group in groups {
                guard let schema = group["schema"], case .array(let tests)? = group["tests"], case .string(let groupName)? = group["description"] else { continue }
                for test in tests {
                    guard let data = test["data"], case .bool(let valid)? = test["valid"], case .string(let name)? = test["description"] else { continue }
                    vectors.append(SchemaVector(file: file, group: groupName, test: name, schema: schema, data: data, valid: valid))
                }
            }
        }
        return vectors
    }
}

@Suite("JSON Schema validator")
struct JSONSchemaTests {
    @Test("the public test suite files are present")
    func vectorsArePresent() {
        #expect(SchemaVector.all().count >= 400, "expected the JSON Schema Test Suite in \(SchemaVector.directory.path)")
    }

    @Test("every case of the supported keywords and formats passes", arguments: SchemaVector.all())
    func vector(_ vector: SchemaVector) throws {
        let schema = try JSONSchema(vector.schema)
        let violations = schema.validate(vector.data)
        #expect(violations.isEmpty == vector.valid, "\(violations)")
    }

    @Test("violations name the JSON pointer and what is wrong, all of them")
    func violations() throws {
        let schema = try JSONSchema([
            "type": "object",
            "required": ["email", "age"],
            "additionalProperties": false,
            "properties": [
                "email": ["type": "string", "format": "email"],
                "age": ["type": "integer", "minimum": 18],
                "tags": ["type": "array", "items": ["type": "string", "maxLength": 3]],
            ],
        ])
        let violations = schema.validate(["email": "nope", "tags": ["ok", "toolong", 3], "extra": true])
        #expect(violations.map(\.pointer) == ["/age", "/email", "/extra", "/tags/1", "/tags/2"], "\(violations)")
        #expect(violations.first { $0.pointer == "/email" }?.message == "is not an email address")
        #expect(schema.validate(["email": "a@b.org", "age": 30, "tags": ["x"]]).isEmpty)
        #expect(throws: ChronicleError.self) { try JSONSchema("not a schema") }
        #expect(throws: ChronicleError.self) { try JSONSchema(["pattern": "(unclosed"]) }
    }
}
