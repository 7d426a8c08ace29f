import DevRevAPI
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `runbook plan -o FILE` writes and `runbook apply FILE` sends.
struct PlanFile: Codable, Sendable {
    var version = 1
    var runID: String
    var script: String
    var scriptSHA256: String
    var arguments: [String: String]
    var created: String
    /// Where the plan was made for; nil in plans written before plans named their target.
    var target: RunTarget?
    var changes: [PlannedChange]

    enum CodingKeys: String, CodingKey {
        case version, script, arguments, created, target, changes
        case runID = "run_id"
        case scriptSHA256 = "script_sha256"
    }

    /// Writes the plan readable by this user only (mode 0600): it holds the requests of changes
    /// to production. Written beside the target and renamed over it, so a reader never sees half.
    func write(to path: String) throws {
        let bytes = try JSONWriter.encode(self, pretty: true)
        let temporary = path + ".\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw PlanError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { FileDescriptorWriter.write($0, to: descriptor) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw PlanError("cannot write \(path): \(reason)")
        }
    }

    /// Where a plan can be written: standard output (`-`), or a file in an existing directory
    /// this user can write. Checked before the script runs; nil when fine.
    static func problem(writingTo path: String) -> String? {
        guard path != "-" else { return nil }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        var info = stat()
        guard stat(directory, &info) == 0 else { return "cannot write the plan \(path): the directory \(directory) does not exist" }
        guard info.st_mode & S_IFMT == S_IFDIR else { return "cannot write the plan \(path): \(directory) is not a directory" }
        guard access(directory, W_OK) == 0 else { return "cannot write the plan \(path): \(directory) is not writable" }
        if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { return "cannot write the plan \(path): it is a directory" }
        return nil
    }

    /// The plan at `path`, checked: a file that is not a plan, a plan of another version and a
    /// change `runbook plan` could not have written are each a clear `PlanError`.
    static func read(_ path: String) throws -> PlanFile {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        struct Header: Decodable { var version: Int?; var changes: JSONValue? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data), let version = header.version, header.changes != nil else {
            throw PlanError("\(path) is not a runbook plan (write one with: runbook plan SCRIPT -o \(path))")
        }
        guard version == 1 else {
            throw PlanError("\(path): plan version \(version) is not one this runbook reads (it reads version 1); make the plan again with this runbook")
        }
        let plan: PlanFile
        do {
            plan = try JSONDecoder().decode(PlanFile.self, from: data)
        } catch {
            throw PlanError("\(path) is not a valid runbook plan: \(DecodingErrorText.describe(error))")
        }
        for (index, change) in plan.changes.enumerated() {
            if let problem = change.problem { throw PlanError("\(path): change \(index + 1) (\(change.operation)): \(problem); nothing was sent") }
        }
        return plan
    }
}

extension PlannedChange {
    /// What is wrong with a change read from a plan file, which anyone who could write the file
    /// may have edited: nil when it is a change `runbook plan` could have written.
    var problem: String? {
        guard let operation = DevRevOperation(named: self.operation) else { return "not a DevRev operation name" }
        guard !operation.isRead else { return "a read is not a change" }
        guard case .object(let fields) = body else { return "the request body is not an object" }
        switch operation.name {
        case DevRevOperation.updateIncident.name, DevRevOperation.deleteIncident.name:
            // The incident is what `apply` checks for changes since the plan: it must be the one sent.
            guard let incident, Planner.text(fields["id"]) == incident else { return "the change does not name the incident its request changes" }
        case DevRevOperation.createTimelineEntry.name:
            guard let incident, Planner.text(fields["object"]) == incident else { return "the comment does not name the incident it is on" }
        default:
            break
        }
        return nil
    }
}

struct PlanError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
