import NIOCore

/// A task executor that runs its jobs on one SwiftNIO event loop: the loop the client's
/// connections live on. A task that prefers it (`Task(executorPreference:)`) makes its request,
/// reads the answer and resumes on that loop's thread, instead of hopping between the loop and
/// Swift's global pool at every `await` of a call.
///
/// Only for work that never blocks its thread: a job that waits (a file's fsync, a semaphore)
/// would stall every connection of the loop.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
