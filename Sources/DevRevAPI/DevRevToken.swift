#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A DevRev API token. Its description never shows the value, so it cannot leak through logs,
/// errors, string interpolation or debug dumps.
public struct DevRevToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The secret itself: use only to build the Authorization header.
    public let value: String

    public init(_ value: String) throws(DevRevConfigurationError) {
        let trimmed = String(value.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
        guard !trimmed.isEmpty else { throw .emptyToken }
        guard !trimmed.contains(where: { $0.isNewline || $0 == "\0" }) else { throw .malformedToken }
        self.value = trimmed
    }

    public var description: String { "DevRevToken(***)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// The token from `DEVREV_TOKEN`.
    public static func fromEnvironment(_ name: String = "DEVREV_TOKEN") throws(DevRevConfigurationError) -> DevRevToken {
        guard let pointer = getenv(name) else { throw .missingToken(variable: name) }
        return try DevRevToken(String(cString: pointer))
    }

    /// The token in a file that only its owner can read (mode 0600 or 0400), or a file of root's
    /// that its group may also read (0640 or 0440: how Kubernetes mounts a Secret for a pod's
    /// `fsGroup`, and the rule PostgreSQL applies to its key files); the trailing newline is
    /// stripped. Any other file readable by group or others is refused.
    public static func fromFile(_ path: String) throws(DevRevConfigurationError) -> DevRevToken {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .unreadableTokenFile(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadableTokenFile(path: path, reason: "not a regular file")
        }
        let mode = info.st_mode & 0o777
        let rootsForItsGroup = info.st_uid == 0 && mode & 0o037 == 0
        guard mode & 0o077 == 0 || rootsForItsGroup else {
            throw .tokenFileTooOpen(path: path, mode: String(mode, radix: 8))
        }
        guard let file = fopen(path, "r") else {
            throw .unreadableTokenFile(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            bytes.append(contentsOf: buffer[0..<count])
            if count < buffer.count { break }
            if bytes.count > 64 * 1024 { throw .unreadableTokenFile(path: path, reason: "larger than 64 KiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .unreadableTokenFile(path: path, reason: "not UTF-8 text")
        }
        return try DevRevToken(text)
    }
}
