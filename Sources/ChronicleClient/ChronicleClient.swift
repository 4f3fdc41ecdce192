import AsyncHTTPClient
import ChronicleCore
import Foundation
import Logging

/// A client for a Chronicle server, for apps and other servers: appends and declarative
/// writes with safe retries, entity reads (and reads of your own writes), the log, DCB
/// queries, subscriptions that survive dropped connections, and the outcomes of the
/// asynchronous work one request caused.
///
/// ```swift
/// let chronicle = ChronicleClient(configuration: .init(url: "http://127.0.0.1:8080", apiKey: key), logger: logger)
/// let signup = try await chronicle.post(eventType: "UserCreated", payload: ["email": "ada@example.com"])
/// let welcome = try await chronicle.outcome(of: signup.correlationId, matching: ["WelcomeEmailSent"], timeout: .seconds(30))
/// ```
///
/// The client is a value: copy it freely, share it between tasks. It sends its requests
/// through an `HTTPClient` it does not own (``defaultHTTPClient`` unless you pass one), so
/// there is nothing to close; ``withClient(configuration:http:logger:_:)`` gives one a client
/// of its own for a scope. An `HTTPClient` you pass should not retry connection
/// establishment itself (`connectionPool.retryConnectionEstablishment = false`): one that
/// does waits out the whole request timeout on a refused connection before this client's
/// own retries can start.
///
/// **Retries.** Reads are retried on a lost connection and on `503` (honouring
/// `Retry-After`), with bounded exponential backoff (``RetryPolicy``). Appends are retried
/// too: every event carries an id chosen here (``EventData/id``), so a retry of an append the
/// server already stored stores nothing and answers the original result, reported as
/// ``AppendReceipt/replayed``. Declarative writes (``post(eventType:payload:)``) get their
/// event id from the server, so after a lost connection the client first looks the request's
/// correlation up and only sends again if nothing was stored.
public struct ChronicleClient: Sendable {
    /// Where the server is, how to authenticate, and how hard to retry.
    public struct Configuration: Sendable {
        /// The server's base URL, such as `http://127.0.0.1:8080`.
        public var url: String
        /// An API key, sent as `Authorization: Bearer <key>`; `nil` for a server without keys.
        public var apiKey: String?
        /// How calls are retried.
        public var retry: RetryPolicy
        /// How long one attempt of a call may take (subscriptions excepted).
        public var requestTimeout: Duration
        /// How many consecutive failed reconnections a subscription accepts before it throws;
        /// `nil`: it keeps trying (with ``RetryPolicy/maximumDelay`` between attempts) until
        /// its task is cancelled.
        public var subscriptionReconnectAttempts: Int?
        /// How long a subscription's connection may stay silent — no event, no heartbeat —
        /// before it is taken for dead (a network that dropped it without a reset) and
        /// reopened after the last event; `nil`: never. Keep it above the server's heartbeat
        /// interval (15 s by default): the default, 45 s, is three missed heartbeats.
        public var subscriptionSilenceTimeout: Duration?

        /// Creates a configuration.
        public init(
            url: String, apiKey: String? = nil, retry: RetryPolicy = .init(), requestTimeout: Duration = .seconds(60),
            subscriptionReconnectAttempts: Int? = nil, subscriptionSilenceTimeout: Duration? = .seconds(45)
        ) {
            self.url = url
            self.apiKey = apiKey
            self.retry = retry
            self.requestTimeout = requestTimeout
            self.subscriptionReconnectAttempts = subscriptionReconnectAttempts
            self.subscriptionSilenceTimeout = subscriptionSilenceTimeout
        }
    }

    /// The configuration.
    public let configuration: Configuration
    let http: HTTPClient
    let logger: Logger
    /// The base URL without a trailing `/`.
    let base: String

    /// Creates a client that sends its requests through `http`.
    ///
    /// - Throws: ``ChronicleClientError`` (``ChronicleClientError/Code/invalidConfiguration``)
    ///   if the URL is not an `http` or `https` URL with a host.
    public init(configuration: Configuration, http: HTTPClient = ChronicleClient.defaultHTTPClient, logger: Logger) throws {
        guard let url = URL(string: configuration.url), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ChronicleClientError(.invalidConfiguration, "\(configuration.url.debugDescription) is not an http(s) URL such as http://127.0.0.1:8080.")
        }
        self.configuration = configuration
        self.http = http
        self.logger = logger
        var base = configuration.url
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
    }

    /// The `HTTPClient` clients share unless given one: never shut down (like
    /// `HTTPClient.shared`), 10 s to connect, and no connection retries of its own (the
    /// client's ``RetryPolicy`` decides).
    public static let defaultHTTPClient: HTTPClient = {
        HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration(HTTPClient.Configuration()))
    }()

    /// `configuration` with what this client needs: connection establishment not retried by
    /// the pool, and a connect timeout (10 s unless set).
    static func clientConfiguration(_ configuration: HTTPClient.Configuration) -> HTTPClient.Configuration {
        var configuration = configuration
        configuration.connectionPool.retryConnectionEstablishment = false
        if configuration.timeout.connect == nil { configuration.timeout.connect = .seconds(10) }
        return configuration
    }

    /// Runs `body` with a client that has an `HTTPClient` of its own (with
    /// `httpConfiguration`, its connection establishment left to this client's retries),
    /// shut down afterwards.
    public static func withClient<T>(
        configuration: Configuration, http httpConfiguration: HTTPClient.Configuration = .init(), logger: Logger,
        _ body: (ChronicleClient) async throws -> T
    ) async throws -> T {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration(httpConfiguration))
        do {
            let result = try await body(try ChronicleClient(configuration: configuration, http: http, logger: logger))
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}
