import DevRevAPI
import Foundation

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

    func write(to path: String) throws {
        try Data(JSONWriter.encode(self, pretty: true)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func read(_ path: String) throws -> PlanFile {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let plan = try JSONDecoder().decode(PlanFile.self, from: data)
        guard plan.version == 1 else { throw PlanError("\(path): plan version \(plan.version) is not one this runbook reads") }
        return plan
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
            say("applied  \(label)")
            outcome.applied.append(change.incident ?? "create")
        }
        return outcome
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
