#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs work on a thread of its own, outside Swift's cooperative pool.
///
/// A Lua VM blocks its thread for as long as a script runs (and, in bindings, while an async
/// call completes). Doing that on a cooperative-pool thread starves the pool; on a 2-core
/// machine it deadlocks. Give each run a dedicated thread with a generous stack instead.
public enum LuaThread {
    /// Whether the calling thread is one `LuaThread` started: code that blocks its thread on
    /// async work checks this.
    public static var isCurrent: Bool { pthread_getspecific(vmThreadKey) != nil }

    /// Stack size for VM threads: Lua's C-call depth limit (200) times large Swift frames fits easily.
    public static let defaultStackSize = 16 * 1024 * 1024

    /// Runs `body` on a new thread and returns its result once it finishes.
    public static func run<Result: Sendable>(
        stackSize: Int = defaultStackSize, _ body: @escaping @Sendable () -> Result
    ) async -> Result {
        await withCheckedContinuation { continuation in
            start(stackSize: stackSize) { continuation.resume(returning: body()) }
        }
    }

    private static func start(stackSize: Int, _ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { context in
            guard let context else { return nil }
            let body = Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue()
            pthread_setspecific(vmThreadKey, UnsafeRawPointer(bitPattern: 1))
            body.run()
            return nil
        }, context)
        guard status == 0 else { fatalError("cannot start a VM thread: error \(status)") }
        pthread_detach(thread)
    }
}

/// Marks the threads `LuaThread` started.
private let vmThreadKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
