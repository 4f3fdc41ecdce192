import Foundation
import NIOCore

/// The web console's files and `/client.js`: resource files of this target, read once and
/// served byte for byte (plain HTML, CSS and JavaScript modules; no build step, no CDN).
///
/// The console is `Resources/console/` (served at `/` and `/console/{file}`); the client module
/// is `Resources/client.js` (served at `/client.js`, and imported by the console from there).
enum ConsoleAssets {
    /// One file: its bytes and media type.
    struct File: Sendable {
        var bytes: ByteBuffer
        var contentType: String
    }

    /// The console's files by name (`index.html`, `app.js`…).
    static let files: [String: File] = {
        guard let directory = Bundle.module.url(forResource: "console", withExtension: nil),
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            fatalError("ChronicleServer's resource bundle has no console directory; ship Chronicle_ChronicleServer.resources next to the binary.")
        }
        var files: [String: File] = [:]
        for name in names where !name.hasPrefix(".") {
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(name)) else { continue }
            files[name] = File(bytes: ByteBuffer(bytes: data), contentType: contentType(of: name))
        }
        return files
    }()

    /// `/client.js`.
    static let client: File = {
        guard let url = Bundle.module.url(forResource: "client", withExtension: "js"), let data = try? Data(contentsOf: url) else {
            fatalError("ChronicleServer's resource bundle has no client.js; ship Chronicle_ChronicleServer.resources next to the binary.")
        }
        return File(bytes: ByteBuffer(bytes: data), contentType: contentType(of: "client.js"))
    }()

    /// The media type of a file name, by its extension.
    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }

    /// The console's Content-Security-Policy: everything from this server and nothing from
    /// anywhere else, so a page that tried to load or send something elsewhere is stopped by
    /// the browser (the browser tests also check that no such request is made).
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Whether a request's `Accept` asks for HTML (a browser), rather than JSON (an API client).
    static func wantsHTML(_ accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").contains { item in
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard parts.first == "text/html" else { return false }
            return !parts.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "q=0" }
        }
    }
}
