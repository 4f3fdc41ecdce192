import HTTPTypes
import Hummingbird
import NIOCore

extension Response {
    /// An `application/json` response whose body is `value` encoded by ``WireEncoder``;
    /// `headers` (ETag, Location…) are kept.
    static func json(_ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: try WireEncoder.text(value))))
    }
}
