/// Splits a `text/event-stream` body into messages, as the bytes arrive in chunks of any
/// size (a chunk may end inside a line, or inside a UTF-8 character).
///
/// Pure value code, after the WHATWG rules: lines end with LF (a CR before it is dropped),
/// a blank line ends a message, `field: value` (one space after the colon is dropped),
/// `data` lines are joined with LF, and a line starting with `:` is a comment.
struct ServerSentEventParser: Sendable {
    /// One message, or one comment.
    struct Message: Sendable, Hashable {
        var id: String?
        var event: String?
        var data: String?
        /// The text of a comment line (`: heartbeat 42` → `heartbeat 42`).
        var comment: String?
    }

    private var line: [UInt8] = []
    private var current = Message()
    private var hasFields = false

    /// The messages (and comments) completed by `bytes`.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Message] {
        var messages: [Message] = []
        for byte in bytes {
            guard byte == UInt8(ascii: "\n") else {
                line.append(byte)
                continue
            }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            let text = String(decoding: line, as: UTF8.self)
            line.removeAll(keepingCapacity: true)
            if text.isEmpty {
                if hasFields { messages.append(current) }
                current = Message()
                hasFields = false
            } else if text.hasPrefix(":") {
                var comment = text.dropFirst()
                if comment.hasPrefix(" ") { comment = comment.dropFirst() }
                messages.append(Message(comment: String(comment)))
            } else {
                let field: Substring, value: Substring
                if let colon = text.firstIndex(of: ":") {
                    field = text[..<colon]
                    var rest = text[text.index(after: colon)...]
                    if rest.hasPrefix(" ") { rest = rest.dropFirst() }
                    value = rest
                } else {
                    (field, value) = (text[...], "")
                }
                switch field {
                case "id": current.id = String(value)
                case "event": current.event = String(value)
                case "data": current.data = current.data.map { $0 + "\n" + value } ?? String(value)
                default: break
                }
                hasFields = true
            }
        }
        return messages
    }
}
