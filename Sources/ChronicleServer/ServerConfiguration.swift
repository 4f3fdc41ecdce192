import ChronicleCore
import Foundation
import Yams

extension ChronicleServer {
    /// Server settings: where to listen, who may do what, and the limits.
    ///
    /// Read from a YAML file with ``load(file:environment:)``:
    ///
    /// ```yaml
    /// host: 0.0.0.0
    /// port: 8080
    /// apiKeys:
    ///   - { role: admin, key: "replace-with-a-long-random-key" }
    ///   - { role: read,  key: "another-long-random-key" }
    /// maximumRequestBytes: 1048576
    /// maximumEventsPerRequest: 1000
    /// heartbeatSeconds: 15
    /// requestHeaderTimeoutSeconds: 10
    /// idleTimeoutSeconds: 60
    /// requestBodyTimeoutSeconds: 30
    /// maximumConnections: 10000
    /// maximumConnectionsPerAddress: 1000
    /// corsOrigins: ["https://app.example.com"]
    /// ```
    public struct Configuration: Sendable {
        /// The address to bind. Anything but loopback requires API keys.
        public var host: String
        /// The port; 0 picks a free one.
        public var port: Int
        /// The API keys; none means an open server, allowed on loopback only.
        public var apiKeys: APIKeys
        /// The largest request body, in bytes. Default 1 MiB.
        public var maximumRequestBytes: Int
        /// The most events in one request. Default 1,000.
        public var maximumEventsPerRequest: Int
        /// How often idle subscriptions get a heartbeat.
        public var heartbeatInterval: Duration
        /// How long a graceful shutdown waits for requests and subscriptions to finish.
        public var shutdownGracePeriod: Duration
        /// How long a new connection may take to send its first request head. Default 10 s.
        public var requestHeaderTimeout: Duration
        /// How long a keep-alive connection may stay idle between requests. Default 60 s.
        public var idleTimeout: Duration
        /// How long a request's body may take to arrive once its head is in; a slower one
        /// gets a `408` and the connection is closed. Default 30 s.
        public var requestBodyTimeout: Duration
        /// The most open connections; at the cap new ones wait until one closes. Default
        /// 10,000, or three quarters of the process's file-descriptor limit if that is lower.
        public var maximumConnections: Int
        /// The most open connections of one client address; more get a `429` and are closed.
        /// Default 1,000. Behind a reverse proxy every client has the proxy's address: raise it.
        public var maximumConnectionsPerAddress: Int
        /// Origins whose browsers may call the API (CORS); none by default. `*` allows any.
        public var corsOrigins: [String]

        /// Creates a configuration; the defaults serve loopback:8080 without keys.
        public init(
            host: String = "127.0.0.1",
            port: Int = 8080,
            apiKeys: APIKeys = .none,
            maximumRequestBytes: Int = 1 << 20,
            maximumEventsPerRequest: Int = 1000,
            heartbeatInterval: Duration = .seconds(15),
            shutdownGracePeriod: Duration = .seconds(10),
            requestHeaderTimeout: Duration = .seconds(10),
            idleTimeout: Duration = .seconds(60),
            requestBodyTimeout: Duration = .seconds(30),
            maximumConnections: Int = Configuration.defaultMaximumConnections,
            maximumConnectionsPerAddress: Int = 1000,
            corsOrigins: [String] = []
        ) {
            self.host = host
            self.port = port
            self.apiKeys = apiKeys
            self.maximumRequestBytes = maximumRequestBytes
            self.maximumEventsPerRequest = maximumEventsPerRequest
            self.heartbeatInterval = heartbeatInterval
            self.shutdownGracePeriod = shutdownGracePeriod
            self.requestHeaderTimeout = requestHeaderTimeout
            self.idleTimeout = idleTimeout
            self.requestBodyTimeout = requestBodyTimeout
            self.maximumConnections = maximumConnections
            self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
            self.corsOrigins = corsOrigins
        }

        /// 10,000 connections, or three quarters of the file-descriptor limit if lower (the
        /// rest is left for the store, the log and outgoing webhooks).
        public static var defaultMaximumConnections: Int {
            var limit = rlimit()
            guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 1 << 40 else { return 10_000 }
            return max(64, min(10_000, Int(limit.rlim_cur) / 4 * 3))
        }

        /// Whether `host` is a loopback address: every address it resolves to is loopback
        /// (a name such as `127.example.com` is resolved, not read as an address).
        public var bindsToLoopbackOnly: Bool {
            LoopbackCheck.resolvesToLoopbackOnly(host)
        }

        /// Refuses an open server on a non-loopback address.
        public func validate() throws {
            if apiKeys.isEmpty && !bindsToLoopbackOnly {
                throw ChronicleError(.invalidInput, "Refusing to listen on \(host) without API keys: anyone who can reach it could read and write everything. Configure apiKeys in --config (or CHRONICLE_API_KEYS=role:key,…), or listen on 127.0.0.1.")
            }
            if !(0...65535).contains(port) {
                throw ChronicleError(.invalidInput, "Port \(port) is not between 0 and 65535.")
            }
            if maximumRequestBytes < 1024 {
                throw ChronicleError(.invalidInput, "maximumRequestBytes is \(maximumRequestBytes); it must be at least 1024.")
            }
            if maximumEventsPerRequest < 1 {
                throw ChronicleError(.invalidInput, "maximumEventsPerRequest must be at least 1.")
            }
            if maximumConnections < 1 {
                throw ChronicleError(.invalidInput, "maximumConnections is \(maximumConnections); it must be at least 1.")
            }
            if maximumConnectionsPerAddress < 1 {
                throw ChronicleError(.invalidInput, "maximumConnectionsPerAddress is \(maximumConnectionsPerAddress); it must be at least 1.")
            }
            if requestHeaderTimeout <= .zero || idleTimeout <= .zero || requestBodyTimeout <= .zero {
                throw ChronicleError(.invalidInput, "requestHeaderTimeoutSeconds, idleTimeoutSeconds and requestBodyTimeoutSeconds must be more than 0.")
            }
            for origin in corsOrigins where origin != "*" && !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) {
                throw ChronicleError(.invalidInput, "corsOrigins has \(origin.debugDescription); an origin is scheme://host[:port] (such as https://app.example.com), or * for any.")
            }
        }

        private struct File: Decodable {
            struct Key: Decodable {
                var role: Role
                var key: String
            }

            var host: String?
            var port: Int?
            var apiKeys: [Key]?
            var maximumRequestBytes: Int?
            var maximumEventsPerRequest: Int?
            var heartbeatSeconds: Double?
            var shutdownGraceSeconds: Double?
            var requestHeaderTimeoutSeconds: Double?
            var idleTimeoutSeconds: Double?
            var requestBodyTimeoutSeconds: Double?
            var maximumConnections: Int?
            var maximumConnectionsPerAddress: Int?
            var corsOrigins: [String]?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case host, port, apiKeys, maximumRequestBytes, maximumEventsPerRequest, heartbeatSeconds, shutdownGraceSeconds
                case requestHeaderTimeoutSeconds, idleTimeoutSeconds, requestBodyTimeoutSeconds, maximumConnections, maximumConnectionsPerAddress, corsOrigins
            }
        }

        /// Reads a YAML configuration file (if given) and `CHRONICLE_API_KEYS`.
        ///
        /// - Throws: ``ChronicleError`` naming the file, the line when known, and what is wrong.
        public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Configuration {
            var configuration = Configuration()
            var keys: [(key: String, role: Role)] = []
            if let file {
                let text: String
                do {
                    text = try String(contentsOfFile: file, encoding: .utf8)
                } catch {
                    throw ChronicleError(.invalidInput, "Cannot read the configuration file \(file): \(error.localizedDescription).")
                }
                let parsed: File
                do {
                    if let node = try Yams.compose(yaml: text), case .mapping(let mapping) = node {
                        let known = Set(File.CodingKeys.allCases.map(\.rawValue))
                        for (key, _) in mapping {
                            if let name = key.string, !known.contains(name) {
                                throw ChronicleError(.invalidInput, "\(file), line \(key.mark?.line ?? 0): unknown setting \(name.debugDescription); the settings are \(known.sorted().joined(separator: ", ")).")
                            }
                        }
                    }
                    parsed = try YAMLDecoder().decode(File.self, from: text)
                } catch let error as ChronicleError {
                    throw error
                } catch {
                    throw ChronicleError(.invalidInput, "\(file) is not a valid configuration: \(error)")
                }
                configuration.host = parsed.host ?? configuration.host
                configuration.port = parsed.port ?? configuration.port
                configuration.maximumRequestBytes = parsed.maximumRequestBytes ?? configuration.maximumRequestBytes
                configuration.maximumEventsPerRequest = parsed.maximumEventsPerRequest ?? configuration.maximumEventsPerRequest
                if let seconds = parsed.heartbeatSeconds { configuration.heartbeatInterval = .milliseconds(Int64(seconds * 1000)) }
                if let seconds = parsed.shutdownGraceSeconds { configuration.shutdownGracePeriod = .milliseconds(Int64(seconds * 1000)) }
                if let seconds = parsed.requestHeaderTimeoutSeconds { configuration.requestHeaderTimeout = .milliseconds(Int64(seconds * 1000)) }
                if let seconds = parsed.idleTimeoutSeconds { configuration.idleTimeout = .milliseconds(Int64(seconds * 1000)) }
                if let seconds = parsed.requestBodyTimeoutSeconds { configuration.requestBodyTimeout = .milliseconds(Int64(seconds * 1000)) }
                configuration.maximumConnections = parsed.maximumConnections ?? configuration.maximumConnections
                configuration.maximumConnectionsPerAddress = parsed.maximumConnectionsPerAddress ?? configuration.maximumConnectionsPerAddress
                configuration.corsOrigins = parsed.corsOrigins ?? configuration.corsOrigins
                keys += (parsed.apiKeys ?? []).map { ($0.key, $0.role) }
            }
            if let value = environment["CHRONICLE_API_KEYS"], !value.isEmpty {
                keys += try APIKeys.pairs(fromEnvironment: value)
            }
            configuration.apiKeys = try APIKeys(keys)
            return configuration
        }
    }
}
