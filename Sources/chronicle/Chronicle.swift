import ArgumentParser
import ChronicleCore
import ChronicleServer
import Foundation

/// `chronicle`: the command-line tool.
@main
struct ChronicleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chronicle",
        abstract: "Chronicle: an event-sourcing database.",
        discussion: "Commands work on a data directory (--data, default ./chronicle-data) or a PostgreSQL database (--postgres URL). Add --json for output meant for scripts.",
        version: "chronicle \(ChronicleCommand.version)",
        subcommands: [Serve.self, Append.self, Read.self, Log.self, Tail.self, Query.self, Get.self, List.self, History.self, Diff.self, Changes.self, Blame.self, Effects.self, Delete.self, EraseSubject.self, Projections.self, Reactors.self, Verify.self, Export.self, Import.self, Bench.self]
    )

    /// This build's version, printed by `chronicle --version`.
    static let version = "0.1.0"

    /// Runs the command; errors become one line on stderr and a non-zero exit.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ChronicleError {
            Output.fail("\(error.message)", code: 1)
        } catch let error as CommandFailure {
            Output.fail(error.message, code: error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            Output.fail("\(message) (run 'chronicle help' for usage)", code: code.rawValue)
        }
    }
}

/// A failure of a command that is not a ``ChronicleError``: a message and an exit code.
struct CommandFailure: Error {
    var message: String
    var exitCode: Int32 = 1
}

/// Writing to stdout and stderr.
enum Output {
    /// Writes a line to stdout at once (no buffering, so `tail` output reaches pipes live).
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes a server wire value as one line of canonical JSON (keys sorted, as `--json`
    /// has always printed them).
    static func json(_ value: some Encodable) throws {
        line(try JSONValue(parsing: WireEncoder.text(value)).canonicalText)
    }

    static func progress(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func fail(_ message: String, code: Int32) -> Never {
        let single = message.replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("chronicle: error: \(single)\n".utf8))
        Foundation.exit(code)
    }
}
