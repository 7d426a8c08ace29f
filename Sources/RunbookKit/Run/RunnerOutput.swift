#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a command's text goes: `print` output, and messages for the operator.
public struct RunnerOutput: Sendable {
    public var standardOutput: @Sendable (UnsafeRawBufferPointer) -> Void
    public var standardError: @Sendable (String) -> Void

    public init(
        standardOutput: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
        standardError: @escaping @Sendable (String) -> Void
    ) {
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// The process's standard output and standard error, unbuffered.
    public static let process = RunnerOutput(
        standardOutput: { bytes in FileDescriptorWriter.write(bytes, to: STDOUT_FILENO) },
        standardError: { text in FileDescriptorWriter.write(text, to: STDERR_FILENO) }
    )

    func write(_ text: String) {
        var text = text
        text.withUTF8 { standardOutput(UnsafeRawBufferPointer($0)) }
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
