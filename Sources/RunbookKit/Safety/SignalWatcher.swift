import Dispatch
import LuaRuntime
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's one handler of SIGINT and SIGTERM, for every command.
///
/// During a run the script is interrupted at its next instruction, but a request already in flight
/// completes and its outcome is journaled first; the run then exits 130 or 143. A request that does
/// not finish within `grace` of the signal is abandoned: the process exits with the same status,
/// leaving that request's intent without an outcome. `runbook sandbox` instead waits for the
/// signal (`nextSignal`) and stops cleanly.
public enum SignalWatcher {
    public static let grace: Duration = .seconds(10)

    private static let state = Mutex(State())
    /// Requests sent and not yet answered, so the grace message says what the run was waiting on.
    private static let requestsInFlight = Atomic<Int>(0)

    /// Brackets one request to DevRev (`JournaledExchange`).
    static func requestStarted() { requestsInFlight.add(1, ordering: .relaxed) }
    static func requestFinished() { requestsInFlight.subtract(1, ordering: .relaxed) }

    private struct State {
        var received: ExitStatus?
        var handle: LuaInterruptHandle?
        var sources: [any DispatchSourceSignal] = []
        var waiters: [CheckedContinuation<ExitStatus, Never>] = []
        var stopsAfterGrace = false
    }

    /// The status of the signal that stopped the run, if one did.
    static var received: ExitStatus? { state.withLock { $0.received } }

    /// Starts watching (the first call installs the handlers). `stopAfterGrace`: a signal also
    /// arms the exit `grace` later (commands that run scripts or send changes).
    public static func install(stopAfterGrace: Bool = true) {
        state.withLock { state in
            state.stopsAfterGrace = state.stopsAfterGrace || stopAfterGrace
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
                source.setEventHandler { deliver(status, name: name) }
                source.resume()
                state.sources.append(source)
            }
        }
    }

    private static func deliver(_ status: ExitStatus, name: String) {
        let (handle, waiters, stops, first) = state.withLock { state in
            let first = state.received == nil
            if first { state.received = status }
            let waiters = state.waiters
            state.waiters = []
            return (state.handle, waiters, state.stopsAfterGrace, first)
        }
        handle?.interrupt(message: "interrupted by \(name)")
        waiters.forEach { $0.resume(returning: status) }
        if stops, first {
            Watchdog.exit(after: grace, status: status) {
                graceMessage(signal: name, requestsInFlight: requestsInFlight.load(ordering: .relaxed))
            }
        }
    }

    /// What the run was stuck on when `grace` passed after `signal`.
    static func graceMessage(signal: String, requestsInFlight: Int) -> String {
        let grace = DurationArgument.format(SignalWatcher.grace)
        return switch requestsInFlight {
        case ...0:
            "runbook: the script did not stop within \(grace) of \(signal): it was in work that cannot be interrupted (a long json.encode, a string function); stopped\n"
        case 1:
            "runbook: the request in flight did not finish within \(grace) of \(signal); stopped (its journal intent has no outcome)\n"
        case let count:
            "runbook: \(count) requests in flight did not finish within \(grace) of \(signal); stopped (their journal intents have no outcome)\n"
        }
    }

    /// Suspends until SIGINT or SIGTERM arrives (at once when one already has); `install` first.
    public static func nextSignal() async -> ExitStatus {
        await withCheckedContinuation { continuation in
            let already = state.withLock { state -> ExitStatus? in
                if state.received == nil { state.waiters.append(continuation) }
                return state.received
            }
            if let already { continuation.resume(returning: already) }
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
