import ArgumentParser
import ChronicleCore

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
                Output.line(answer.canonicalText)
                return
            }
            guard case .array(let projections)? = answer["projections"], !projections.isEmpty else {
                Output.line("no projections (declare entities with --schema FILE)")
                return
            }
            for projection in projections {
                Output.line("\(plain(projection["name"]))\t\(plain(projection["lifecycle"]))\tcheckpoint \(plain(projection["checkpoint"]))\tlag \(plain(projection["lag"]?["events"])) events")
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
            if case .array(let violations)? = answer["uniqueViolations"] {
                for violation in violations {
                    let ids = violation["ids"].flatMap { if case .array(let ids) = $0 { ids.map { plain($0) }.joined(separator: ", ") } else { nil } } ?? ""
                    Output.progress("warning: \(plain(violation["entity"])).\(plain(violation["field"])) = \(violation["value"]?.canonicalText ?? "") is held by several live entities (\(ids)); the log was written before the unique rule, or imported")
                }
            }
            if options.json {
                Output.line(answer.canonicalText)
            } else {
                Output.line("rebuilt \(name): \(plain(answer["replayedEvents"])) events replayed in \(plain(answer["durationSeconds"])) s")
            }
        }
    }
}
