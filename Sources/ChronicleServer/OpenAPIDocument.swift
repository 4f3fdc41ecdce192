import Foundation
import NIOCore

/// The OpenAPI 3.1 document served at `/openapi.json`: the contract the tests check.
///
/// It is the resource file `Resources/openapi.json` of this target, served byte for byte, so
/// the file in the repository, the one CI validates and the one clients fetch are the same.
/// Edit the file, not a copy: `OpenAPITests` checks it against the routes the server
/// registers, in both directions.
enum OpenAPIDocument {
    /// The document's bytes, read from the target's resource bundle the first time they are
    /// needed (when a server registers its routes, so a broken install fails at start-up).
    static let bytes: ByteBuffer = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
              let data = try? Data(contentsOf: url) else {
            fatalError("ChronicleServer's resource bundle has no openapi.json; ship Chronicle_ChronicleServer.resources next to the binary.")
        }
        return ByteBuffer(bytes: data)
    }()
}
