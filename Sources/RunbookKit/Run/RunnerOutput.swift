#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a command's text goes: `print` output, and messages for the operator.
public struct RunnerOutput: Sendable {
    public var standardOutput: @Sendable (UnsafeRawBufferPointer) -> Void
    public var standardError: @Sendable (String) -> Void
    /// Writes the `--output json` report to standard output; false when it could not be written.
    public var report: @Sendable (String) -> Bool
    /// Receives each log line of a run as data, besides its text on standard error.
    var logRecord: (@Sendable (RunLog.Record) -> Void)?

    public init(
        standardOutput: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
        standardError: @escaping @Sendable (String) -> Void,
        report: (@Sendable (String) -> Bool)? = nil
    ) {
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.report = report ?? { text in
            var text = text
            text.withUTF8 { standardOutput(UnsafeRawBufferPointer($0)) }
            return true
        }
    }

    /// The process's standard output and standard error, unbuffered.
    public static let process = RunnerOutput(
        standardOutput: { bytes in FileDescriptorWriter.write(bytes, to: STDOUT_FILENO) },
        standardError: { text in FileDescriptorWriter.write(text, to: STDERR_FILENO) },
        report: { text in FileDescriptorWriter.write(text, to: STDOUT_FILENO) }
    )

    func write(_ text: String) {
        var text = text
        text.withUTF8 { standardOutput(UnsafeRawBufferPointer($0)) }
    }
}

/// Writes all bytes to a file descriptor, retrying on short writes and EINTR.
public enum FileDescriptorWriter {
    /// False when not every byte could be written (a closed pipe, a full device).
    @discardableResult
    public static func write(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Bool {
        guard var pointer = bytes.baseAddress else { return true }
        var remaining = bytes.count
        while remaining > 0 {
            #if canImport(Glibc)
            let written = Glibc.write(descriptor, pointer, remaining)
            #else
            let written = Darwin.write(descriptor, pointer, remaining)
            #endif
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            remaining -= written
            pointer += written
        }
        return true
    }

    @discardableResult
    public static func write(_ text: String, to descriptor: Int32) -> Bool {
        var text = text
        return text.withUTF8 { write(UnsafeRawBufferPointer($0), to: descriptor) }
    }
}
