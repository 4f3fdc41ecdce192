import ChronicleClient
import ChronicleCore
import ChronicleTestSupport
import Foundation
import Testing

/// `outcome(of:matching:timeout:)`: the asynchronous work of one request, with a real
/// webhook receiver behind the server's reactor.
@Suite("ChronicleClient: outcomes of asynchronous work")
struct ClientOutcomeTests {
    @Test("sign-up: the welcome email's outcome event arrives on the request's correlation")
    func delivered() async throws {
        let receiver = Receiver(then: (200, #"{"events":[{"stream":"email-ada","type":"WelcomeEmailSent","data":{"to":"ada@example.com"}}]}"#))
        try await receiver.run { url in
            try await withClient(ServerSetup(schema: appSchema(webhook: url))) { chronicle, _ in
                let signup = try await chronicle.post(eventType: "UserCreated", payload: ["id": "ada", "email": "ada@example.com"])
                let outcome = try await chronicle.outcome(of: signup.correlationId, matching: ["WelcomeEmailSent"], after: signup.position - 1, timeout: .seconds(60))
                #expect(!outcome.isParked && outcome.reactor == nil && outcome.error == nil)
                #expect(outcome.event.type == "WelcomeEmailSent" && outcome.event.stream.rawValue == "email-ada" && outcome.event.data["to"] == "ada@example.com")
                #expect(outcome.event.metadata["correlationId"] == .string(signup.correlationId))
                #expect(outcome.event.metadata["causationId"] == signup.eventId.map(JSONValue.string))
                #expect(receiver.received.count == 1 && receiver.received[0].key == "welcome-email:\(signup.eventId ?? "")")

                // Asked again later, the outcome is already stored: found at once.
                let again = try await chronicle.outcome(of: signup.correlationId, matching: ["WelcomeEmailSent"], timeout: .seconds(60))
                #expect(again == outcome)
            }
        }
    }

    @Test("a receiver that refuses: the reactor parks the event and the client is told ($reactorParked)")
    func parked() async throws {
        let receiver = Receiver(then: (400, #"{"error":"no such mailbox"}"#))
        try await receiver.run { url in
            try await withClient(ServerSetup(schema: appSchema(webhook: url))) { chronicle, _ in
                let signup = try await chronicle.post(eventType: "UserCreated", payload: ["id": "eve", "email": "eve@example.com"])
                let outcome = try await chronicle.outcome(of: signup.correlationId, matching: ["WelcomeEmailSent"], timeout: .seconds(60))
                #expect(outcome.isParked && outcome.reactor == "welcome-email")
                #expect(outcome.error?.contains("400") == true, "the last error: \(outcome.error ?? "none")")
                #expect(outcome.event.data["eventId"] == signup.eventId.map(JSONValue.string))
            }
        }
    }

    @Test("nothing comes: a timeout error, within the time asked")
    func timeout() async throws {
        try await withClient { chronicle, _ in
            let receipt = try await chronicle.append(EventData(type: "UserCreated"), to: try StreamName("user-1"), correlationId: "quiet-1")
            let start = ContinuousClock.now
            do {
                _ = try await chronicle.outcome(of: receipt.correlationId, matching: ["WelcomeEmailSent"], timeout: .milliseconds(300))
                Issue.record("no outcome was stored")
            } catch let error as ChronicleClientError {
                #expect(error.code == .timeout)
            }
            #expect(ContinuousClock.now - start < .seconds(30))
        }
    }
}
