import ArgumentParser
import ChronicleCore

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an entity's state: now, at a version, or at an instant.",
        discussion: "Example: chronicle get user 1234 --schema schema.yaml --at 2026-11-27T10:00:00Z"
    )

    @Argument(help: "The entity kind, such as user.")
    var entity: String

    @Argument(help: "The entity id, such as 1234.")
    var id: String

    @Option(help: "A version (0 or more) or an RFC 3339 instant: the state as it was then.")
    var at: String?

    @Flag(help: "Show a soft-deleted entity's last state.")
    var includeDeleted = false

    @OptionGroup var options: DataOptions

    func run() async throws {
        let document = try await options.withStore { try await $0.entity(entity, id, at: at, includeDeleted: includeDeleted) }
        if options.json {
            Output.line(document.canonicalText)
        } else {
            Output.line("\(entity) \(id), version \(plain(document["version"])) (position \(plain(document["position"])), updated \(plain(document["updatedAt"])))\(document["deleted"] == true ? ", deleted" : "")")
            Output.line((document["state"] ?? [:]).canonicalText)
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each event of an entity with the JSON Patch it made to the state."
    )

    @Argument(help: "The entity kind.")
    var entity: String

    @Argument(help: "The entity id.")
    var id: String

    @OptionGroup var options: DataOptions

    func run() async throws {
        let history = try await options.withStore { try await $0.history(entity, id) }
        if options.json {
            Output.line(history.canonicalText)
            return
        }
        guard case .array(let entries)? = history["history"] else { return }
        for entry in entries {
            let fields = ["version", "position", "recordedAt", "type"].map { plain(entry[$0]) }
            Output.line("v\(fields[0])\t@\(fields[1])\t\(fields[2])\t\(fields[3])\t\((entry["patch"] ?? []).canonicalText)")
        }
    }
}

struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the JSON Patch between two versions (or instants) of an entity."
    )

    @Argument(help: "The entity kind.")
    var entity: String

    @Argument(help: "The entity id.")
    var id: String

    @Option(help: "A version or an RFC 3339 instant.")
    var from: String

    @Option(help: "A version or an RFC 3339 instant.")
    var to: String

    @OptionGroup var options: DataOptions

    func run() async throws {
        let diff = try await options.withStore { try await $0.diff(entity, id, from: from, to: to) }
        Output.line(options.json ? diff.canonicalText : (diff["patch"] ?? []).canonicalText)
    }
}
