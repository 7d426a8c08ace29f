import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ends the process with exit status 124 when a run outlives its deadline in code the VM's hook
/// cannot interrupt (a long C library call, a blocked host function).
enum Watchdog {
    static func arm(after delay: Duration, message: @escaping @Sendable () -> String) {
        let (seconds, attoseconds) = delay.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
            FileDescriptorWriter.write(message(), to: STDERR_FILENO)
            _exit(ExitStatus.timeout.rawValue)
        }
    }
}

/// Writes all bytes to a file descriptor, retrying on short writes and EINTR.
public enum FileDescriptorWriter {
    public static func write(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) {
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            #if canImport(Glibc)
            let written = Glibc.write(descriptor, pointer, remaining)
            #else
            let written = Darwin.write(descriptor, pointer, remaining)
            #endif
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            remaining -= written
            pointer += written
        }
    }

    public static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0), to: descriptor) }
    }
}
