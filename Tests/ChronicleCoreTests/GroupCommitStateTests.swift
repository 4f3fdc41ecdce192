@testable import ChronicleCore
import Testing

@Suite("Group commit state machine")
struct GroupCommitStateTests {
    @Test("the first submission starts a drain; the rest join it; batches keep arrival order and their size limit; an empty take ends the drain")
    func drains() {
        var machine = GroupCommitState<Int>(maximumBatchSize: 2)
        guard case .startDrain = machine.submit(1) else { Issue.record("the first submission starts a drain"); return }
        for value in 2...5 {
            guard case .none = machine.submit(value) else { Issue.record("\(value) joins the drain under way"); return }
        }
        #expect(machine.isDraining && machine.pendingCount == 5)
        #expect(machine.nextBatch() == [1, 2])
        #expect(machine.nextBatch() == [3, 4])
        guard case .none = machine.submit(6) else { Issue.record("a submission while draining joins it"); return }
        #expect(machine.nextBatch() == [5, 6])
        #expect(machine.nextBatch() == nil && !machine.isDraining, "nothing waits: the drain ends")
        guard case .startDrain = machine.submit(7) else { Issue.record("after a drain ends, a submission starts the next"); return }
        #expect(machine.nextBatch() == [7])
        #expect(machine.commits == 4 && machine.operations == 7)
    }

    @Test("closing hands back what waits and refuses later submissions until reopened")
    func closes() {
        var machine = GroupCommitState<Int>(maximumBatchSize: 8)
        _ = machine.submit(1)
        _ = machine.submit(2)
        let abandoned = machine.close(ChronicleError(.storageFailure, "closing"))
        #expect(abandoned == [1, 2] && machine.pendingCount == 0 && !machine.isDraining)
        guard case .refuse(let error) = machine.submit(3) else { Issue.record("a closed writer refuses"); return }
        #expect(error.message == "closing")
        machine.reopen()
        guard case .startDrain = machine.submit(4) else { Issue.record("a reopened writer takes submissions"); return }
        #expect(machine.nextBatch() == [4])
    }
}
