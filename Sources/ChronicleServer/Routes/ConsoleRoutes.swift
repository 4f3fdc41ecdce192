import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
}

extension ChronicleServer {
    /// `/` (the console for a browser, the JSON index for API clients), the console's files,
    /// and `/client.js`. Served without a key: they are the same files for everyone, and the
    /// console asks for a key before it reads anything (see `/v1/whoami`).
    func registerConsoleRoutes(on router: Router<ChronicleRequestContext>) {
        let files = ConsoleAssets.files
        let client = ConsoleAssets.client

        @Sendable func serve(_ file: ConsoleAssets.File, vary: Bool = false) -> Response {
            var headers: HTTPFields = [
                .contentType: file.contentType, .cacheControl: "no-cache", .xContentTypeOptions: "nosniff",
                .contentSecurityPolicy: ConsoleAssets.contentSecurityPolicy,
            ]
            if vary { headers[.vary] = "Accept" }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.bytes))
        }

        router.get("/") { request, _ in
            if ConsoleAssets.wantsHTML(request.headers[.accept]), let page = files["index.html"] {
                return serve(page, vary: true)
            }
            return try Response.json(.ok, IndexResponse(), headers: [.vary: "Accept"])
        }
        router.get("/console/{file}") { _, context in
            let name = try context.parameters.decoded("file")
            guard let file = files[name] else {
                throw Problem(.notFound, code: "route-not-found", title: "Not found", detail: "The console has no file \(name.debugDescription).")
            }
            return serve(file)
        }
        router.get("/client.js") { _, _ in serve(client) }

        // Before the key check: a request without a key learns that the server wants one
        // (a 200, so the console's first look logs no error); a key that is sent must be valid.
        let keys = configuration.apiKeys
        router.get("/v1/whoami") { request, _ in
            guard let authorization = request.headers[.authorization] else {
                return try Response.json(.ok, WhoAmIResponse(role: keys.isEmpty ? .admin : nil, keys: !keys.isEmpty))
            }
            let role = try AuthMiddleware.role(keys: keys, authorization: authorization, path: request.uri.path, accessToken: nil)
            return try Response.json(.ok, WhoAmIResponse(role: role, keys: !keys.isEmpty))
        }
    }
}
