import ChronicleCore
import Testing

/// Given / when / then for deciders, with a readable diff when the events differ.
///
/// ```swift
/// DeciderSpec(Account())
///     .given([opened, deposited(100)])
///     .when(.withdraw(30))
///     .then([withdrawn(30)])
/// ```
///
/// Events compare by type and data (ids and metadata are not part of a decision).
public struct DeciderSpec<D: Decider> {
    let decider: D
    var history: [EventData] = []

    /// Starts a specification for `decider`.
    public init(_ decider: D) {
        self.decider = decider
    }

    /// The events already in the stream.
    public func given(_ events: [EventData]) -> DeciderSpec {
        var copy = self
        copy.history = events
        return copy
    }

    /// The command under test.
    public func when(_ command: D.Command) -> Outcome {
        Outcome(result: Result { try decider.decide(command, decider.fold(history)) })
    }

    /// What the command did.
    public struct Outcome {
        let result: Result<[EventData], any Error>

        /// Expects exactly these events (types and data, in order).
        public func then(_ expected: [EventData], sourceLocation: SourceLocation = #_sourceLocation) {
            switch result {
            case .failure(let error):
                Issue.record("expected \(expected.count) event(s), but the command was refused: \(error)", sourceLocation: sourceLocation)
            case .success(let actual):
                let render = { (event: EventData) in "\(event.type) \(event.data.canonicalText)" }
                let want = expected.map(render), got = actual.map(render)
                guard want != got else { return }
                var lines = ["the decided events differ (- expected, + decided):"]
                for index in 0..<max(want.count, got.count) {
                    let left = index < want.count ? want[index] : nil, right = index < got.count ? got[index] : nil
                    if left == right { lines.append("  \(left!)") } else {
                        if let left { lines.append("- \(left)") }
                        if let right { lines.append("+ \(right)") }
                    }
                }
                Issue.record(Comment(rawValue: lines.joined(separator: "\n")), sourceLocation: sourceLocation)
            }
        }

        /// Expects the command to be refused with an error that `matches`.
        public func thenRefused(sourceLocation: SourceLocation = #_sourceLocation, _ matches: (any Error) -> Bool = { _ in true }) {
            switch result {
            case .success(let events):
                Issue.record("expected the command to be refused, but it decided \(events.map(\.type))", sourceLocation: sourceLocation)
            case .failure(let error):
                if !matches(error) { Issue.record("the command was refused with an unexpected error: \(error)", sourceLocation: sourceLocation) }
            }
        }
    }
}
