import Foundation

/// The README's code examples that are also built targets (`Tests/ReadmeSnippet`,
/// `Tests/ClientReadmeSnippet`): where the repository is, the README's text of an example,
/// and the example's built executable.
public enum ReadmeExample {
    /// The repository's root directory.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The first fenced ```swift block of `markdown` whose code starts with `prefix`.
    public static func swiftBlock(in markdown: String, startingWith prefix: String) -> String? {
        let blocks = markdown.components(separatedBy: "```swift\n").dropFirst()
        return blocks.lazy.compactMap { $0.components(separatedBy: "\n```").first.map { $0 + "\n" } }.first { $0.hasPrefix(prefix) }
    }

    /// The built executable `name`, next to the test bundle (or in a directory above it).
    public static func binary(named name: String) -> URL? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }
}
