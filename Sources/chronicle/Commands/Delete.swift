import ArgumentParser
import ChronicleCore
import Foundation

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete a stream: soft (hidden, can be restored or written again) or hard (purged for ever).",
        discussion: """
            Example: chronicle delete user-1 (soft), chronicle delete user-1 --mode hard --yes. \
            A hard delete purges the stream's events, removes its read-model rows and tombstones the name, for erasure requests; \
            it cannot be undone, so it asks for --yes. On a running server it needs the admin role.
            """
    )

    @Argument(help: "The stream, such as user-1234.")
    var stream: String

    @Option(help: "soft (default) or hard.")
    var mode: String = "soft"

    @Option(help: ArgumentHelp("any (default), streamExists, or the stream's current revision: delete only if it is still there.", valueName: "revision"))
    var expectedRevision: String = "any"

    @Flag(help: "Confirm a hard delete: its events are purged for ever.")
    var yes = false

    @OptionGroup var options: DataOptions

    func run() async throws {
        let stream = try parseStream(stream)
        guard let mode = DeleteMode(rawValue: mode) else {
            throw CommandFailure(message: "--mode must be soft or hard; got \(mode.debugDescription).", exitCode: 64)
        }
        guard let expected = ExpectedRevision(parsing: expectedRevision), expected != .noStream else {
            throw CommandFailure(message: "--expected-revision \(expectedRevision.debugDescription) is not any, streamExists or a revision number (0 or more).", exitCode: 64)
        }
        if mode == .hard && !yes {
            throw CommandFailure(message: "a hard delete purges every event of \(stream) for ever and the name can never be written again; add --yes to confirm (or use --mode soft, which can be undone).", exitCode: 64)
        }
        let result = try await options.withStore { try await $0.delete(stream, mode: mode, expected: expected) }
        if options.json {
            Output.line("{\"stream\":\(stream.rawValue.jsonQuoted),\"mode\":\"\(mode.rawValue)\",\"revision\":\(result.revision),\"position\":\(result.position)}")
        } else {
            Output.line("deleted \(stream) (\(mode.rawValue)) at revision \(result.revision), position \(result.position)")
        }
    }
}
