import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--metrics-file PATH`: the run's metrics in Prometheus's text format, for node_exporter's
/// textfile collector. Written whole to a temporary file beside PATH, then renamed over it, so
/// the collector never reads half a file. Several scripts may share one file: each run replaces
/// its own script's series and keeps the others', under an exclusive lock on `PATH.lock`. A
/// failed run keeps the last success time the file already held.
enum MetricsFile {
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "cannot write the metrics file \(path): \(reason)" }
    }

    static func write(_ metrics: RunMetrics, to path: String) throws(Failure) {
        func failure(_ reason: String) -> Failure { Failure(path: path, reason: reason) }
        let directory = (path as NSString).deletingLastPathComponent
        var folder = stat()
        guard stat(directory.isEmpty ? "." : directory, &folder) == 0 else {
            throw failure("cannot use its directory \(directory.isEmpty ? "." : directory): \(String(cString: strerror(errno)))")
        }
        guard folder.st_mode & S_IFMT == S_IFDIR else { throw failure("\(directory) is not a directory") }
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard lock >= 0 else { throw failure("cannot open \(path).lock: \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        defer { flock(lock, LOCK_UN) }

        let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let lastSuccess = PrometheusText.value(of: .lastSuccess, labelled: "script", metrics.script, in: existing)
        let text = merge(PrometheusText.render(metrics.samples(lastSuccess: lastSuccess), common: [("script", metrics.script)]),
                         keepingOthersOf: metrics.script, from: existing)
        let temporary = "\(path).\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw failure(String(cString: strerror(errno))) }
        // Readable by the collector whatever the umask (a service's is often 0077).
        fchmod(descriptor, 0o644)
        var problem: String?
        if !FileDescriptorWriter.write(text, to: descriptor) || fsync(descriptor) != 0 { problem = String(cString: strerror(errno)) }
        close(descriptor)
        if let problem {
            unlink(temporary)
            throw failure(problem)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw failure(reason)
        }
    }

    /// `ours` with the samples of other scripts that `existing` holds, family by family.
    static func merge(_ ours: String, keepingOthersOf script: String, from existing: String) -> String {
        let mine = "{script=\"\(PrometheusText.escape(script))\""
        var others: [RunMetrics.Family: [Substring]] = [:]
        for line in existing.split(separator: "\n") where !line.hasPrefix("#") {
            guard let brace = line.firstIndex(of: "{"), let family = RunMetrics.Family(rawValue: String(line[..<brace])),
                  !line[brace...].hasPrefix(mine)
            else { continue }
            others[family, default: []].append(line)
        }
        guard !others.isEmpty else { return ours }
        var text = ""
        // `ours` lists each family's HELP and TYPE, then its samples: the others' go after them.
        for line in ours.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# TYPE "), let family = RunMetrics.Family(rawValue: String(line.split(separator: " ")[2])) {
                text += line + "\n"
                others.removeValue(forKey: family)?.forEach { text += $0 + "\n" }
                continue
            }
            text += line + "\n"
        }
        // Families this run has no sample of (a last success it never had): the others' own.
        for family in RunMetrics.Family.allCases {
            guard let lines = others[family] else { continue }
            text += "# HELP \(family.rawValue) \(family.help)\n# TYPE \(family.rawValue) gauge\n"
            lines.forEach { text += $0 + "\n" }
        }
        return text
    }
}
