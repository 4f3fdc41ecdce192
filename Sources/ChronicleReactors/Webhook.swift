import AsyncHTTPClient
import ChronicleCore
import Crypto
import Foundation
import NIOCore

/// A reactor handler that `POST`s each event, as JSON, to a URL.
///
/// - Headers: `Idempotency-Key` (the delivery's key), `Chronicle-Timestamp` (when the attempt
///   was sent, in Unix seconds) and, with a secret,
///   `X-Chronicle-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` so the receiver
///   can check the call came from Chronicle — and, since the signature covers the timestamp,
///   refuse a recorded call replayed later (say, one older than five minutes). See
///   ``signature(timestamp:body:secret:)``.
/// - `2xx`: done; a body `{"events": [{"stream", "type", "data"?, "metadata"?}]}` lists outcome
///   events to append. `408`, `429`, `5xx`, timeouts and connection errors: retried. Any
///   other `4xx`: parked at once (``PermanentReactorFailure``).
public struct Webhook: Sendable {
    /// Where to send events.
    public var url: String
    /// How long to wait for an answer.
    public var timeout: Duration
    /// The HMAC key for the signature header, if any.
    public var secret: String?

    /// Creates a webhook.
    public init(url: String, timeout: Duration = .seconds(5), secret: String? = nil) {
        self.url = url
        self.timeout = timeout
        self.secret = secret
    }

    /// The reactor handler, sending with `client`.
    public func handler(client: HTTPClient) -> @Sendable (ReactorDelivery) async throws -> [ReactorOutcome] {
        let webhook = self
        return { delivery in try await webhook.send(delivery, client: client) }
    }

    func send(_ delivery: ReactorDelivery, client: HTTPClient) async throws -> [ReactorOutcome] {
        let body = delivery.event.jsonText
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: delivery.idempotencyKey)
        let timestamp = String(Timestamp.now() / 1_000_000)
        request.headers.add(name: "Chronicle-Timestamp", value: timestamp)
        if let secret {
            request.headers.add(name: "X-Chronicle-Signature", value: "sha256=" + Self.signature(timestamp: timestamp, body: body, secret: secret))
        }
        request.body = .bytes(ByteBuffer(string: body))
        let seconds = Int64(timeout.components.seconds) * 1000 + Int64(timeout.components.attoseconds / 1_000_000_000_000_000)
        let response = try await client.execute(request, timeout: .milliseconds(max(1, seconds)))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let status = Int(response.status.code)
        switch status {
        case 200..<300:
            return try Self.outcomes(text)
        case 408, 429, 500...:
            throw WebhookFailure(status: status, body: String(text.prefix(200)))
        default:
            throw PermanentReactorFailure(reason: "the webhook answered \(status): \(text.prefix(200))")
        }
    }

    /// The signature of a call: the hex HMAC-SHA256, keyed with `secret`, of the
    /// `Chronicle-Timestamp` header's value, a `.`, and the body. A receiver recomputes it
    /// from the headers and the raw body, compares in constant time, and refuses a timestamp
    /// too far from its own clock.
    public static func signature(timestamp: String, body: String, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data((timestamp + "." + body).utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    static func outcomes(_ text: String) throws -> [ReactorOutcome] {
        guard !text.isEmpty, let value = try? JSONValue(parsing: text), case .array(let events)? = value["events"] else { return [] }
        return try events.map { item in
            guard case .string(let stream)? = item["stream"], case .string(let type)? = item["type"] else {
                throw PermanentReactorFailure(reason: "an outcome event of the webhook's answer needs stream and type")
            }
            return ReactorOutcome(stream: try StreamName(stream), events: [EventData(type: type, data: item["data"] ?? [:], metadata: item["metadata"] ?? [:])])
        }
    }
}

/// A webhook answer worth retrying (408, 429, 5xx).
public struct WebhookFailure: Error, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// The start of the body.
    public var body: String
    /// A readable form.
    public var description: String { "the webhook answered \(status): \(body)" }
}
