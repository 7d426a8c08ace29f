import DevRevAPI
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The append-only audit journal: one JSON object per line, written and flushed to disk before
/// each mutation is sent (`intent`) and after it (`outcome`), so a run killed mid-request leaves an
/// intent without an outcome. Mode 0600. Never holds the token.
final class AuditJournal: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String {
            "cannot write the audit journal \(path): \(reason); a run needs its journal before it changes anything (set --audit-log)"
        }
    }

    /// What every record of a run repeats.
    struct RunFacts: Sendable {
        var runID: String
        var user: String
        var host: String
        var script: String
        var scriptSHA256: String
        var arguments: [String: String]
    }

    let path: String
    private let descriptor: Int32
    private let facts: RunFacts

    /// `$XDG_STATE_HOME/runbook/audit.jsonl`, else `~/.local/state/runbook/audit.jsonl`.
    static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/runbook/audit.jsonl" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return home + "/.local/state/runbook/audit.jsonl"
    }

    /// Opens (creating, mode 0600, with its directories at 0700) the journal for appending.
    init(path: String, facts: RunFacts) throws(Failure) {
        self.path = path
        self.facts = facts
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw Failure(path: path, reason: "cannot create \(directory)")
            }
        }
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    enum Event: String { case intent, outcome }

    struct Record {
        var event: Event
        var operation: String
        var incident: String?
        var fields: JSONValue?
        var status: Int?
        var error: String?
        var requestID: String?
        var durationMilliseconds: Int?
        /// Why an outcome that looks like an error is not one.
        var note: String?
    }

    /// Appends one record and flushes it to disk.
    func append(_ record: Record) throws(Failure) {
        var object: [String: JSONValue] = [
            "time": .string(RFC3339.format(Date())), "run_id": .string(facts.runID), "user": .string(facts.user),
            "host": .string(facts.host), "script": .string(facts.script), "script_sha256": .string(facts.scriptSHA256),
            "arguments": .object(facts.arguments.mapValues { .string($0) }), "event": .string(record.event.rawValue),
            "operation": .string(record.operation),
        ]
        if let incident = record.incident { object["incident"] = .string(incident) }
        if let fields = record.fields { object["fields"] = fields }
        if let status = record.status { object["status"] = .integer(Int64(status)) }
        if let error = record.error { object["error"] = .string(error) }
        if let requestID = record.requestID { object["request_id"] = .string(requestID) }
        if let duration = record.durationMilliseconds { object["duration_ms"] = .integer(Int64(duration)) }
        if let note = record.note { object["note"] = .string(note) }
        var line: [UInt8]
        do {
            line = try LuaJSON.encode(.object(object))
        } catch {
            throw Failure(path: path, reason: "cannot encode a record: \(error)")
        }
        line.append(UInt8(ascii: "\n"))
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else { throw Failure(path: path, reason: written < 0 ? String(cString: strerror(errno)) : "short write") }
        guard fsync(descriptor) == 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
    }

    static func currentUser() -> String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(cString: buffer)
    }
}
