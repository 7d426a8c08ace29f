import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` per script, so two runs of one script never overlap. The kernel releases
/// it when the process dies, however it dies.
final class RunLock: Sendable {
    enum Failure: Error, CustomStringConvertible {
        case held(path: String, holder: String?)
        case timedOut(path: String, holder: String?, waited: Duration)
        case unusable(path: String, reason: String)
        /// SIGINT or SIGTERM arrived while waiting.
        case stopped(path: String, by: ExitStatus)

        var description: String {
            switch self {
            case .held(let path, let holder):
                "another run of this script holds the lock \(path)\(holder.map { " (process \($0))" } ?? ""); not running"
            case .timedOut(let path, let holder, let waited):
                "the lock \(path) was still held after \(waited)\(holder.map { " (process \($0))" } ?? ""); not running"
            case .unusable(let path, let reason):
                "cannot use the lock file \(path): \(reason)"
            case .stopped(let path, let status):
                "stopped by \(status == .terminated ? "SIGTERM" : "SIGINT") while waiting for the lock \(path); not running"
            }
        }
    }

    let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// The lock directory: `$XDG_RUNTIME_DIR/runbook`, else `/tmp/runbook-<uid>`.
    static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/runbook" }
        return "/tmp/runbook-\(getuid())"
    }

    /// The lock file of a script: named after its real path, so two paths to one file share a lock.
    static func path(forScript script: String, directory: String) -> String {
        let real = realpath(script, nil).map { pointer -> String in
            defer { free(pointer) }
            return String(cString: pointer)
        } ?? script
        let base = (real as NSString).lastPathComponent.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
        let digest = String(SHA256.hex(Array(real.utf8)).prefix(16))
        return "\(directory)/\(base)-\(digest).lock"
    }

    /// Takes the lock, waiting up to `wait` (nil: not at all), in steps of a task's sleep so no
    /// thread is held while it waits; a signal ends the wait. The file records the holder's pid.
    static func acquire(script: String, wait: Duration?, directory: String = RunLock.directory()) async throws(Failure) -> RunLock {
        let lockPath = path(forScript: script, directory: directory)
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw .unusable(path: lockPath, reason: String(cString: strerror(errno)))
        }
        var info = stat()
        guard lstat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid() else {
            throw .unusable(path: lockPath, reason: "\(directory) is not a directory owned by this user")
        }
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw .unusable(path: lockPath, reason: String(cString: strerror(errno))) }

        let clock = ContinuousClock()
        let start = clock.now
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw .unusable(path: lockPath, reason: reason)
            }
            let holder = Self.holder(descriptor)
            guard let wait else {
                close(descriptor)
                throw .held(path: lockPath, holder: holder)
            }
            guard clock.now - start < wait else {
                close(descriptor)
                throw .timedOut(path: lockPath, holder: holder, waited: wait)
            }
            if let status = SignalWatcher.received {
                close(descriptor)
                throw .stopped(path: lockPath, by: status)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let pid = "\(getpid())\n"
        ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return RunLock(path: lockPath, descriptor: descriptor)
    }

    private static func holder(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
