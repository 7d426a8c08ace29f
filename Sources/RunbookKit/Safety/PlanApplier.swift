import DevRevAPI

/// Sends planned changes (`runbook apply`, and the second phase of `--max-changes`), skipping any
/// incident modified since it was planned, and says precisely what happened to each change.
enum PlanApplier {
    /// What became of one planned change.
    struct Entry: Sendable, Encodable {
        enum State: String, Sendable, Encodable {
            /// Sent, and DevRev answered with success.
            case applied
            /// Not sent because it was already done (a comment posted by an earlier apply).
            case alreadyDone = "already_done"
            /// Not sent: its incident changed or went away since the plan, or a change it depends on was skipped.
            case skipped
            /// Sent, and DevRev refused it or could not be reached: the apply stopped here.
            case failed
            /// Never sent: the apply stopped before it.
            case notSent = "not_sent"
            /// Not sent: another run holds the incident's claim for this window (`@claim`). Not a
            /// failure: that run acts on the incident.
            case claimedElsewhere = "claimed_elsewhere"
        }

        var change: PlannedChange
        var state: State
        var reason: String?

        enum CodingKeys: String, CodingKey { case change, state, reason }
    }

    struct Outcome: Sendable, Encodable {
        var entries: [Entry] = []
        /// Why the apply stopped part-way, if it did.
        var failure: ScriptFailure?

        /// The changes in `state`; claims are not changes, and not counted.
        func count(_ state: Entry.State) -> Int { entries.count { $0.state == state && !$0.change.isClaim } }

        /// `applied 2 of 4 planned changes; 1 already done; 1 skipped; 2 claims taken`.
        var summary: String {
            let changes = entries.count { !$0.change.isClaim }
            var line = "applied \(count(.applied)) of \(changes) planned change\(changes == 1 ? "" : "s")"
            for (state, name) in [(Entry.State.alreadyDone, "already done"), (.skipped, "skipped"), (.failed, "failed"), (.notSent, "not sent"),
                                  (.claimedElsewhere, "claimed elsewhere")] {
                let number = count(state)
                if number > 0 { line += "; \(number) \(name)" }
            }
            let taken = entries.count { $0.change.isClaim && $0.state == .applied }
            if taken > 0 { line += "; \(taken) claim\(taken == 1 ? "" : "s") taken" }
            return line
        }

        /// 0 when the whole plan holds now (applied or already done); the failure's own status
        /// when nothing was sent or skipped before it; else `partiallyApplied`.
        var status: ExitStatus {
            if let failure {
                let nothingHappened = count(.applied) == 0 && count(.skipped) == 0
                return nothingHappened ? failure.exitStatus : .partiallyApplied
            }
            return count(.skipped) > 0 ? .partiallyApplied : .success
        }

        enum CodingKeys: String, CodingKey { case changes, summary, error }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(entries, forKey: .changes)
            try container.encode(summary, forKey: .summary)
            try container.encodeIfPresent(failure?.description, forKey: .error)
        }
    }

    /// Sends `changes` in order. A failure stops the apply: the change that failed and every one
    /// after it are in the outcome (and the unsent ones journaled as `not_sent`), never lost.
    static func apply(_ changes: [PlannedChange], connection: DevRevConnection, say: (String) -> Void) -> Outcome {
        var outcome = Outcome()
        var skippedIncidents: Set<String> = []
        var claimedElsewhere: [String: String] = [:]
        for (index, change) in changes.enumerated() {
            do throws(ScriptFailure) {
                let entry: Entry
                if let id = change.incident, let holder = claimedElsewhere[id] {
                    let note = "not sent: \(holder) holds the incident's claim"
                    connection.journalNotSent(operation: change.operation, incident: id, body: change.body, note: note)
                    entry = Entry(change: change, state: .claimedElsewhere, reason: note)
                } else if change.isClaim, let id = change.incident {
                    switch try connection.postPlannedClaim(change.body, incident: id) {
                    case (.taken, false): entry = Entry(change: change, state: .applied)
                    case (.taken, true): entry = Entry(change: change, state: .alreadyDone, reason: "already claimed by an earlier apply of this plan")
                    case (.lost(let holder), _):
                        claimedElsewhere[id] = holder
                        entry = Entry(change: change, state: .claimedElsewhere, reason: "claimed by \(holder) for this window")
                    }
                } else {
                    entry = try apply(change, connection: connection, skippedIncidents: skippedIncidents)
                }
                if entry.state == .skipped, let id = change.incident { skippedIncidents.insert(id) }
                switch entry.state {
                case .applied: say("applied  \(change.summary)  [sent \(operation(of: change).name) \(shown(change.body))]")
                case .claimedElsewhere: say("claimed  \(change.summary)  (\(entry.reason ?? ""))")
                default: say("\(entry.state == .alreadyDone ? "done   " : "skipped")  \(change.summary)  (\(entry.reason ?? ""))")
                }
                outcome.entries.append(entry)
            } catch {
                outcome.failure = error
                outcome.entries.append(Entry(change: change, state: .failed, reason: error.description))
                say("failed   \(change.summary)  (\(error.description))")
                for rest in changes[(index + 1)...] {
                    let note = "not sent: the apply stopped at an earlier change (\(error.type))"
                    connection.journalNotSent(operation: rest.operation, incident: rest.incident, body: rest.body, note: note)
                    outcome.entries.append(Entry(change: rest, state: .notSent, reason: note))
                    say("not sent  \(rest.summary)")
                }
                break
            }
        }
        return outcome
    }

    private static func apply(_ change: PlannedChange, connection: DevRevConnection, skippedIncidents: Set<String>) throws(ScriptFailure) -> Entry {
        if let id = change.incident, let planned = change.plannedModifiedDate {
            let response: JSONValue
            do {
                response = try connection.send(.getIncident, body: .object(["id": .string(id)]), incident: id)
            } catch where error.status == 404 {
                return Entry(change: change, state: .skipped, reason: "the incident no longer exists")
            }
            let now = incidentModifiedDate(response)
            if now != planned {
                // Applying a plan twice, or a colleague who made the same change: the incident
                // already holds what the plan sets.
                if change.operation == DevRevOperation.updateIncident.name, let fields = change.fields, !fields.isEmpty,
                   case .object(let top) = response, case .object(let incident)? = top["incident"],
                   fields.allSatisfy({ field in field.after.map { $0.isSubset(of: incident[field.field] ?? .null) } ?? (incident[field.field] == nil) })
                {
                    return Entry(change: change, state: .alreadyDone, reason: "the incident already holds the planned values")
                }
                return Entry(change: change, state: .skipped, reason: "modified since planned: \(planned) -> \(now ?? "-")")
            }
        }
        let operation = operation(of: change)
        if operation.name == DevRevOperation.createTimelineEntry.name {
            // A comment says what the run did to its incident: not without the change itself.
            if let id = change.incident, skippedIncidents.contains(id) {
                return Entry(change: change, state: .skipped, reason: "a change to the incident was skipped")
            }
            do {
                _ = try connection.send(operation, body: change.body, incident: change.incident, conflictOnRetryIsDone: operation.isIdempotent)
            } catch where error.status == 409 && operation.isIdempotent {
                return Entry(change: change, state: .alreadyDone, reason: "already posted: the incident has a comment with this external_ref")
            }
        } else {
            _ = try connection.send(operation, body: change.body, incident: change.incident)
        }
        return Entry(change: change, state: .applied)
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

    static func incidentModifiedDate(_ response: JSONValue) -> String? {
        guard case .object(let fields) = response, case .object(let incident)? = fields["incident"] else { return nil }
        return Planner.text(incident["modified_date"])
    }
}
