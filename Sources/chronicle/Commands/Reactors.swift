import ArgumentParser
import ChronicleCore
import ChronicleServer
import Foundation

struct Reactors: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reactors of a running server: status, parked events, retry, skip.",
        discussion: "Reactors run in `chronicle serve` (declared under reactors: in the schema), so these commands need --server.",
        subcommands: [List.self, Parked.self, Retry.self, Skip.self]
    )

    struct Connection: ParsableArguments {
        @Option(help: ArgumentHelp("The server (or set CHRONICLE_SERVER).", valueName: "url"))
        var server: String?

        @Option(help: ArgumentHelp("The API key (or set CHRONICLE_API_KEY).", valueName: "key"))
        var apiKey: String?

        @Flag(help: "Print JSON.")
        var json = false

        func withServer<T>(_ body: (RemoteCLIStore) async throws -> T) async throws -> T {
            let environment = ProcessInfo.processInfo.environment
            guard let server = server ?? environment["CHRONICLE_SERVER"] else {
                throw CommandFailure(message: "reactors run in a server: give --server URL.", exitCode: 64)
            }
            return try await RemoteCLIStore.with(server: server, apiKey: apiKey ?? environment["CHRONICLE_API_KEY"], body)
        }
    }

    static func path(_ text: String) -> String {
        PathSegment.encode(text)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each reactor: checkpoint, lag, parked events, last error, next attempt.")
        @OptionGroup var connection: Connection

        func run() async throws {
            let answer = try await connection.withServer { try await $0.get("/v1/reactors", as: ReactorList.self) }
            if connection.json { return try Output.json(answer) }
            guard !answer.reactors.isEmpty else { return Output.line("no reactors") }
            for reactor in answer.reactors {
                var line = "\(reactor.name)\tcheckpoint \(reactor.checkpoint.map(String.init) ?? "null")\tlag \(reactor.lag.events) events (\(reactor.lag.seconds) s)\tin flight \(reactor.inFlight)\tdelivered \(reactor.delivered)\tfailures \(reactor.failures)\tparked \(reactor.parked)"
                if let error = reactor.lastError { line += "\tlast error at \(reactor.lastErrorAt ?? "?"): \(error)" }
                if let next = reactor.nextAttemptAt { line += "\tnext attempt at \(next)" }
                Output.line(line)
            }
        }
    }

    struct Parked: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A reactor's parked events, with their last error.")
        @Argument(help: "The reactor.") var name: String
        @OptionGroup var connection: Connection

        func run() async throws {
            let answer = try await connection.withServer { try await $0.get("/v1/reactors/\(Reactors.path(name))/parked", as: ParkedEventList.self) }
            if connection.json { return try Output.json(answer) }
            for event in answer.parked {
                Output.line("\(event.eventId.uuidString.lowercased())\t@\(event.position)\t\(event.attempts) attempts\t\(event.parkedAt)\t\(event.error)")
            }
        }
    }

    /// The arguments of the commands acting on one parked event.
    struct ParkedEventArguments: ParsableArguments {
        @Argument(help: "The reactor.") var name: String
        @Argument(help: "The parked event's id.") var id: String
        @OptionGroup var connection: Connection

        /// `POST /v1/reactors/{name}/parked/{id}/{action}`.
        func post<T: Decodable>(_ action: String, as type: T.Type) async throws -> T {
            try await connection.withServer { try await $0.post("/v1/reactors/\(Reactors.path(name))/parked/\(Reactors.path(id))/\(action)", as: T.self) }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deliver a parked event once more (parked again if it fails).")
        @OptionGroup var event: ParkedEventArguments

        func run() async throws {
            let answer = try await event.post("retry", as: ParkedEventRetryResponse.self)
            if event.connection.json { return try Output.json(answer) }
            if answer.delivered {
                Output.line("delivered \(event.id)")
            } else {
                throw CommandFailure(message: "the retry of \(event.id) failed; it is parked again (see chronicle reactors parked \(event.name)).")
            }
        }
    }

    struct Skip: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a parked event without delivering it.")
        @OptionGroup var event: ParkedEventArguments

        func run() async throws {
            let answer = try await event.post("skip", as: ParkedEventSkipResponse.self)
            if event.connection.json {
                try Output.json(answer)
            } else {
                Output.line("skipped \(event.id)")
            }
        }
    }
}
