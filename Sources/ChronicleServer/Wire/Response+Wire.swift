import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension Response {
    /// An `application/json` response whose body is `value` encoded by ``WireEncoder``;
    /// `headers` (ETag, Location…) are kept. The body ends with a newline, as a text file
    /// does (a terminal and `curl` show the prompt on a line of its own).
    static func json(_ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: try WireEncoder.text(value) + "\n")))
    }
}

extension Request {
    /// A `Link: <…>; rel="next"` header for the page after this one: this request's path and
    /// query with `parameter` set to `value` (what the body's `next` says), or none.
    func nextLink(_ parameter: String, _ value: String?) -> HTTPFields {
        guard let value, var components = URLComponents(string: uri.description) else { return [:] }
        var items = (components.queryItems ?? []).filter { $0.name != parameter }
        items.append(URLQueryItem(name: parameter, value: value))
        components.queryItems = items
        // `+` is a space to most servers' query parsers; send it encoded.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return [.link: "<\(components.path)?\(components.percentEncodedQuery ?? "")>; rel=\"next\""]
    }
}

extension HTTPField.Name {
    static let link = Self("Link")!
}
