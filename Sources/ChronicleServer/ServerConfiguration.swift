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

        /// Creates a configuration; the defaults serve loopback:8080 without keys.
        public init(
            host: String = "127.0.0.1",
            port: Int = 8080,
            apiKeys: APIKeys = .none,
            maximumRequestBytes: Int = 1 << 20,
            maximumEventsPerRequest: Int = 1000,
            heartbeatInterval: Duration = .seconds(15),
            shutdownGracePeriod: Duration = .seconds(10)
        ) {
            self.host = host
            self.port = port
            self.apiKeys = apiKeys
            self.maximumRequestBytes = maximumRequestBytes
            self.maximumEventsPerRequest = maximumEventsPerRequest
            self.heartbeatInterval = heartbeatInterval
            self.shutdownGracePeriod = shutdownGracePeriod
        }

        /// Whether `host` is a loopback address.
        public var bindsToLoopbackOnly: Bool {
            host == "localhost" || host == "::1" || host.hasPrefix("127.")
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

            enum CodingKeys: String, CodingKey, CaseIterable {
                case host, port, apiKeys, maximumRequestBytes, maximumEventsPerRequest, heartbeatSeconds, shutdownGraceSeconds
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
