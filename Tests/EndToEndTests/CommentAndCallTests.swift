import DevRevAPI
import DevRevSandbox
import Foundation
import Testing

/// `incident.comment`, `incident.comments` and `devrev.call`, run by the binary against a sandbox
/// this test starts, with the sandbox's timeline and the audit journal checked afterwards.
@Suite("Comments and devrev.call against the sandbox")
struct CommentAndCallTests {
    static let token = "comment-token"

    private func withSandbox(
        faults: SandboxConfiguration.Faults = .init(), _ body: (Sandbox, DevRevClient) async throws -> Void
    ) async throws {
        try await withTestSandbox(SandboxConfiguration(token: Self.token, faults: faults), body)
    }

    private func runbook(_ arguments: [String], _ sandbox: Sandbox) async throws -> RunbookBinary.Result {
        try await RunbookBinary.run(arguments + ["--base-url", sandbox.baseURL], environment: ["DEVREV_TOKEN": Self.token])
    }

    /// The comments on an incident's timeline, as the sandbox has them.
    /// The incident's comments, less the claims runbook takes (the escalation example declares `@claim`).
    private func comments(_ client: DevRevClient, on incident: String) async throws -> [[String: JSONValue]] {
        let exchange = try await client.send(.listTimelineEntries, body: Array(#"{"object":"\#(incident)"}"#.utf8))
        let page = try JSONDecoder().decode(JSONValue.self, from: Data(exchange.body))
        guard case .object(let fields) = page, case .array(let entries)? = fields["timeline_entries"] else { return [] }
        return entries.compactMap { entry in
            guard case .object(let object) = entry, object["labels"] != .array(["runbook-claim"]) else { return nil }
            return object
        }
    }

    private func journal(_ path: String) throws -> [[String: JSONValue]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else { return [:] }
            return object
        }
    }

    @Test func aCommentAppearsOnTheIncidentWithAnExternalRefFromTheRun() async throws {
        try await withSandbox { sandbox, client in
            let directory = try ScriptDirectory()
            let script = try directory.write("note.lua", """
                local entry = incident.comment("INC-1", "Checked by runbook", { labels = {"checked"} })
                print(entry.type, entry.body, entry.object_display_id, entry.labels[1])
                print(entry.external_ref == "runbook:" .. runbook.run_id .. ":1")
                local again = incident.comment("INC-1", "Second note", { external_ref = "mine-1", expires_at = runbook.now() + 3600 })
                print(again.external_ref)
                local bodies = {}
                for c in incident.comments("INC-1") do bodies[#bodies + 1] = c.body end
                print(table.concat(bodies, "|"))
                for c in incident.comments("INC-1", { labels = {"checked"} }) do print("labelled", c.body) end
                """)
            let result = try await runbook(["run", script], sandbox)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput == """
                timeline_comment\tChecked by runbook\tINC-1\tchecked
                true
                mine-1
                Checked by runbook|Second note
                labelled\tChecked by runbook

                """)
            let stored = try await comments(client, on: "INC-1")
            #expect(stored.map { $0["body"] } == [.string("Checked by runbook"), .string("Second note")])
            #expect(stored.first?["object_type"] == .string("incident"))
        }
    }

    @Test func commentRequestBodiesValidateAgainstTheTimelineEntriesSchema() async throws {
        try await withSandbox { sandbox, client in
            let directory = try ScriptDirectory()
            let audit = directory.url.appendingPathComponent("audit.jsonl").path
            let script = try directory.write("notes.lua", """
                incident.comment("INC-1", "plain")
                incident.comment("INC-2", "every option", {
                  labels = {"a", "b"}, private_to = {"DEVU-2"}, expires_at = runbook.now() + 7200, external_ref = "custom-ref",
                })
                incident.comment("INC-3", "with a visibility and a date string", { visibility = "internal", expires_at = "2099-01-01T00:00:00Z" })
                """)
            let result = try await runbook(["run", script, "--audit-log", audit], sandbox)
            #expect(result.status == 0, "\(result.standardError)")
            let validator = try RequestSchemaValidator(specFile: "timeline-entries-openapi.yaml")
            let bodies = try journal(audit).filter { $0["event"] == .string("intent") }.compactMap { $0["fields"] }
            #expect(bodies.count == 3)
            for body in bodies {
                #expect(validator.problems(body, schema: "timeline-entries-create-request").isEmpty, "\(body)")
            }
            // And what the sandbox answers validates against the response schema.
            let listed = try await client.send(.listTimelineEntries, body: Array(#"{"object":"INC-2"}"#.utf8))
            let response = try JSONDecoder().decode(JSONValue.self, from: Data(listed.body))
            #expect(validator.problems(response, schema: "timeline-entries-list-response").isEmpty, "\(response)")
            // The validator is not a rubber stamp.
            let wrong: JSONValue = .object(["type": "timeline_comment", "object": "INC-1", "labels": .array([.string("")]), "colour": "red"])
            #expect(validator.problems(wrong, schema: "timeline-entries-create-request").count == 2)
            #expect(!validator.problems(.object(["object": "INC-1"]), schema: "timeline-entries-create-request").isEmpty)
        }
    }

    @Test func aUserExternalRefThatExistsIsAConflictError() async throws {
        try await withSandbox { sandbox, client in
            let directory = try ScriptDirectory()
            let script = try directory.write("twice.lua", """
                incident.comment("INC-1", "once", { external_ref = "fixed" })
                local ok, err = pcall(incident.comment, "INC-1", "twice", { external_ref = "fixed" })
                print(ok, err.type, err.status)
                incident.comment("INC-1", "twice", { external_ref = "fixed" })
                """)
            let result = try await runbook(["run", script], sandbox)
            #expect(result.standardOutput == "false\tconflict\t409\n")
            #expect(result.status == 1, "a conflict the run did not cause is a script error")
            #expect(try await comments(client, on: "INC-1").count == 1)
        }
    }

    @Test func badCommentArgumentsAreValidationErrorsNamingTheField() async throws {
        try await withSandbox { sandbox, client in
            let directory = try ScriptDirectory()
            let cases: [(String, String)] = [
                (#"incident.comment("INC-1", "")"#, "incident.comment: body: expected the comment's text"),
                (#"incident.comment("INC-1", "x", { label = {"a"} })"#, "unknown option 'label'; did you mean 'labels'?"),
                (#"incident.comment("INC-1", "x", { labels = {string.rep("a", 65)} })"#, "labels[1]: must be 1 to 64 characters"),
                (#"incident.comment("INC-1", "x", { visibility = "secret" })"#, "visibility"),
                (#"incident.comment(42, "x")"#, "expected an incident id"),
            ]
            for (index, (line, message)) in cases.enumerated() {
                let script = try directory.write("bad\(index).lua", line + "\n")
                let result = try await runbook(["run", script], sandbox)
                #expect(result.status == 65, "\(line): \(result.standardError)")
                #expect(result.standardError.contains(message), "\(line): \(result.standardError)")
            }
            #expect(try await comments(client, on: "INC-1").isEmpty)
        }
    }

    @Test func aRetryAfterALostResponsePostsOnce() async throws {
        // The first create is committed, then its connection closes without an answer.
        let faults = SandboxConfiguration.Faults(rate: 1, kinds: [.lost], operations: ["timeline-entries.create"], limit: 1)
        try await withSandbox(faults: faults) { sandbox, client in
            let directory = try ScriptDirectory()
            let audit = directory.url.appendingPathComponent("audit.jsonl").path
            let script = try directory.write("note.lua", """
                local entry = incident.comment("INC-3", "Paged the database on-call")
                print(entry.body, entry.external_ref == "runbook:" .. runbook.run_id .. ":1")
                """)
            let result = try await runbook(["run", script, "--audit-log", audit, "--output", "json"], sandbox)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardError.contains("Paged the database on-call\ttrue"))
            let stored = try await comments(client, on: "INC-3")
            #expect(stored.count == 1, "posted once, not twice")
            let report = try JSONDecoder().decode(JSONValue.self, from: Data(result.standardOutput.utf8))
            guard case .object(let fields) = report, case .array(let calls)? = fields["calls"],
                case .object(let create)? = calls.first
            else {
                Issue.record("no calls in \(result.standardOutput)")
                return
            }
            #expect(create["operation"] == .string("timeline-entries.create"))
            #expect(create["attempts"] == .integer(2))
            let outcome = try journal(audit).last { $0["event"] == .string("outcome") }
            #expect(outcome?["status"] == .integer(409))
            guard case .string(let note)? = outcome?["note"] else {
                Issue.record("the outcome has no note: \(String(describing: outcome))")
                return
            }
            #expect(note.contains("done by an earlier attempt"))
        }
    }

    @Test func theEscalationExampleCommentsOnceAcrossRuns() async throws {
        try await withSandbox { sandbox, client in
            let first = try await runbook(["run", "examples/escalate-unacknowledged.lua"], sandbox)
            #expect(first.status == 0, "\(first.standardError)")
            #expect(first.standardOutput == "INC-2  severity Sev2 -> Sev1  Payments API latency above 2 s\n")
            let noted = try await comments(client, on: "INC-2")
            #expect(noted.count == 1)
            #expect(noted.first?["body"] == .string("Escalated: unacknowledged for 30 min (Sev2 -> Sev1)"))
            #expect(noted.first?["labels"] == .array(["runbook-escalated"]))

            // A responder puts it back as it was; the runbook must not escalate or comment again.
            _ = try await client.updateIncident(IncidentsUpdateRequest(
                id: "INC-2", severity: 2, stage: UpdateStage(stage: "reported"), stageValidationOptions: [.allowInvalidTransition]))
            let second = try await runbook(["run", "examples/escalate-unacknowledged.lua", "--log-level", "info"], sandbox)
            #expect(second.status == 0, "\(second.standardError)")
            #expect(second.standardOutput.isEmpty)
            #expect(second.standardError.contains("escalated before; leaving it to the responders incident=INC-2"))
            #expect(try await comments(client, on: "INC-2").count == 1)
            #expect(try await client.getIncident(id: "INC-2").severity?.id == 2)
        }
    }

    @Test func aPlannedCommentIsInTheDiffAndApplyPostsItWithThePlannedRef() async throws {
        try await withSandbox { sandbox, client in
            let directory = try ScriptDirectory()
            let plan = directory.url.appendingPathComponent("plan.json").path
            let dry = try await runbook(["run", "examples/escalate-unacknowledged.lua", "--dry-run"], sandbox)
            #expect(dry.status == 0, "\(dry.standardError)")
            #expect(dry.standardOutput.contains(#"INC-2  + comment "Escalated: unacknowledged for 30 min (Sev2 -> "#))
            #expect(try await comments(client, on: "INC-2").isEmpty)

            let planned = try await runbook(["plan", "examples/escalate-unacknowledged.lua", "-o", plan], sandbox)
            #expect(planned.status == 0, "\(planned.standardError)")
            let file = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: plan)))
            guard case .object(let fields) = file, case .array(let changes)? = fields["changes"], case .object(let comment)? = changes.last,
                case .object(let body)? = comment["body"], case .string(let reference)? = body["external_ref"]
            else {
                Issue.record("no planned comment in \(file)")
                return
            }
            let applied = try await RunbookBinary.run(["apply", plan, "--base-url", sandbox.baseURL], environment: ["DEVREV_TOKEN": Self.token])
            #expect(applied.status == 0, "\(applied.standardError)")
            #expect(applied.standardOutput.contains("applied 2 of 2 planned changes; 1 claim taken"), "\(applied.standardOutput)")
            #expect(try await comments(client, on: "INC-2").map { $0["external_ref"] } == [.string(reference)])

            // Applying the same plan again posts nothing twice.
            let again = try await RunbookBinary.run(["apply", plan, "--base-url", sandbox.baseURL], environment: ["DEVREV_TOKEN": Self.token])
            #expect(again.status == 0, "\(again.standardError)")
            #expect(again.standardOutput.contains("(the incident already holds the planned values)"), "\(again.standardOutput)")
            #expect(again.standardOutput.contains("(already posted: the incident has a comment with this external_ref)"))
            #expect(again.standardOutput.contains("(already claimed by an earlier apply of this plan)"))
            #expect(again.standardOutput.contains("applied 0 of 2 planned changes; 2 already done"))
            #expect(try await comments(client, on: "INC-2").count == 1)
        }
    }

    // MARK: devrev.call

    @Test func devrevCallReadsWithoutADeclaration() async throws {
        try await withSandbox { sandbox, _ in
            let directory = try ScriptDirectory()
            let script = try directory.write("read.lua", """
                local response = devrev.call("incidents.get", { id = "INC-1" })
                print(response.incident.display_id, response.incident.title)
                local ok, err = pcall(devrev.call, "incidents.get", { id = "INC-999" })
                print(ok, err.type, err.status)
                """)
            let result = try await runbook(["run", script], sandbox)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput == "INC-1\tCheckout returns 502 for EU customers\nfalse\tnot_found\t404\n")
        }
    }

    @Test func devrevCallMutationsNeedADeclaration() async throws {
        try await withSandbox { sandbox, client in
            let directory = try ScriptDirectory()
            let undeclared = try directory.write("undeclared.lua", #"devrev.call("incidents.update", { id = "INC-1", title = "x" })"# + "\n")
            let refused = try await runbook(["run", undeclared], sandbox)
            #expect(refused.status == 65)
            #expect(refused.standardError.contains("incidents.update changes data, and the script does not declare it"))
            let other = try directory.write("other.lua", "--- @changes tags.create\n" + #"devrev.call("incidents.update", { id = "INC-1", title = "x" })"# + "\n")
            #expect(try await runbook(["run", other], sandbox).status == 65)
            #expect(try await client.getIncident(id: "INC-1").title == "Checkout returns 502 for EU customers")
        }
    }

    @Test func devrevCallMutationsAreSentJournaledPlannedAndCounted() async throws {
        try await withSandbox { sandbox, client in
            let directory = try ScriptDirectory()
            let audit = directory.url.appendingPathComponent("audit.jsonl").path
            let script = try directory.write("rename.lua", """
                --- @changes incidents.update
                local response = devrev.call("incidents.update", { id = "INC-1", title = "Renamed through devrev.call" })
                print(runbook.dry_run, response and response.incident.title)
                """)
            let dry = try await runbook(["run", script, "--dry-run"], sandbox)
            #expect(dry.status == 0, "\(dry.standardError)")
            #expect(dry.standardOutput.contains("true\tnil"))
            #expect(dry.standardOutput.contains(#"+ call incidents.update {"id":"INC-1","title":"Renamed through devrev.call"}"#))
            #expect(try await client.getIncident(id: "INC-1").title == "Checkout returns 502 for EU customers")

            let over = try await runbook(["run", script, "--max-changes", "0"], sandbox)
            #expect(over.status == 79)
            #expect(over.standardError.contains("more than --max-changes 0; nothing was sent"))
            #expect(try await client.getIncident(id: "INC-1").title == "Checkout returns 502 for EU customers")

            let within = try await runbook(["run", script, "--max-changes", "1", "--audit-log", audit], sandbox)
            #expect(within.status == 0, "\(within.standardError)")
            #expect(within.standardOutput.contains("applied 1 of 1 planned change\n"))
            #expect(try await client.getIncident(id: "INC-1").title == "Renamed through devrev.call")

            let live = try await runbook(["run", script, "--audit-log", audit], sandbox)
            #expect(live.status == 0, "\(live.standardError)")
            #expect(live.standardOutput == "false\tRenamed through devrev.call\n")
            let records = try journal(audit).filter { $0["operation"] == .string("incidents.update") }
            #expect(records.map { $0["event"] } == [.string("intent"), .string("outcome"), .string("intent"), .string("outcome")])
            #expect(records.last?["status"] == .integer(200))
        }
    }

    @Test func devrevCallRetriesAnUpdateButNeverACreateAfterA5xx() async throws {
        let faults = SandboxConfiguration.Faults(rate: 1, kinds: [.internalError], operations: ["incidents.create", "incidents.update"], limit: 2)
        try await withSandbox(faults: faults) { sandbox, client in
            let directory = try ScriptDirectory()
            let script = try directory.write("calls.lua", """
                --- @changes devrev.call
                local ok, err = pcall(devrev.call, "incidents.create", { title = "created through devrev.call" })
                print(ok, err.type, err.status)
                local updated = devrev.call("incidents.update", { id = "INC-1", title = "updated after a retry" })
                print(updated.incident.title)
                devrev.call("incidents.create", { title = "created through devrev.call" })
                """)
            let result = try await runbook(["run", script, "--output", "json"], sandbox)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardError.contains("false\tinternal_error\t500\nupdated after a retry\n"))
            let report = try JSONDecoder().decode(JSONValue.self, from: Data(result.standardOutput.utf8))
            guard case .object(let fields) = report, case .array(let calls)? = fields["calls"] else {
                Issue.record("no report: \(result.standardOutput)")
                return
            }
            let attempts = calls.compactMap { call -> String? in
                guard case .object(let call) = call, case .string(let operation)? = call["operation"], case .integer(let count)? = call["attempts"] else { return nil }
                return "\(operation):\(count)"
            }
            #expect(attempts == ["incidents.create:1", "incidents.update:2", "incidents.create:1"])
            let created = try await client.listIncidents(IncidentsListRequest(title: ["created through devrev.call"]))
            #expect(created.incidents?.count == 1, "the failed create was not retried; the last one went through")
        }
    }
}
