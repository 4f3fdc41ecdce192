import Synchronization

/// The server's routes, for answering a known path with the wrong method: `405` with
/// `Allow` rather than `404`. Filled once the router is built (the same table
/// ``ChronicleServer/routes`` reads back).
final class RouteTable: Sendable {
    private let routes = Mutex<[(method: String, segments: [Substring])]>([])

    func set(_ routes: [ChronicleServer.Route]) {
        self.routes.withLock { $0 = routes.map { ($0.method, $0.path.split(separator: "/")) } }
    }

    /// The methods served at `path` (a request path, percent-encoded as sent), with `HEAD`
    /// wherever `GET` is; empty for an unknown path.
    func methods(at path: String) -> [String] {
        let segments = path.split(separator: "/")
        var methods = Set<String>()
        routes.withLock { routes in
            for route in routes where Self.matches(route.segments, Array(segments)) {
                methods.insert(route.method)
                if route.method == "GET" { methods.insert("HEAD") }
            }
        }
        return methods.sorted()
    }

    private static func matches(_ template: [Substring], _ segments: [Substring]) -> Bool {
        guard template.count == segments.count else { return false }
        return zip(template, segments).allSatisfy { pattern, segment in
            pattern.hasPrefix("{") ? !segment.isEmpty : pattern == segment
        }
    }
}
