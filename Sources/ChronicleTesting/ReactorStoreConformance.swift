import ChronicleCore
import Foundation
import Testing

/// Checks a ``ReactorStore``: checkpoints that start where they should and only move from
/// where the caller saw them, outcomes appended with the checkpoint move, parking with its
/// `$reactorParked` record, and the parked list.
public enum ReactorStoreConformance {
    /// Runs the checks on a fresh store.
    public static func run(_ store: any ReactorStore) async throws {
        for index in 1...3 {
            try await store.append(to: StreamName("user-\(index)"), [EventData(type: "UserCreated", metadata: ["correlationId": .string("signup-\(index)")])])
        }
        // Checkpoints start at the head, or at 0 when asked; reading one does not create it.
        #expect(try await store.reactorPosition("late") == nil)
        #expect(try await store.reactorCheckpoint("late", fromBeginning: false) == 3)
        #expect(try await store.reactorCheckpoint("late", fromBeginning: true) == 3, "an existing checkpoint stays")
        #expect(try await store.reactorCheckpoint("mail", fromBeginning: true) == 0)
        #expect(try await store.reactorPosition("mail") == 0)

        // Completing a reaction appends its outcomes and moves the checkpoint, together.
        let trigger = try #require(try await store.read(StreamName("user-1")).first)
        let outcomes = ReactorOutcome.correlated([ReactorOutcome(stream: try StreamName("email-1"), events: [EventData(type: "WelcomeEmailSent")])], trigger: trigger)
        try await store.completeReaction("mail", after: 0, through: 1, outcomes: outcomes)
        #expect(try await store.reactorPosition("mail") == 1)
        let sent = try await store.read(StreamName("email-1"))
        #expect(sent.map(\.type) == ["WelcomeEmailSent"] && sent.first?.position == 4)
        #expect(sent.first?.metadata["correlationId"] == "signup-1")
        #expect(sent.first?.metadata["causationId"] == .string(trigger.id.uuidString.lowercased()))

        // A stale checkpoint (another runner moved it) changes nothing: no outcomes, no move.
        try await store.completeReaction("mail", after: 0, through: 2, outcomes: outcomes)
        #expect(try await store.reactorPosition("mail") == 1)
        #expect(try await store.read(StreamName("email-1")).count == 1, "outcomes are not appended twice")
        #expect(try await store.headPosition() == 4)

        // Parking moves the checkpoint past the event and records $reactorParked on its correlation.
        let second = try #require(try await store.read(StreamName("user-2")).first)
        let parked = ParkedEvent(reactor: "mail", position: second.position, eventID: second.id, attempts: 3, error: "HTTP 503", parkedAtMicroseconds: Timestamp.now())
        try await store.park(parked, trigger: second, after: 1)
        #expect(try await store.reactorPosition("mail") == 2)
        #expect(try await store.parkedEvents("mail") == [parked])
        let record = try #require(try await store.read(.reactors).last)
        #expect(record.type == "$reactorParked" && record.data["reactor"] == "mail" && record.data["position"] == .integer(second.position) && record.data["error"] == "HTTP 503")
        #expect(record.metadata["correlationId"] == "signup-2")
        #expect(record.metadata["causationId"] == .string(second.id.uuidString.lowercased()))
        let head = try await store.headPosition()
        try await store.park(parked, trigger: second, after: 0)
        #expect(try await store.headPosition() == head, "a stale checkpoint parks nothing")

        // Parking with no checkpoint (an operator's retry that failed again) replaces the entry.
        let third = try #require(try await store.read(StreamName("user-3")).first)
        let later = ParkedEvent(reactor: "mail", position: third.position, eventID: third.id, attempts: 1, error: "HTTP 400", parkedAtMicroseconds: Timestamp.now())
        try await store.park(later, trigger: third, after: 2)
        var again = parked
        again.attempts = 4
        try await store.park(again, trigger: second, after: nil)
        #expect(try await store.reactorPosition("mail") == 3)
        #expect(try await store.parkedEvents("mail").map(\.position) == [second.position, third.position], "oldest first")
        #expect(try await store.parkedEvents("mail").map(\.attempts) == [4, 1])
        #expect(try await store.parkedEvents("other").isEmpty)

        // Unparking returns and removes the entry; an unknown one is nil.
        #expect(try await store.unpark("mail", eventID: second.id)?.attempts == 4)
        #expect(try await store.unpark("mail", eventID: second.id) == nil)
        #expect(try await store.unpark("other", eventID: third.id) == nil)
        #expect(try await store.parkedEvents("mail").map(\.eventID) == [third.id])
    }
}
