import Dispatch
import Foundation
import LuaRuntime

/// SIGINT and SIGTERM during a run: the script is interrupted at its next instruction, but a
/// request already in flight completes and its outcome is journaled first; the run then exits 130
/// or 143. A request that does not finish within `grace` of the signal is abandoned: the process
/// exits with the same status, leaving that request's intent without an outcome.
public enum SignalWatcher {
    public static let grace: Duration = .seconds(10)

    private static let state = LockedValue(State())

    private struct State {
        var received: ExitStatus?
        var handle: LuaInterruptHandle?
        var sources: [any DispatchSourceSignal] = []
    }

    /// The status of the signal that stopped the run, if one did.
    static var received: ExitStatus? { state.withLock { $0.received } }

    /// Starts watching (once per process).
    public static func install() {
        state.withLock { state in
            guard state.sources.isEmpty else { return }
            // A parent may hand down a mask that blocks these (some test harnesses and job
            // runners do); a blocked signal would never reach the handler.
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGINT)
            sigaddset(&unblock, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            for (number, status, name) in [(SIGINT, ExitStatus.interrupted, "SIGINT"), (SIGTERM, ExitStatus.terminated, "SIGTERM")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    let handle = SignalWatcher.state.withLock { state -> LuaInterruptHandle? in
                        if state.received == nil { state.received = status }
                        return state.handle
                    }
                    handle?.interrupt(message: "interrupted by \(name)")
                    DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(SignalWatcher.grace.components.seconds))) {
                        FileDescriptorWriter.write(
                            "runbook: the request in flight did not finish within \(DurationArgument.format(SignalWatcher.grace)) of \(name); stopped\n",
                            to: STDERR_FILENO)
                        _exit(status.rawValue)
                    }
                }
                source.resume()
                state.sources.append(source)
            }
        }
    }

    /// The script a signal should stop; nil when none runs.
    static func watch(_ handle: LuaInterruptHandle?) {
        let interruptNow = state.withLock { state -> Bool in
            state.handle = handle
            return state.received != nil
        }
        if interruptNow { handle?.interrupt(message: "interrupted") }
    }
}

/// A lock-protected value.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
