import AsyncHTTPClient
import ChronicleCore
import ChronicleServer
import ChronicleTesting
import ChronicleTestSupport
import Foundation
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection that sends a subscription request and then never reads a byte, with a
/// small receive buffer so the kernel holds little for it: what a stuck client looks like.
struct NeverReadingSubscriber {
    let descriptor: Int32

    enum Transport: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case sse
        case websocket
        var testDescription: String { rawValue }
    }

    static func open(port: Int, _ transport: Transport) throws -> NeverReadingSubscriber {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw CLIError(message: "socket() failed: \(errno)") }
        var size: Int32 = 4096
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            _ = Glibc.close(descriptor)
            throw CLIError(message: "connect() failed: \(errno)")
        }
        let request = switch transport {
        case .sse: "GET /v1/subscribe?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
        case .websocket: "GET /v1/ws?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        }
        let bytes = Array(request.utf8)
        guard send(descriptor, bytes, bytes.count, 0) == bytes.count else {
            _ = Glibc.close(descriptor)
            throw CLIError(message: "send() failed: \(errno)")
        }
        return NeverReadingSubscriber(descriptor: descriptor)
    }

    func close() { _ = Glibc.close(descriptor) }
}

/// The resident memory of a process, from `/proc/PID/status`.
func residentBytes(of process: ChildProcess) throws -> Int {
    guard let memory = ProcessMemory.read(processIdentifier: process.processIdentifier), memory.residentBytes > 0 else {
        throw CLIError(message: "no VmRSS in /proc/\(process.processIdentifier)/status")
    }
    return Int(memory.residentBytes)
}

/// `chronicle serve` as a child process, so that its resident memory is its own: subscribers
/// that never read while 24 MB of events are appended must not make it buffer those events.
///
/// The bound: each subscriber may hold one page of its feed (about 512 KiB of events, see
/// `LiveFeed.pageBytes`) plus what NIO accepts before the channel stops being writable
/// (64 KiB) and the frame being written: under 2 MiB each. The server's own growth from
/// appending 24 MB over HTTP (request buffers, SQLite's page cache, PostgreSQL's rows,
/// allocator arenas) is measured before the subscribers arrive, by a first round of the same
/// appends, and 128 MiB is allowed on top of that (a loaded machine once showed about 110 MiB
/// over the baseline, cause unknown; glibc keeps freed memory in per-thread arenas, so the
/// server runs with `MALLOC_ARENA_MAX=2`). A
/// server that buffered what it cannot send would hold 24 MB for each of the 8 subscribers:
/// about 190 MiB more (seen: 282–315 MiB resident, against bounds of about 110 MiB).
@Suite("a subscriber that never reads: bounded memory, released when it goes", .serialized)
struct SlowSubscriberCLITests {
    static let subscribers = 8
    static let bytesPerSubscriber = 2 << 20
    static let slack = 128 << 20

    @Test("on SQLite", arguments: NeverReadingSubscriber.Transport.allCases)
    func sqlite(_ transport: NeverReadingSubscriber.Transport) async throws {
        try await withCLI { cli in try await check(cli, [], transport) }
    }

    @Test("on PostgreSQL", TestPostgres.enabled, arguments: NeverReadingSubscriber.Transport.allCases)
    func postgres(_ transport: NeverReadingSubscriber.Transport) async throws {
        try await withCLI { cli in try await check(cli, ["--postgres", try TestDatabase.freshURL()], transport) }
    }

    /// Appends about 24 MB: 60 appends of 4 events of ~100 KB each (large events, so that a
    /// page of a few hundred of them would be far over the bound).
    func appendBulk(_ http: HTTPClient, _ url: String, round: Int) async throws {
        let text = String(repeating: "x", count: 100_000)
        let events = (0..<4).map { #"{"type":"Bulk","data":{"text":"\#(text)","n":\#($0)}}"# }.joined(separator: ",")
        for request in 0..<60 {
            let answer = try await call(http, "\(url)/v1/streams/bulk-\(round)x\(request)", #"{"events":[\#(events)]}"#)
            #expect(answer.status == 201, "\(answer.body)")
        }
    }

    func subscriberGauge(_ http: HTTPClient, _ url: String, _ transport: NeverReadingSubscriber.Transport) async throws -> Int? {
        let metrics = try await call(http, "\(url)/metrics").body
        let prefix = #"chronicle_subscribers{transport="\#(transport.rawValue)"} "#
        guard let line = metrics.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return Double(line.dropFirst(prefix.count)).map { Int($0) }
    }

    func check(_ cli: CLI, _ extra: [String], _ transport: NeverReadingSubscriber.Transport) async throws {
        let (url, server, _) = try await ServeCLITests().startServer(cli, extra, environment: ["MALLOC_ARENA_MAX": "2"])
        defer { if server.isRunning { server.terminate() } }
        let port = Int(url.split(separator: ":").last!)!
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() as EventLoopFuture<Void> }

        // A first round of appends, with nobody subscribed: the server's growth from the
        // appends themselves is in the baseline.
        try await appendBulk(http, url, round: 0)
        let baseline = try residentBytes(of: server)

        var subscribers: [NeverReadingSubscriber] = []
        defer { for subscriber in subscribers { subscriber.close() } }
        for _ in 0..<Self.subscribers {
            subscribers.append(try NeverReadingSubscriber.open(port: port, transport))
        }
        try await pollUntilAsync("the server to count \(Self.subscribers) subscribers") {
            try await subscriberGauge(http, url, transport) == Self.subscribers
        }
        // They replay the first round and then follow the second, live, never reading.
        try await appendBulk(http, url, round: 1)
        // A subscriber that does read catches up with the head: by then the server has had
        // every chance to push the same events at the stuck ones.
        try await readToTheEnd(http, url, events: 2 * 60 * 4)
        let loaded = try residentBytes(of: server)
        let bound = baseline + Self.subscribers * Self.bytesPerSubscriber + Self.slack
        #expect(loaded <= bound, "resident memory went from \(baseline >> 20) MiB to \(loaded >> 20) MiB with \(Self.subscribers) subscribers that never read; the bound is \(bound >> 20) MiB")

        for subscriber in subscribers { subscriber.close() }
        subscribers = []
        try await pollUntilAsync("the server to let the subscribers go") {
            try await subscriberGauge(http, url, transport) == 0
        }
        let released = try residentBytes(of: server)
        #expect(released <= bound, "resident memory is \(released >> 20) MiB after the subscribers left; the bound is \(bound >> 20) MiB")
        server.terminate()
        try await waitForExit(server, seconds: 60)
    }

    /// Follows `/v1/subscribe` from the start until it has seen `events` events, within a
    /// deadline (the client's timeout covers the response head only).
    func readToTheEnd(_ http: HTTPClient, _ url: String, events: Int) async throws {
        try await withDeadline(seconds: 300, "\(events) events from /v1/subscribe") {
            try await Self.follow(http, url, events: events)
        }
    }

    static func follow(_ http: HTTPClient, _ url: String, events: Int) async throws {
        var request = HTTPClientRequest(url: "\(url)/v1/subscribe?after=0")
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await http.execute(request, timeout: .seconds(300))
        // Counts "\nid: " (each event's first line follows a blank line), carrying the last
        // bytes of a chunk over to the next.
        let marker = Array("\nid: ".utf8)
        var seen = 0
        var carry: [UInt8] = []
        for try await chunk in response.body {
            let bytes = carry + chunk.readableBytesView
            var index = 0
            while index + marker.count <= bytes.count {
                if bytes[index] == marker[0], Array(bytes[index..<index + marker.count]) == marker { seen += 1 }
                index += 1
            }
            carry = Array(bytes.suffix(marker.count - 1))
            if seen >= events { return }
        }
        throw CLIError(message: "the subscription ended after \(seen) of \(events) events")
    }
}

func pollUntilAsync(_ what: String, seconds: Double = 60, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while try await !condition() {
        if ContinuousClock.now > deadline { throw CLIError(message: "gave up after \(seconds) s waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}
