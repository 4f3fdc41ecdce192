import ChronicleCore
import Logging
import PostgresNIO

extension PostgresEventStore {
    /// Runs a batch's operations in order on the snapshot, each with its own outcome, reading
    /// what an operation asks for that was not read ahead (``NeedsData``) and running it again.
    ///
    /// Operations write into `snapshot` in place. One that fails (refused, or asking for more
    /// data) may have written part of its work; the snapshot, the writer and the reactors are
    /// then put back as they were before it: as they were at the last checkpoint (the batch's
    /// start, or the last failure), with the operations that succeeded since run again (what
    /// was read only grows, so they succeed again), and a new checkpoint is kept. Their
    /// outcomes are taken from that run: an operation that makes ids of its own (a deletion's
    /// or an erasure's event) makes new ones, and the outcome must name what is stored.
    ///
    /// A batch without failures copies nothing; each failure costs the operations since the
    /// last one, and one copy of what the batch wrote (the checkpoint, copied on the next
    /// write). Copying the snapshot before every operation instead, as before, cost a copy of
    /// everything the batch wrote so far per operation: with appends of 100 events, most of a
    /// commit's time.
    static func run(
        _ batch: [WriteOperation], writer: inout LogWriter, reactors: inout ReactorBatch, snapshot: inout PostgresSnapshotTransaction,
        now: Int64, projections: [ProjectionRegistration], on connection: PostgresConnection, logger: Logger
    ) async throws -> [Result<WriteOutcome, any Error>] {
        var checkpoint = (snapshot: snapshot, writer: writer, reactors: reactors)
        var sinceCheckpoint: [(index: Int, operation: WriteOperation)] = []
        var outcomes: [Result<WriteOutcome, any Error>] = []
        outcomes.reserveCapacity(batch.count)
        /// Everything as it was after the operations that succeeded, and nothing else.
        func restore() throws {
            (snapshot, writer, reactors) = checkpoint
            for (index, operation) in sinceCheckpoint {
                do {
                    outcomes[index] = .success(try apply(operation, writer: &writer, reactors: &reactors, snapshot: &snapshot, now: now, projections: projections))
                } catch {
                    throw ChronicleError(.storageFailure, "internal error: a write that succeeded failed when run again (\(error))")
                }
            }
        }
        /// What a later failure goes back to: now (what was read so far included).
        func mark() {
            checkpoint = (snapshot, writer, reactors)
            sinceCheckpoint = []
        }
        for operation in batch {
            for round in 0... {
                if round == 8 {
                    throw ChronicleError(.storageFailure, "internal error: a write kept asking for more data")
                }
                do {
                    let outcome = try apply(operation, writer: &writer, reactors: &reactors, snapshot: &snapshot, now: now, projections: projections)
                    sinceCheckpoint.append((outcomes.count, operation))
                    outcomes.append(.success(outcome))
                    break
                } catch let missing as NeedsData {
                    try restore()
                    let unknown = snapshot.unknown(missing)
                    guard !unknown.isEmpty else {
                        throw ChronicleError(.storageFailure, "internal error: the write asked again for data it was given")
                    }
                    try await read(unknown, into: &snapshot, on: connection, logger: logger)
                    mark()
                } catch let error as ChronicleError {
                    try restore()
                    mark()
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
