#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ends the process after a delay unless it has ended by then: for a run that outlives its
/// deadline in code the VM's hook cannot interrupt (a long C library call, a blocked host
/// function), and for a request still in flight long after SIGINT or SIGTERM. The wait is a
/// task's sleep, so no thread is held while it waits.
enum Watchdog {
    static func exit(after delay: Duration, status: ExitStatus, message: @escaping @Sendable () -> String) {
        Task.detached {
            try? await Task.sleep(for: delay)
            FileDescriptorWriter.write(message(), to: STDERR_FILENO)
            _exit(status.rawValue)
        }
    }
}
