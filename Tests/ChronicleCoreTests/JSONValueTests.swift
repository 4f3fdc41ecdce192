@testable import ChronicleCore
import Foundation
import Testing

@Suite("JSON values")
struct JSONValueTests {
    @Test("parses every kind of value, keeping integers apart from fractions")
    func parsesValues() throws {
        let value = try JSONValue(parsing: #" { "a": [1, -2, 1.0, 2.5e3, true, false, null], "b": "x\"\\\/\n\u00e9\ud83d\ude00", "c": {} } "#)
        #expect(value == ["a": [1, -2, .double(1.0), .double(2500), true, false, nil], "b": "x\"\\/\né😀", "c": [:]])
        #expect(try JSONValue(parsing: "9223372036854775807") == .integer(.max))
        // One past Int64: a double would print it as 9.223372036854776e+18, another number.
        #expect(throws: ChronicleError.self) { try JSONValue(parsing: "9223372036854775808") }
        #expect(try JSONValue(parsing: "-0") == .integer(0))
    }

    @Test("bad JSON names the line, the column and what is wrong", arguments: [
        ("", "empty"),
        ("[1", "line 1, column 3"),
        (#"{"a":1,}"#, "expected a member name"),
        (#"{"a":}"#, "expected a value"),
        ("nul", "expected 'null'"),
        (#"{"a":1} x"#, "unexpected text after"),
        ("{\n  \"a\": 01\n}", "line 2, column 9"),
        (#"{"a":1,"a":2}"#, "appears twice"),
        ("\"tab\there\"", "control character"),
        (#""\x""#, "not a JSON escape"),
        (#""\ud800""#, "low surrogate"),
        ("1e999", "too large"),
        ("123456789012345678901234567890", "cannot be kept exactly"),
        ("9223372036854775808", "cannot be kept exactly"),
        ("1.23456789012345678", "cannot be kept exactly"),
        ("0.1000000000000000055511151231257827", "cannot be kept exactly"),
        (#"{"price":12345678901234567.5}"#, "send it as a string"),
        ("[1,]", "expected a value"),
        ("1.", "after the decimal point"),
        (String(repeating: "[", count: 300) + String(repeating: "]", count: 300), "nested deeper"),
    ])
    func rejectsBadJSON(input: String, fragment: String) {
        #expect {
            _ = try JSONValue(parsing: input)
        } throws: { error in
            let error = error as? ChronicleError
            return error?.code == .invalidInput && error?.message.contains(fragment) == true
        }
    }

    @Test("numbers are kept exactly as sent, in value: every one a 64-bit float holds parses", arguments: [
        ("0.1", JSONValue.double(0.1)), ("1.50", .double(1.5)), ("1e2", .double(100)), ("-0.0", .double(-0.0)),
        ("2.5e-7", .double(2.5e-7)), ("9223372036854775807", .integer(.max)), ("-9223372036854775808", .integer(.min)),
        ("1.7976931348623157e308", .double(.greatestFiniteMagnitude)), ("5e-324", .double(.leastNonzeroMagnitude)), ("0.000120", .double(0.00012)),
        ("1E+3", .double(1000)), ("1234567890.5e-3", .double(1234567.8905)),
    ])
    func exactNumbers(text: String, value: JSONValue) throws {
        let parsed = try JSONValue(parsing: text)
        #expect(parsed == value)
        #expect(try JSONValue(parsing: parsed.canonicalText) == parsed)
    }

    @Test("canonical text sorts keys, has no whitespace and round-trips")
    func canonical() throws {
        let value: JSONValue = ["b": 1, "a": ["z": nil, "y": [true, 1.5, "é\n\u{01}"]], "A": .double(-0.25)]
        let text = value.canonicalText
        #expect(text == #"{"A":-0.25,"a":{"y":[true,1.5,"é\n\u0001"],"z":null},"b":1}"#)
        #expect(try JSONValue(parsing: text) == value)
        #expect(try JSONValue(parsing: "{ \"b\" : 1 , \"a\" : 2 }").canonicalText == #"{"a":2,"b":1}"#)
        #expect(JSONValue.double(1.0).canonicalText == "1.0")
        #expect(try JSONValue(parsing: JSONValue.double(1e300).canonicalText) == .double(1e300))
    }

    @Test("JSON values encode and decode with Codable")
    func codable() throws {
        let value: JSONValue = ["n": 3, "list": ["a", nil]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }
}

@Suite("Names, expectations and timestamps")
struct ModelTests {
    @Test("stream names split into category and id")
    func streamNames() throws {
        let name = try StreamName("user-12-34")
        #expect(name.category == "user")
        #expect(name.entityID == "12-34")
        #expect(try StreamName("solo").category == "solo")
        #expect(try StreamName("solo").entityID == nil)
        #expect(StreamName.deletions.isReserved)
    }

    @Test("expected revisions parse from text", arguments: [
        ("any", ExpectedRevision.any), ("noStream", .noStream), ("no-stream", .noStream), ("-1", .noStream),
        ("streamExists", .streamExists), ("0", .exact(0)), ("42", .exact(42)),
    ])
    func parseExpected(text: String, expected: ExpectedRevision) {
        #expect(ExpectedRevision(parsing: text) == expected)
    }

    @Test("nonsense expected revisions are refused", arguments: ["", "-2", "latest", "1.5"])
    func refuseExpected(text: String) {
        #expect(ExpectedRevision(parsing: text) == nil)
    }

    @Test("timestamps print as RFC 3339 UTC with microseconds")
    func timestamps() {
        #expect(Timestamp.iso8601(microseconds: 0) == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp.iso8601(microseconds: 1_795_755_089_123_456) == "2026-11-27T04:51:29.123456Z")
        #expect(Timestamp.iso8601(microseconds: -1) == "1969-12-31T23:59:59.999999Z")
        #expect(Timestamp.iso8601(microseconds: 951_782_400_000_000) == "2000-02-29T00:00:00.000000Z")
    }

    @Test("expectation checks, including soft-deleted and tombstoned streams")
    func expectationChecks() throws {
        let stream = try StreamName("s-1")
        let active = StreamInfo(stream: stream, revision: 3, status: .active)
        let soft = StreamInfo(stream: stream, revision: 3, status: .softDeleted)
        let tomb = StreamInfo(stream: stream, revision: 3, status: .tombstoned)
        let cases: [(ExpectedRevision, StreamInfo?, Bool)] = [
            (.any, nil, true), (.any, active, true), (.any, soft, true),
            (.noStream, nil, true), (.noStream, active, false), (.noStream, soft, true),
            (.streamExists, nil, false), (.streamExists, active, true), (.streamExists, soft, false),
            (.exact(3), active, true), (.exact(2), active, false), (.exact(3), soft, true), (.exact(0), nil, false),
        ]
        for (expected, info, passes) in cases {
            let passed = (try? LogWriter.check(expected, against: info, stream: stream)) != nil
            #expect(passed == passes, "\(expected) against \(String(describing: info?.status))")
        }
        #expect {
            try LogWriter.check(.any, against: tomb, stream: stream)
        } throws: { ($0 as? ChronicleError)?.code == .streamDeleted }
    }
}
