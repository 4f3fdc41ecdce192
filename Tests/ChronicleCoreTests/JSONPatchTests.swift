import ChronicleCore
import Foundation
import Testing

/// The public JSON Patch test vectors in `../shared/testdata/json-patch/`.
struct PatchVector: Sendable, CustomTestStringConvertible {
    let file: String
    let comment: String
    let document: JSONValue
    let patch: JSONValue
    let expected: JSONValue?
    let expectsError: Bool

    var testDescription: String { "\(file): \(comment)" }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/testdata/json-patch")

    /// Every case not marked `disabled`. The files repeat a member name in two disabled
    /// cases, so they are read with last-wins parsing.
    static func all() -> [PatchVector] {
        var vectors: [PatchVector] = []
        for file in ["spec_tests.json", "tests.json"] {
            guard let text = try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8),
                  case .array(let cases)? = try? JSONValue(parsingAllowingDuplicateKeys: text) else { continue }
            for (index, item) in cases.enumerated() where item["disabled"] != .bool(true) {
                guard let document = item["doc"], let patch = item["patch"] else { continue }
                let comment = item["comment"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? "case \(index)"
                vectors.append(PatchVector(file: file, comment: comment, document: document, patch: patch, expected: item["expected"], expectsError: item["error"] != nil))
            }
        }
        return vectors
    }
}

@Suite("JSON Patch and merge patch")
struct JSONPatchTests {
    @Test("the public test vectors are present")
    func vectorsArePresent() {
        #expect(PatchVector.all().count >= 100, "expected the json-patch-tests files in \(PatchVector.directory.path)")
    }

    @Test("every enabled public JSON Patch vector passes", arguments: PatchVector.all())
    func vector(_ vector: PatchVector) {
        do {
            let patch = try JSONPatch(json: vector.patch)
            let result = try patch.apply(to: vector.document)
            if vector.expectsError {
                Issue.record("expected an error, got \(result.canonicalText)")
            } else if let expected = vector.expected {
                #expect(JSONValue.equal(result, expected), "got \(result.canonicalText), expected \(expected.canonicalText)")
            }
        } catch let error as ChronicleError {
            #expect(vector.expectsError, "unexpected error: \(error.message)")
            #expect(error.code == .invalidInput)
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }

    @Test("a failed patch gives no document at all, not the part before the failing operation")
    func atomic() throws {
        let document: JSONValue = ["a": 1]
        // The first operation alone applies; with the failing test after it, nothing does.
        let first = try JSONPatch(json: [["op": "add", "path": "/b", "value": 2]])
        #expect(try first.apply(to: document) == ["a": 1, "b": 2])
        let patch = try JSONPatch(json: [["op": "add", "path": "/b", "value": 2], ["op": "test", "path": "/a", "value": 5]])
        do {
            let partial = try patch.apply(to: document)
            Issue.record("a patch whose test fails gave \(partial.canonicalText)")
        } catch let error as ChronicleError {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("operation 1") && error.message.contains("/a"), "it names the failing operation: \(error.message)")
        }
    }

    @Test("diff then apply reproduces the target", arguments: [
        ("{}", #"{"a":1}"#),
        (#"{"email":"a@x.org","tags":["x","y","z"],"n":1}"#, #"{"email":"b@x.org","tags":["x"],"verified":true,"n":1.0}"#),
        (#"{"list":[1,2]}"#, #"{"list":[1,2,3,4]}"#),
        (#"{"nested":{"deep":{"a":1,"b/c":2,"d~e":3}}}"#, #"{"nested":{"deep":{"a":2}}}"#),
        (#"{"x":[1]}"#, #"{"x":{"y":1}}"#),
        (#""scalar""#, #"{"now":"an object"}"#),
        (#"[{"id":1},{"id":2}]"#, #"[{"id":1,"name":"one"}]"#),
    ])
    func diffRoundTrip(oldText: String, newText: String) throws {
        let old = try JSONValue(parsing: oldText), new = try JSONValue(parsing: newText)
        let patch = JSONPatch.diff(from: old, to: new)
        #expect(JSONValue.equal(try patch.apply(to: old), new), "\(patch.json.canonicalText)")
        let reparsed = try JSONPatch(json: try JSONValue(parsing: patch.json.canonicalText))
        #expect(reparsed == patch)
        #expect(JSONPatch.diff(from: new, to: new).operations.isEmpty)
    }

    @Test("the diff names exactly what changed")
    func diffIsMinimalForObjects() {
        let patch = JSONPatch.diff(from: ["email": "a@x.org", "name": "Ada"], to: ["email": "b@x.org", "name": "Ada", "verified": true])
        #expect(patch.json == [["op": "replace", "path": "/email", "value": "b@x.org"], ["op": "add", "path": "/verified", "value": true]])
    }

    @Test("pointers escape ~ and /, and refuse bad text")
    func pointers() throws {
        let pointer = try JSONPointer(parsing: "/a~1b/c~0d/0")
        #expect(pointer.tokens == ["a/b", "c~d", "0"])
        #expect(pointer.description == "/a~1b/c~0d/0")
        #expect(try JSONPointer(parsing: "") == .root)
        for bad in ["a/b", "/a~2", "/a~"] {
            #expect(throws: ChronicleError.self) { try JSONPointer(parsing: bad) }
        }
    }

    @Test("merge patch follows RFC 7386 appendix A", arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, "null", "null"),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"a":1,"e":null}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func mergePatch(target: String, patch: String, expected: String) throws {
        #expect(try JSONValue(parsing: target).merging(try JSONValue(parsing: patch)) == (try JSONValue(parsing: expected)))
    }

    @Test("strict parsing refuses repeated member names; the lenient form keeps the last")
    func duplicateKeys() throws {
        #expect(throws: ChronicleError.self) { try JSONValue(parsing: #"{"a":1,"a":2}"#) }
        #expect(try JSONValue(parsingAllowingDuplicateKeys: #"{"a":1,"a":2}"#) == ["a": 2])
    }
}
