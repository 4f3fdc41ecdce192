import ArgumentParser
import ChronicleCore
import ChronicleServer

struct Projections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List projections, or rebuild one's documents from the events.",
        subcommands: [List.self, Rebuild.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each projection: lifecycle, checkpoint, lag.")

        @OptionGroup var options: DataOptions

        func run() async throws {
            let answer = try await options.withStore { try await $0.projections() }
            if options.json {
                return try Output.json(answer)
            }
            guard !answer.projections.isEmpty else {
                Output.line("no projections (declare entities with --schema FILE)")
                return
            }
            for projection in answer.projections {
                Output.line("\(projection.name)\t\(projection.lifecycle)\tcheckpoint \(projection.checkpoint)\tlag \(projection.lag.events) events")
            }
        }
    }

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop a projection's documents and rebuild them from the events alone.",
            discussion: "Readers keep the old documents until the rebuild commits; appends wait meanwhile."
        )

        @Argument(help: "The projection, such as entities.")
        var name: String

        @OptionGroup var options: DataOptions

        func run() async throws {
            Output.progress("rebuilding \(name)…")
            let answer = try await options.withStore { try await $0.rebuild(name) }
            for violation in answer.uniqueViolations {
                Output.progress("warning: \(violation.entity).\(violation.field) = \(violation.value.text) is held by several live entities (\(violation.ids.joined(separator: ", "))); the log was written before the unique rule, or imported")
            }
            if options.json {
                try Output.json(answer)
            } else {
                Output.line("rebuilt \(name): \(answer.replayedEvents) events replayed in \(answer.durationSeconds) s")
            }
        }
    }
}
