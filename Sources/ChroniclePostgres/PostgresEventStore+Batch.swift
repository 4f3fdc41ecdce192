import ChronicleCore
import Logging
import PostgresNIO

extension PostgresEventStore {
    /// Runs a batch's operations in order on the snapshot, each with its own outcome, reading
    /// what an operation asks for that was not read ahead (``NeedsData``) and running it again.
    ///
    /// Operations write into `snapshot` in place. One that fails (refused, or asking for more
    /// data) may have written part of its work; the snapshot, the writer and the reactors are
    /// then put back as they were before it by forgetting the batch's writes and running the
    /// operations that succeeded again from the batch's start (what was read only grows, so
    /// they succeed again). Their outcomes are taken from that run: an operation that makes
    /// ids of its own (a deletion's or an erasure's event) makes new ones, and the outcome
    /// must name what is stored. Copying the snapshot before each operation instead cost a
    /// copy of everything the batch wrote so far per operation: with appends of 100 events,
    /// most of a commit's time.
    static func run(
        _ batch: [WriteOperation], writer: inout LogWriter, reactors: inout ReactorBatch, snapshot: inout PostgresSnapshotTransaction,
        now: Int64, projections: [ProjectionRegistration], on connection: PostgresConnection, logger: Logger
    ) async throws -> [Result<WriteOutcome, any Error>] {
        let initialWriter = writer, initialReactors = reactors
        var succeeded: [(index: Int, operation: WriteOperation)] = []
        var outcomes: [Result<WriteOutcome, any Error>] = []
        outcomes.reserveCapacity(batch.count)
        /// Everything as it was after the operations that succeeded, and nothing else.
        func restore() throws {
            snapshot.discardWrites()
            writer = initialWriter
            reactors = initialReactors
            for (index, operation) in succeeded {
                do {
                    outcomes[index] = .success(try apply(operation, writer: &writer, reactors: &reactors, snapshot: &snapshot, now: now, projections: projections))
                } catch {
                    throw ChronicleError(.storageFailure, "internal error: a write that succeeded failed when run again (\(error))")
                }
            }
        }
        for operation in batch {
            for round in 0... {
                if round == 8 {
                    throw ChronicleError(.storageFailure, "internal error: a write kept asking for more data")
                }
                do {
                    let outcome = try apply(operation, writer: &writer, reactors: &reactors, snapshot: &snapshot, now: now, projections: projections)
                    succeeded.append((outcomes.count, operation))
                    outcomes.append(.success(outcome))
                    break
                } catch let missing as NeedsData {
                    try restore()
                    let unknown = snapshot.unknown(missing)
                    guard !unknown.isEmpty else {
                        throw ChronicleError(.storageFailure, "internal error: the write asked again for data it was given")
                    }
                    try await read(unknown, into: &snapshot, on: connection, logger: logger)
                } catch let error as ChronicleError {
                    try restore()
                    outcomes.append(.failure(error))
                    break
                }
            }
        }
        return outcomes
    }

    /// One operation of a batch, written into `snapshot`.
    private static func apply(
        _ operation: WriteOperation, writer: inout LogWriter, reactors: inout ReactorBatch, snapshot: inout PostgresSnapshotTransaction,
        now: Int64, projections: [ProjectionRegistration]
    ) throws -> WriteOutcome {
        switch operation {
        case .append(let request):
            .appended(try writer.append(request, in: &snapshot, now: now, projections: projections))
        case .delete(let stream, let mode, let expected):
            .deleted(try writer.delete(stream, mode: mode, expected: expected, in: &snapshot, now: now))
        case .reactor(let write):
            try reactors.apply(write, writer: &writer, transaction: &snapshot, now: now, projections: projections)
        case .erase(let subject, let actor):
            .erased(try writer.eraseSubject(subject, actor: actor, in: &snapshot, now: now, projections: projections))
        }
    }
}
