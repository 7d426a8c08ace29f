import Dispatch
import LuaRuntime
import Synchronization

/// Runs async work from the VM's own thread (started by `LuaThread`, never a cooperative-pool
/// thread) and blocks that thread until the work's result is there: a Lua binding is a
/// synchronous C call, the DevRev client is async. Calling it from a pool thread would take that
/// thread away from the work it waits for; every command runs its script and bindings on a VM thread.
enum BlockingBridge {
    /// `executor`: where the work prefers to run (a client's event loop, for a call that only
    /// talks to DevRev); nil for Swift's global pool.
    static func wait<Result: Sendable>(on executor: (any TaskExecutor)? = nil, _ work: @escaping @Sendable () async -> Result) -> Result {
        // Debug builds (the test suite) stop at any call from elsewhere, such as a pool thread.
        assert(LuaThread.isCurrent, "BlockingBridge.wait blocks its thread: call it on a VM thread (LuaThread.run)")
        let box = Mutex<Result?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            let value = await work()
            box.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        guard let value = box.withLock({ $0 }) else { fatalError("the async work ended without a result") }
        return value
    }
}
