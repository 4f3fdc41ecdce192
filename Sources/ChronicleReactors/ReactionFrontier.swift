import ChronicleCore

/// The order in which finished deliveries are committed.
///
/// A reactor delivers the events of several streams at once, so they finish out of order;
/// its checkpoint may only move past an event once every event before it is done. The
/// frontier collects results and hands back, in log order, what can be committed: the
/// outcome events of a run of delivered events with the checkpoint at its last one, and
/// parked events one by one.
package struct ReactionFrontier {
    /// How one event's delivery ended.
    package enum Result {
        /// The handler succeeded; these outcome events (already correlated) are to be appended.
        case delivered([ReactorOutcome])
        /// The handler failed for good; the event is to be parked.
        case parked(ParkedEvent, trigger: RecordedEvent)
    }

    /// One store write, in the order they must be made.
    package enum Commit {
        /// Append these outcomes (those of the event at `through`, if any) and move the
        /// checkpoint to `through`.
        case complete(through: Int64, outcomes: [ReactorOutcome])
        /// Park this event and move the checkpoint to its position.
        case park(ParkedEvent, trigger: RecordedEvent)
    }

    private let positions: [Int64]
    private var results: [Int64: Result] = [:]
    private var next = 0

    /// Starts with the positions of the events being delivered, ascending.
    package init(positions: [Int64]) {
        self.positions = positions
    }

    /// Records how the delivery of the event at `position` ended.
    package mutating func record(_ result: Result, at position: Int64) {
        results[position] = result
    }

    /// Whether every event has been committed.
    package var isDone: Bool { next == positions.count }

    /// The commits that are ready (every event before them is done), and forgets them.
    ///
    /// Moving a checkpoint is a durable write, so a run of deliveries without outcome events
    /// waits until it holds `batch` events (or `flush` is set, at the end of a page): after a
    /// crash those are delivered again, which at-least-once allows. Outcomes and parked events
    /// are committed at once, so that clients are told without delay.
    package mutating func takeReady(batch: Int = 1, flush: Bool = false) -> [Commit] {
        if !flush && batch > 1 {
            var ready = 0, urgent = false
            while next + ready < positions.count, let result = results[positions[next + ready]] {
                if case .delivered(let outcomes) = result, outcomes.isEmpty {
                    ready += 1
                } else {
                    urgent = true
                    break
                }
            }
            if !urgent && ready < batch { return [] }
        }
        var commits: [Commit] = []
        var outcomes: [ReactorOutcome] = []
        var through: Int64?
        while next < positions.count, let result = results.removeValue(forKey: positions[next]) {
            switch result {
            case .delivered(let more):
                outcomes += more
                through = positions[next]
                if !more.isEmpty {
                    // A commit carries one event's outcomes, and ends at that event: if the
                    // write path refuses them, that event alone is parked.
                    commits.append(.complete(through: positions[next], outcomes: outcomes))
                    outcomes = []
                    through = nil
                }
            case .parked(let parked, let trigger):
                if let done = through {
                    commits.append(.complete(through: done, outcomes: outcomes))
                    outcomes = []
                    through = nil
                }
                commits.append(.park(parked, trigger: trigger))
            }
            next += 1
        }
        if let through { commits.append(.complete(through: through, outcomes: outcomes)) }
        return commits
    }

    /// The events split into lanes delivered one after the other: one lane per stream (in
    /// order of first appearance), or a single lane in log order when `concurrency` is 1.
    package static func lanes(_ events: [RecordedEvent], concurrency: Int) -> [[RecordedEvent]] {
        guard concurrency > 1 else { return events.isEmpty ? [] : [events] }
        var lanes: [[RecordedEvent]] = []
        var laneOfStream: [StreamName: Int] = [:]
        for event in events {
            if let lane = laneOfStream[event.stream] {
                lanes[lane].append(event)
            } else {
                laneOfStream[event.stream] = lanes.count
                lanes.append([event])
            }
        }
        return lanes
    }
}
