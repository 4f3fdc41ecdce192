import ArgumentParser
import ChronicleCore
import Foundation

struct Append: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append one event to a stream.",
        discussion: "Example: chronicle append user-1 UserCreated '{\"email\":\"ada@example.com\"}' --expected-revision noStream"
    )

    @Argument(help: "The stream, such as user-1234.")
    var stream: String

    @Argument(help: "The event type, such as UserCreated.")
    var type: String

    @Argument(help: "The event's data: a JSON object, or - to read it from stdin.")
    var data: String

    @Option(help: ArgumentHelp("any, noStream, streamExists, or the stream's current revision.", valueName: "revision"))
    var expectedRevision: String = "any"

    @Option(help: "Metadata: a JSON object.")
    var metadata: String = "{}"

    @Option(help: "The event id (a UUID), to make retries idempotent. Default: a new one.")
    var id: String?

    @Option(help: ArgumentHelp("A tag for queries and conditions, such as user:ada (repeatable).", valueName: "tag"))
    var tag: [String] = []

    @OptionGroup var options: DataOptions

    func run() async throws {
        let stream = try parseStream(stream)
        guard let expected = ExpectedRevision(parsing: expectedRevision) else {
            throw CommandFailure(message: "--expected-revision \(expectedRevision.debugDescription) is not any, noStream, streamExists or a revision number (0 or more).", exitCode: 64)
        }
        var eventID = UUID.timeOrdered()
        if let id {
            guard let parsed = UUID(uuidString: id) else {
                throw CommandFailure(message: "--id \(id.debugDescription) is not a UUID (such as 3f2b8c1e-5d4a-4e2f-9b7c-1a2b3c4d5e6f).", exitCode: 64)
            }
            eventID = parsed
        }
        let text = data == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : data
        let json = try JSONValue(parsing: text)
        let meta = try JSONValue(parsing: metadata)
        let event = EventData(id: eventID, type: type, data: json, metadata: meta, tags: tag)
        let result = try await options.withStore { try await $0.append(event, to: stream, expected: expected) }
        if options.json {
            Output.line("{\"stream\":\(stream.rawValue.jsonQuoted),\"id\":\"\(eventID.uuidString.lowercased())\",\"revision\":\(result.lastRevision),\"position\":\(result.lastPosition)}")
        } else {
            Output.line("appended \(type) to \(stream) at revision \(result.lastRevision), position \(result.lastPosition)")
        }
    }
}
