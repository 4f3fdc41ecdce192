import NIOCore

/// Runs a task's jobs on one event loop: the loop of the connection the task talks to.
///
/// A commit is a chain of round trips on one connection, each answered on that connection's
/// event loop. On the default executor every answer hops from the event loop to a thread of
/// the cooperative pool, and every statement hops back to send; with the task preferring
/// the connection's loop, the answer runs the task on the thread that read it, and the next
/// statement is written from there (see ``PostgresEventStore`` commit).
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
