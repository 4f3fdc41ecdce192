import Foundation

/// Percent-encoding of one path segment (a stream name, an entity id), so that a `/`, `%`,
/// `?` or `#` inside it stays inside the segment: the stream `a/b` is `/v1/streams/a%2Fb`,
/// never `/v1/streams/a/b`.
public enum PathSegment {
    /// RFC 3986 unreserved characters; everything else is percent-encoded.
    static let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `text` as one path segment.
    public static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
