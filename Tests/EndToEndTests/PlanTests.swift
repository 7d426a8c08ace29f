import DevRevAPI
import DevRevSandbox
import Foundation
import Testing

/// Dry runs, plan and apply, and the change budget, against a sandbox this test starts.
@Suite("Dry run, plan and apply")
struct PlanTests {
    static let token = "plan-token"

    private func withSandbox(_ body: (Sandbox, DevRevClient) async throws -> Void) async throws {
        try await withTestSandbox(SandboxConfiguration(token: Self.token), body)
    }

    private func runbook(_ arguments: [String], _ sandbox: Sandbox) async throws -> RunbookBinary.Result {
        try await RunbookBinary.run(arguments + ["--base-url", sandbox.baseURL], environment: ["DEVREV_TOKEN": Self.token])
    }

    @Test func aDryRunSendsNoChangeAndPrintsTheDiff() async throws {
        try await withSandbox { sandbox, client in
            let before = try await client.listIncidents(IncidentsListRequest(limit: 100)).incidents
            let result = try await runbook(["run", "examples/reassign-owner.lua", "--dry-run", "--arg", "from=DEVU-2", "--arg", "to=DEVU-4"], sandbox)
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("dry run: 3 changes planned, nothing sent"))
            #expect(result.standardOutput.contains("  INC-2  owned_by [DEVU-2] -> [DEVU-4]"))
            let after = try await client.listIncidents(IncidentsListRequest(limit: 100)).incidents
            #expect(after == before, "the sandbox is unchanged")
        }
    }

    @Test func inADryRunUpdateReturnsTheIncidentAsItWouldBe() async throws {
        try await withSandbox { sandbox, _ in
            let directory = try ScriptDirectory()
            let script = try directory.write("chore.lua", """
                local seen = incident.get("INC-2")          -- teaches the planner DEVU-4's summary
                incident.get("INC-4")
                local after = incident.update{ id = "INC-2", owned_by = {"DEVU-4"}, stage = "mitigated", title = "renamed" }
                print(runbook.dry_run, after.title, after.owned_by[1].display_id, after.owned_by[1].display_name, after.stage.stage.name)
                print(incident.get("INC-2").title)          -- later reads see the planned state
                local created = incident.create{ title = "new one", severity = 2 }
                print(created.display_id, created.title)
                print(incident.delete("INC-3"))
                """)
            let result = try await runbook(["run", script, "--dry-run"], sandbox)
            #expect(result.status == 0, "\(result.standardError)")
            let lines = result.standardOutput.split(separator: "\n").map(String.init)
            #expect(lines.prefix(4) == ["true\trenamed\tDEVU-4\tdee\tmitigated", "renamed", "PLANNED-1\tnew one", "true"])
            #expect(result.standardOutput.contains("dry run: 3 changes planned, nothing sent"))
            #expect(result.standardOutput.contains("+ create \"new one\""))
            #expect(result.standardOutput.contains("- delete INC-3"))
        }
    }

    @Test func planThenApplySkipsWhatChangedInBetween() async throws {
        try await withSandbox { sandbox, client in
            let directory = try ScriptDirectory()
            let plan = directory.url.appendingPathComponent("plan.json").path
            let planned = try await runbook(["plan", "examples/reassign-owner.lua", "--arg", "from=DEVU-2", "--arg", "to=DEVU-4", "-o", plan], sandbox)
            #expect(planned.status == 0, "\(planned.standardError)")
            #expect(planned.standardOutput.contains("plan: 3 changes written to \(plan); nothing was sent"))
            #expect(try await client.getIncident(id: "INC-7").ownedBy?.first?.displayId == "DEVU-2")

            // Someone edits INC-7 after the plan was made.
            try await Task.sleep(for: .milliseconds(5))
            _ = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-7", title: "edited by a human"))

            let applied = try await RunbookBinary.run(["apply", plan, "--base-url", sandbox.baseURL], environment: ["DEVREV_TOKEN": Self.token])
            #expect(applied.status == 80, "not applied in full: \(applied.standardError)")
            #expect(applied.standardOutput.contains("skipped  INC-7  owned_by [DEVU-2] -> [DEVU-4]  (modified since planned"))
            #expect(applied.standardOutput.contains("applied 2 of 3 planned changes; 1 skipped"))
            #expect(try await client.getIncident(id: "INC-2").ownedBy?.first?.displayId == "DEVU-4")
            #expect(try await client.getIncident(id: "INC-12").ownedBy?.first?.displayId == "DEVU-4")
            #expect(try await client.getIncident(id: "INC-7").ownedBy?.first?.displayId == "DEVU-2")
        }
    }

    @Test func theChangeBudgetSendsNothingWhenExceededAndThePlanOtherwise() async throws {
        try await withSandbox { sandbox, client in
            let over = try await runbook(["run", "examples/close-mitigated.lua", "--max-changes", "1"], sandbox)
            #expect(over.status == 79)
            #expect(over.standardError.contains("the run would make 2 changes, more than --max-changes 1; nothing was sent"))
            #expect(try await client.getIncident(id: "INC-7").stage?.stage?.name == "mitigated")

            let within = try await runbook(["run", "examples/close-mitigated.lua", "--max-changes", "2"], sandbox)
            #expect(within.status == 0, "\(within.standardError)")
            #expect(within.standardOutput.contains("applied 2 of 2 planned changes\n"))
            #expect(try await client.getIncident(id: "INC-7").stage?.stage?.name == "resolved")
            #expect(try await client.getIncident(id: "INC-9").stage?.stage?.name == "resolved")
        }
    }

    @Test func aBadPlanFileIsRefused() async throws {
        let directory = try ScriptDirectory()
        let plan = try directory.write("plan.json", #"{"version": 9, "run_id": "x", "script": "s", "script_sha256": "", "arguments": {}, "created": "", "changes": []}"#)
        let result = try await RunbookBinary.run(["apply", plan], environment: ["DEVREV_TOKEN": "x"])
        #expect(result.status == 65)
        let missing = try await RunbookBinary.run(["apply", "/nonexistent/plan.json"])
        #expect(missing.status == 64)
    }

    /// A plan file is input from whoever could write it: an edited one is refused before anything
    /// is sent, the file is private, and apply prints the request it sends.
    @Test func aTamperedPlanIsRefusedAndAppliedPlansShowWhatWasSent() async throws {
        try await withSandbox { sandbox, _ in
            let directory = try ScriptDirectory()
            let plan = directory.url.appendingPathComponent("plan.json").path
            let planned = try await runbook(["plan", "examples/reassign-owner.lua", "--arg", "from=DEVU-2", "--arg", "to=DEVU-4", "-o", plan], sandbox)
            #expect(planned.status == 0, "\(planned.standardError)")
            let mode = try FileManager.default.attributesOfItem(atPath: plan)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let original = try String(contentsOfFile: plan, encoding: .utf8)
            let tamperings = [
                original.replacingOccurrences(of: #""operation" : "incidents.update""#, with: #""operation" : "../../etc/passwd?x=1""#),
                original.replacingOccurrences(of: #""operation" : "incidents.update""#, with: #""operation" : "incidents.get""#),
                original.replacingOccurrences(of: #""incident" : "INC-7""#, with: #""incident" : "INC-1""#),
            ]
            for (index, text) in tamperings.enumerated() {
                #expect(text != original, "tampering \(index) changed nothing")
                let path = directory.url.appendingPathComponent("tampered-\(index).json").path
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                let applied = try await RunbookBinary.run(["apply", path, "--base-url", sandbox.baseURL], environment: ["DEVREV_TOKEN": Self.token])
                #expect(applied.status == 65, "tampering \(index): \(applied.standardError)")
                #expect(applied.standardError.contains("nothing was sent"))
            }
            #expect(sandbox.statistics.snapshot.count(of: "incidents.update") == 0)
            let applied = try await RunbookBinary.run(["apply", plan, "--base-url", sandbox.baseURL], environment: ["DEVREV_TOKEN": Self.token])
            #expect(applied.status == 0, "\(applied.standardError)")
            #expect(applied.standardOutput.contains(#"[sent incidents.update {"id":"INC-7","owned_by":{"set":["DEVU-4"]}}]"#), "\(applied.standardOutput)")
        }
    }
}
