import ChronicleCore

extension ChronicleClient {
    /// Waits until the asynchronous work of one request (its correlation id) has produced an
    /// event of one of `types` — or a `$reactorParked`, the record of a reactor that gave up
    /// on it — and returns it: the "did the welcome email go out?" of a sign-up, in one call.
    ///
    /// It follows the correlation from `after` (the write's position, if known, saves reading
    /// the log before it), so an outcome stored before the call is found too.
    ///
    /// ```swift
    /// let signup = try await chronicle.post(eventType: "UserCreated", payload: ["email": "ada@example.com"])
    /// let outcome = try await chronicle.outcome(of: signup.correlationId, matching: ["WelcomeEmailSent"], timeout: .seconds(30))
    /// if outcome.isParked { print("the welcome email failed:", outcome.error ?? "") }
    /// ```
    ///
    /// - Throws: ``ChronicleClientError`` with code ``ChronicleClientError/Code/timeout`` if
    ///   none came within `timeout`.
    public func outcome(of correlationId: String, matching types: Set<String>, after position: Int64 = 0, timeout: Duration) async throws -> Outcome {
        let subscription = subscribe(after: position, filter: LogFilter(correlation: correlationId))
        let found = try await withThrowingTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                for try await event in subscription where types.contains(event.type) || event.type == "$reactorParked" {
                    return Outcome(event: event)
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        guard let found else {
            throw ChronicleClientError(.timeout, "No \(types.sorted().joined(separator: " or ")) (nor $reactorParked) on correlation \(correlationId) within \(timeout).")
        }
        return found
    }
}
