/// The loop the background runners (projections, reactors) share.
package enum LogFollower {
    /// Follows the log until the task is cancelled. `start` reads the durable checkpoint; `step`
    /// handles what comes after a checkpoint (waiting when nothing does) and returns the new one.
    /// After an error `failed` reports it with the checkpoint reached, and the loop waits
    /// (100 ms, doubling up to 30 s) and starts again from the durable checkpoint.
    package static func run(
        start: () async throws -> Int64,
        step: (Int64) async throws -> Int64,
        failed: (any Error, Int64) -> Void
    ) async {
        var checkpoint: Int64 = -1
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                if checkpoint < 0 { checkpoint = try await start() }
                checkpoint = try await step(checkpoint)
                backoff = .milliseconds(100)
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failed(error, checkpoint)
                checkpoint = -1
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }
}
