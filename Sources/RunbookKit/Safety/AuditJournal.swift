import DevRevAPI
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The append-only audit journal: one JSON object per line, written before each mutation is sent
/// (`intent`) and after it (`outcome`), so a run killed mid-request leaves an intent without an
/// outcome. An intent's `fields` are the request body exactly as sent, byte for byte. Mode 0600.
/// Never holds the token.
///
/// One fsync per change: an intent (and a `not_sent` record) is flushed to disk before the change
/// is sent, and that flush also carries the outcome written before it; an outcome is written at
/// once (a killed process cannot lose it: it is in the kernel's hands) and reaches the disk with
/// the next intent's flush or `flush()` at the end of the run. Only a machine that stops between
/// the two can lose an outcome, leaving an intent whose outcome is unknown, as a kill mid-request
/// does.
///
/// Records are written by one dedicated writer (a serial queue of its own), never on a
/// cooperative-pool thread: `write` and `fsync` block, and `update_many` journals from several
/// tasks at once. The writer takes every record waiting when it starts, writes them in the order
/// they came, and flushes once for all of them (group commit): with eight workers, eight intents
/// that arrive during one flush share the next, instead of queueing for eight. A VM thread, which
/// waits for its record anyway, has the writer's turn on its own thread (`appendHere`): the same
/// queue, the same order, no hop to another thread and back.
final class AuditJournal: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let reason: String
        /// The path is the default one (no --audit-log).
        var isDefault = false
        var description: String {
            "cannot write the audit journal \(path): \(reason); a run needs its journal before it changes anything"
                + (isDefault ? " (choose another with --audit-log)" : "")
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
    /// Whether each record is flushed to disk: always for a file; for `--audit-log -` only when
    /// standard error is a regular file (a pipe or a terminal has no disk to flush to).
    private let syncs: Bool
    /// `--audit-log -`: the journal as JSON lines on standard error, for a container's log pipeline.
    static let standardError = "-"
    private let facts: RunFacts
    /// Where the run's changes go; every record names it.
    private let target: RunTarget?
    private let writer = DispatchQueue(label: "runbook.audit-journal")
    /// Records waiting for the writer, in the order they came, each with whom to tell.
    private let waiting = Mutex<[(record: Record, done: CheckedContinuation<Result<Void, Failure>, Never>)]>([])
    /// Records written since the last fsync (touched on the writer only), and fsyncs made so far.
    private let unsynced = Mutex(false)
    private let fsyncs = Atomic<Int>(0)

    /// How many times the journal was flushed to disk: one per change, and one at the end.
    var syncCount: Int { fsyncs.load(ordering: .relaxed) }
    /// The first write that failed, and every record that could not be written since: once the
    /// journal fails, it refuses every later record, so no change is sent unrecorded (each needs
    /// its intent first) even if the disk frees up.
    private let breakdown = Mutex<(failure: Failure?, unrecorded: [String])>((nil, []))

    /// Why the journal stopped accepting records during the run, and what it could not record
    /// (`outcome incidents.update INC-3: status 200, request req-5`); nil while it works.
    var stopped: (failure: Failure, unrecorded: [String])? {
        breakdown.withLock { state in state.failure.map { ($0, state.unrecorded) } }
    }

    /// `$XDG_STATE_HOME/runbook/audit.jsonl`, else `~/.local/state/runbook/audit.jsonl`. Runs
    /// against `--sandbox` journal beside it in `sandbox-audit.jsonl`: practice runs never mix
    /// with the record of production.
    static func defaultPath(sandbox: Bool = false, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let name = sandbox ? "sandbox-audit.jsonl" : "audit.jsonl"
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/runbook/" + name }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return home + "/.local/state/runbook/" + name
    }

    /// The journal ended in a record a stopped run had not finished writing (no newline): a new
    /// line was started before appending, so every later record parses.
    let repairedTornTail: Bool

    /// A journal this large when a run opens it is renamed `PATH.YYYYMMDDTHHMMSSZ` and a new one
    /// started (`--audit-log-max-size`). Rotated files are never deleted by runbook; `runbook
    /// journal` reads them with the current one.
    static let defaultMaximumSize = 64 << 20

    /// Where the journal was moved when this run rotated it.
    let rotatedTo: String?

    /// Opens (creating, mode 0600, with its directories at 0700) the journal for appending. Refuses
    /// a symlink, a file that is not this user's regular file, and a directory that others can
    /// write to (unless it is sticky and this user's): another user must never choose the file
    /// the journal appends to.
    init(
        path: String, facts: RunFacts, target: RunTarget? = nil, isDefault: Bool = false, maximumSize: Int? = AuditJournal.defaultMaximumSize
    ) throws(Failure) {
        self.path = path
        self.facts = facts
        self.target = target
        func failure(_ reason: String) -> Failure { Failure(path: path, reason: reason, isDefault: isDefault) }
        if path == Self.standardError {
            let descriptor = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0)
            guard descriptor >= 0 else { throw failure("standard error is closed: \(String(cString: strerror(errno)))") }
            var file = stat()
            syncs = fstat(descriptor, &file) == 0 && file.st_mode & S_IFMT == S_IFREG
            self.descriptor = descriptor
            self.rotatedTo = nil
            repairedTornTail = false
            return
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw failure("cannot create \(directory)")
            }
        }
        var folder = stat()
        guard stat(directory.isEmpty ? "." : directory, &folder) == 0 else { throw failure(String(cString: strerror(errno))) }
        let othersMayWrite = folder.st_mode & (S_IWGRP | S_IWOTH) != 0
        let stickyAndMine = folder.st_mode & S_ISVTX != 0 && folder.st_uid == getuid()
        if othersMayWrite, !stickyAndMine {
            throw failure("\(directory.isEmpty ? "." : directory) is writable by other users; use a directory only you can write to")
        }
        func openJournal() throws(Failure) -> (Int32, stat) {
            let descriptor = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard descriptor >= 0 else {
                throw failure(errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno)))
            }
            var file = stat()
            guard fstat(descriptor, &file) == 0, file.st_mode & S_IFMT == S_IFREG, file.st_uid == getuid() else {
                close(descriptor)
                throw failure("it is not a regular file of this user")
            }
            return (descriptor, file)
        }
        var (descriptor, file) = try openJournal()
        var rotatedTo: String?
        if let maximumSize, file.st_size >= maximumSize {
            // Under an exclusive lock on the file, and only if the path still names it: of two
            // runs that open a full journal at once, one rotates it and the other follows.
            flock(descriptor, LOCK_EX)
            var current = stat()
            if stat(path, &current) == 0, current.st_ino == file.st_ino, current.st_dev == file.st_dev {
                let rotated = Self.rotationPath(for: path)
                guard rename(path, rotated) == 0 else {
                    let reason = String(cString: strerror(errno))
                    close(descriptor)
                    throw failure("cannot rotate it to \(rotated): \(reason)")
                }
                rotatedTo = rotated
            }
            flock(descriptor, LOCK_UN)
            close(descriptor)
            (descriptor, file) = try openJournal()
        }
        // A torn last record (a run stopped in the middle of writing it, or a full disk) would
        // swallow the next one: start a new line first.
        var last: UInt8 = 0x0A
        if file.st_size > 0, pread(descriptor, &last, 1, off_t(file.st_size - 1)) == 1, last != 0x0A {
            var newline: UInt8 = 0x0A
            guard write(descriptor, &newline, 1) == 1, fsync(descriptor) == 0 else {
                close(descriptor)
                throw failure(String(cString: strerror(errno)))
            }
            repairedTornTail = true
        } else {
            repairedTornTail = false
        }
        self.descriptor = descriptor
        self.rotatedTo = rotatedTo
        syncs = true
    }

    deinit {
        if unsynced.withLock({ $0 }) { fsync(descriptor) }
        close(descriptor)
    }

    /// Flushes to disk the records written since the last flush (the run's last outcome); a
    /// failure here is reported like a failed write, on the records' behalf.
    func flush() {
        writer.sync {
            let pending = unsynced.withLock { flag in
                defer { flag = false }
                return flag
            }
            guard pending else { return }
            fsyncs.add(1, ordering: .relaxed)
            if fsync(descriptor) != 0 {
                stop(Failure(path: path, reason: String(cString: strerror(errno))), unrecorded: ["the records written since the last flush to disk"])
            }
        }
    }

    /// `PATH.20261129T020000Z`, with `-2`, `-3`, ... when that exists already.
    static func rotationPath(for path: String, now: Date = Date()) -> String {
        let stamp = RFC3339.format(unixSeconds: Int64(now.timeIntervalSince1970.rounded(.down)))
            .replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        var candidate = "\(path).\(stamp)"
        var counter = 2
        while access(candidate, F_OK) == 0 {
            candidate = "\(path).\(stamp)-\(counter)"
            counter += 1
        }
        return candidate
    }

    /// The journal's files, oldest first: the rotated ones (`PATH.YYYYMMDDTHHMMSSZ`), then `PATH`.
    static func files(of path: String) -> [String] {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        let rotated = names.filter { $0.hasPrefix(name + ".") && $0.dropFirst(name.count + 1).first?.isNumber == true }.sorted()
        let join = { (file: String) in directory.isEmpty ? file : directory + "/" + file }
        return rotated.map(join) + (FileManager.default.fileExists(atPath: path) ? [path] : [])
    }

    /// `not_sent`: a change the run meant to make but never sent (its deadline came first).
    enum Event: String { case intent, outcome, notSent = "not_sent" }

    struct Record: Sendable {
        var event: Event
        var operation: String
        var incident: String?
        /// The request body as sent (intents): spliced into the line unchanged.
        var body: [UInt8]?
        var status: Int?
        var error: String?
        var requestID: String?
        var durationMilliseconds: Int?
        /// Why an outcome that looks like an error is not one.
        var note: String?
        /// An update's outcome: each field it set, `before` (as the run last read it) and `after`.
        var changes: JSONValue?
    }

    /// Appends one record and flushes it to disk, on the journal's writer.
    func append(_ record: Record) async throws(Failure) {
        let result: Result<Void, Failure> = await withCheckedContinuation { continuation in
            waiting.withLock { $0.append((record, continuation)) }
            writer.async { self.writeWaiting() }
        }
        try result.get()
    }

    /// Appends one record as `append` does, on the calling thread, which blocks until the record
    /// is written (and flushed, when it must be): the writer's queue runs its turn here, after
    /// the records waiting before it, which it writes and flushes with this one. For a thread
    /// that may block (a VM thread), never for a cooperative-pool one.
    func appendHere(_ record: Record) throws(Failure) {
        var result: Result<Void, Failure>?
        writer.sync { result = writeWaiting(then: record) }
        guard let result else { fatalError("the journal's writer skipped a record") }
        try result.get()
    }

    /// Records waiting for the writer; for tests of group commit.
    var waitingCount: Int { waiting.withLock { $0.count } }

    /// Runs `body` on the writer, which writes nothing meanwhile; for tests of group commit.
    func onWriter(_ body: () -> Void) {
        writer.sync(execute: body)
    }

    /// Writes every record waiting, and `own` after them (the caller's, from `appendHere`), then
    /// flushes once if any of them must be on disk before its change is sent; returns `own`'s
    /// result. (A later block finds nothing waiting when an earlier one took its record.)
    @discardableResult
    private func writeWaiting(then own: Record? = nil) -> Result<Void, Failure>? {
        let batch = waiting.withLock { records in
            defer { records.removeAll() }
            return records
        }
        let records = batch.map(\.record) + (own.map { [$0] } ?? [])
        guard !records.isEmpty else { return nil }
        var results: [Result<Void, Failure>] = []
        var mustSync = false
        for record in records {
            do throws(Failure) {
                try persist(record)
                results.append(.success(()))
                if record.event != .outcome { mustSync = true }
            } catch {
                results.append(.failure(error))
            }
        }
        if syncs {
            if mustSync {
                unsynced.withLock { $0 = false }
                fsyncs.add(1, ordering: .relaxed)
                if fsync(descriptor) != 0 {
                    let failure = Failure(path: path, reason: String(cString: strerror(errno)))
                    let lost = records.indices.filter { results[$0].isSuccess && records[$0].event != .outcome }
                    for index in lost { results[index] = .failure(failure) }
                    stop(failure, unrecorded: lost.map { Self.summary(of: records[$0]) })
                }
            } else if results.contains(where: \.isSuccess) {
                unsynced.withLock { $0 = true }
            }
        }
        for (index, entry) in batch.enumerated() { entry.done.resume(returning: results[index]) }
        return own == nil ? nil : results.last
    }

    /// The line of a record: a compact JSON object, keys sorted, `fields` the body's own bytes.
    func line(for record: Record, time: Date = Date()) throws(Failure) -> [UInt8] {
        var members: [String: JSONValue] = [
            "time": .string(RFC3339.format(time)), "run_id": .string(facts.runID), "user": .string(facts.user),
            "host": .string(facts.host), "script": .string(facts.script), "script_sha256": .string(facts.scriptSHA256),
            "arguments": .object(facts.arguments.mapValues { .string($0) }), "event": .string(record.event.rawValue),
            "operation": .string(record.operation),
        ]
        if let target { members["target"] = target.json }
        if let incident = record.incident { members["incident"] = .string(incident) }
        if let status = record.status { members["status"] = .integer(Int64(status)) }
        if let error = record.error { members["error"] = .string(error) }
        if let requestID = record.requestID { members["request_id"] = .string(requestID) }
        if let duration = record.durationMilliseconds { members["duration_ms"] = .integer(Int64(duration)) }
        if let note = record.note { members["note"] = .string(note) }
        if let changes = record.changes { members["changes"] = changes }
        var encoded: [(key: String, bytes: [UInt8])] = []
        do {
            for (key, value) in members { encoded.append((key, try JSONWriter.bytes(value))) }
        } catch {
            throw Failure(path: path, reason: "cannot encode a record: \(error)")
        }
        if let body = record.body { encoded.append(("fields", body)) }
        var line: [UInt8] = [UInt8(ascii: "{")]
        for (index, member) in encoded.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { line.append(UInt8(ascii: ",")) }
            JSONWriter.write(string: member.key, into: &line)
            line.append(UInt8(ascii: ":"))
            line += member.bytes
        }
        line += [UInt8(ascii: "}"), UInt8(ascii: "\n")]
        return line
    }

    /// The journal stops accepting records (the first failure is the one kept); `unrecorded` is
    /// what it could not record.
    private func stop(_ failure: Failure, unrecorded: [String]) {
        breakdown.withLock { state in
            if state.failure == nil { state.failure = failure }
            state.unrecorded += unrecorded
        }
    }

    private func persist(_ record: Record) throws(Failure) {
        do throws(Failure) {
            if let failure = breakdown.withLock({ $0.failure }) {
                throw Failure(path: path, reason: "it stopped accepting records earlier in this run (\(failure.reason))")
            }
            try writeLine(of: record)
        } catch {
            stop(error, unrecorded: [Self.summary(of: record)])
            throw error
        }
    }

    /// What a record says, for an operator: `incidents.update INC-3: sent, answered status 200
    /// (request req-5)`, or `incidents.update INC-4: not sent`.
    static func summary(of record: Record) -> String {
        let change = record.operation + (record.incident.map { " \($0)" } ?? "")
        guard record.event == .outcome else { return "\(change): not sent" }
        var answer = [record.status.map { "status \($0)" }, record.error].compactMap { $0 }.joined(separator: " ")
        if answer.isEmpty { answer = "no answer" }
        return "\(change): sent, answered \(answer)" + (record.requestID.map { " (request \($0))" } ?? "")
    }

    private func writeLine(of record: Record) throws(Failure) {
        let line = try line(for: record)
        // A short write is retried for the rest, so that a failure names its cause (no space, a
        // file too large); what was written stays as a torn line the next run reports.
        var offset = 0
        while offset < line.count {
            #if canImport(Glibc)
            let written = line.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            #else
            let written = line.withUnsafeBytes { Darwin.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            #endif
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw Failure(path: path, reason: written < 0 ? String(cString: strerror(errno)) : "nothing written") }
            offset += written
        }
        // Flushed by `writeWaiting` for the whole batch: an outcome rides on the next intent's
        // flush (or `flush()`); everything else is on disk before the change it records is sent.
    }

    static func currentUser() -> String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Result {
    fileprivate var isSuccess: Bool {
        if case .success = self { true } else { false }
    }
}
