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
    var changes: [PlannedChange]

    enum CodingKeys: String, CodingKey {
        case version, script, arguments, created, changes
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

/// Sends planned changes, skipping (and reporting) any incident modified since it was planned.
enum PlanApplier {
    struct Outcome {
        var applied: [String] = []
        var skipped: [String] = []
    }

    static func apply(_ changes: [PlannedChange], connection: DevRevConnection, say: (String) -> Void) throws(ScriptFailure) -> Outcome {
        var outcome = Outcome()
        for change in changes {
            let label = change.summary
            if let id = change.incident, let planned = change.plannedModifiedDate {
                let response: JSONValue
                do {
                    response = try connection.send(.getIncident, body: .object(["id": .string(id)]), incident: id)
                } catch where error.status == 404 {
                    say("skipped  \(label)  (the incident no longer exists)")
                    outcome.skipped.append(id)
                    continue
                }
                let now = incidentModifiedDate(response)
                if now != planned {
                    say("skipped  \(label)  (modified since planned: \(planned) -> \(now ?? "-"))")
                    outcome.skipped.append(id)
                    continue
                }
            }
            let operation = Self.operation(of: change)
            if operation.name == DevRevOperation.createTimelineEntry.name {
                // A comment says what the run did to its incident: not without the change itself.
                if let id = change.incident, outcome.skipped.contains(id) {
                    say("skipped  \(label)  (a change to the incident was skipped)")
                    continue
                }
                do {
                    _ = try connection.send(operation, body: change.body, incident: change.incident, conflictOnRetryIsDone: operation.isIdempotent)
                } catch where error.status == 409 && operation.isIdempotent {
                    say("skipped  \(label)  (already posted: the incident has a comment with this external_ref)")
                    continue
                }
            } else {
                _ = try connection.send(operation, body: change.body, incident: change.incident)
            }
            say("applied  \(label)  [sent \(operation.name) \(Self.shown(change.body))]")
            outcome.applied.append(change.incident ?? "create")
        }
        return outcome
    }

    /// The request as sent, for the operator: compact JSON, cut at 300 characters.
    static func shown(_ body: JSONValue) -> String {
        let text = (try? String(decoding: JSONWriter.bytes(body), as: UTF8.self)) ?? "?"
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    /// The operation to send a planned change with, and whether a retry is safe.
    static func operation(of change: PlannedChange) -> DevRevOperation {
        if change.operation == DevRevOperation.createTimelineEntry.name, case .object(let body) = change.body, body["external_ref"] != nil {
            return .createTimelineEntryWithExternalRef
        }
        return DevRevOperation(named: change.operation) ?? DevRevOperation(name: change.operation, isIdempotent: false)
    }

    private static func incidentModifiedDate(_ response: JSONValue) -> String? {
        guard case .object(let fields) = response, case .object(let incident)? = fields["incident"] else { return nil }
        return Planner.text(incident["modified_date"])
    }
}
