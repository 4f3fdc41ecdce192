import ArgumentParser
import ChronicleCore
import ChronicleServer

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an entity's state: now, at a version, or at an instant.",
        discussion: "Example: chronicle get user 1234 --schema schema.yaml --at 2026-11-27T10:00:00Z"
    )

    @OptionGroup var target: EntityArguments

    @Option(help: "A version (0 or more) or an RFC 3339 instant: the state as it was then.")
    var at: String?

    @Option(name: .customLong("as-of"), help: ArgumentHelp("A log position or an RFC 3339 instant: the read model's document as it was right after it.", valueName: "moment"))
    var asOf: String?

    @Flag(help: "Show a soft-deleted entity's last state.")
    var includeDeleted = false

    @OptionGroup var options: DataOptions

    func validate() throws {
        if at != nil && asOf != nil { throw ValidationError("give --at (a version of the entity) or --as-of (a moment of the log), not both.") }
    }

    func run() async throws {
        let document = try await options.withStore { store in
            if let asOf { return try await store.entity(target.entity, target.id, asOf: asOf, includeDeleted: includeDeleted, projection: target.projection) }
            return try await store.entity(target.entity, target.id, at: at, includeDeleted: includeDeleted, projection: target.projection)
        }
        if options.json {
            try Output.json(document)
        } else {
            Output.line("\(target.entity) \(target.id), version \(document.version) (position \(document.position), updated \(document.updatedAt))\(document.deleted ? ", deleted" : "")\(document.asOf.map { ", as of position \($0)" } ?? "")")
            Output.line(document.state.text)
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each event of an entity with the JSON Patch it made to the state."
    )

    @OptionGroup var target: EntityArguments

    @OptionGroup var options: DataOptions

    func run() async throws {
        let history = try await options.withStore { try await $0.history(target.entity, target.id, projection: target.projection) }
        if options.json {
            return try Output.json(history)
        }
        for entry in history.history {
            Output.line("v\(entry.version)\t@\(entry.position)\t\(entry.recordedAt)\t\(entry.type)\t\(entry.patch.text)")
        }
    }
}

struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the JSON Patch between two versions (or instants) of an entity."
    )

    @OptionGroup var target: EntityArguments

    @Option(help: "A version or an RFC 3339 instant.")
    var from: String

    @Option(help: "A version or an RFC 3339 instant.")
    var to: String

    @OptionGroup var options: DataOptions

    func run() async throws {
        let diff = try await options.withStore { try await $0.diff(target.entity, target.id, from: from, to: to, projection: target.projection) }
        if options.json {
            try Output.json(diff)
        } else {
            Output.line(diff.patch.text)
        }
    }
}

/// The entity a read names, and the projection it reads.
struct EntityArguments: ParsableArguments {
    @Argument(help: "The entity kind, such as user.")
    var entity: String

    @Argument(help: "The entity id, such as 1234.")
    var id: String

    @Option(help: "The projection to read (see `projections list`); default: the primary one.")
    var projection: String?
}
