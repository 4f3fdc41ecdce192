import ChronicleClient
import Foundation

let environment = ProcessInfo.processInfo.environment
let chronicle = try ChronicleClient(
    configuration: .init(url: environment["CHRONICLE_URL"] ?? "http://127.0.0.1:8080", apiKey: environment["CHRONICLE_API_KEY"]),
    logger: Logger(label: "app")
)

// Sign up: a declarative write, checked by the server's schema (safe to retry: a lost
// answer is looked up by the request's correlation id, never posted twice)
let signup = try await chronicle.post(eventType: "UserCreated", payload: ["id": "ada", "email": "ada@example.com"])

// Be told when the welcome email went out, or that the mailer gave up (a parked event)
let welcome = try await chronicle.outcome(of: signup.correlationId, matching: ["WelcomeEmailSent"], timeout: .seconds(30))
print(welcome.isParked ? "the welcome email failed: \(welcome.error ?? "")" : "welcome email sent")

// Read your own write: the user once the read models include the sign-up
let user = try await chronicle.readYourWrite("user", "ada", after: signup.position)
print("user \(user.id), version \(user.version), verified: \(user.state["emailVerified"] == true)")

// An ad before the email is verified: the server's rule refuses it, synchronously
do {
    try await chronicle.post(eventType: "AdvertisementPosted", payload: ["userId": "ada", "title": "Bike"])
} catch let error as ChronicleClientError where error.rule == "email-unverified" {
    print("refused (\(error.status ?? 0)): \(error.detail)")
}

// Follow the log: catch-up, then live, resumed after dropped connections without a gap
for try await event in chronicle.subscribe(after: 0, filter: LogFilter(categories: ["user"])) {
    print(event.position, event.type)
    if event.id.uuidString.lowercased() == signup.eventId { break }
}
