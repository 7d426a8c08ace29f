import DevRevSandbox
import Foundation
import Testing

/// Regressions for the safety rails around unattended runs: declarations that cannot be
/// misspelled, inputs that surprised, no-op updates.
@Suite("Safety rails")
struct SafetyRailTests {
    @Test func misspelledDeclarationsAreErrorsInCheckAndBeforeRun() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("typos.lua", """
            ---@diagnostic disable: lowercase-global
            --- @name typos
            --- @chnages severity
            --- @parm minutes integer = 30
            --- @changes severty
            print('ran')
            """)
        let check = try await RunbookBinary.run(["check", "typos.lua"], directory: scripts.url)
        #expect(check.status == 65, "\(check.standardError)")
        #expect(check.standardError.split(separator: "\n").map(String.init) == [
            "typos.lua:3: unknown declaration '@chnages'; did you mean '@changes'? (runbook reads @name, @description, @changes, @param and @claim)",
            "typos.lua:4: unknown declaration '@parm'; did you mean '@param'? (runbook reads @name, @description, @changes, @param and @claim)",
            "typos.lua:5: 'severty' is not an incident field an update can change, create, delete, comment, devrev.call or an operation that changes data; did you mean 'severity'?",
        ], "every declaration error at once; the LuaLS annotation passes")
        let run = try await RunbookBinary.run(["run", "typos.lua"], directory: scripts.url)
        #expect(run.status == 65)
        #expect(run.standardOutput.isEmpty, "the script does not start")
    }

    @Test func describeSaysAScriptWithoutChangesMayChangeAnyField() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("open.lua", "--- @name open\nprint(1)\n")
        let result = try await RunbookBinary.run(["describe", "open.lua"], directory: scripts.url)
        #expect(result.standardOutput.contains("changes: any field (no @changes declared)"), "\(result.standardOutput)")
    }

    @Test func checkFollowsRequiredModules() async throws {
        let scripts = try ScriptDirectory()
        try FileManager.default.createDirectory(at: scripts.url.appendingPathComponent("team"), withIntermediateDirectories: true)
        try scripts.write("team/util.lua", "local M = {}\nfunction M.f() return undefined_helper() end\nreturn M\n")
        try scripts.write("broken.lua", "return {\n")
        try scripts.write("main.lua", """
            local util = require('team.util')
            local json = require 'json'
            print(util, json)
            """)
        let lint = try await RunbookBinary.run(["check", "main.lua"], directory: scripts.url)
        #expect(lint.status == 65)
        #expect(lint.standardError.contains("team/util.lua:2: reads the undefined global 'undefined_helper'"), "\(lint.standardError)")
        try scripts.write("main.lua", "local b = require('broken')\nlocal m = require('missing.module')\n")
        let syntax = try await RunbookBinary.run(["check", "main.lua"], directory: scripts.url)
        #expect(syntax.status == 65, "a module's syntax error is a bad script, not exit 1")
        #expect(syntax.standardError.contains("broken.lua:2:"), "\(syntax.standardError)")
        #expect(syntax.standardError.contains("main.lua:2: require('missing.module') finds no module: tried ./missing/module.lua"))
    }

    @Test func aScriptOnStandardInputIsReadOnceAndAShebangIsAllowed() async throws {
        let scripts = try ScriptDirectory()
        let piped = try await RunbookBinary.run(["run", "-"], directory: scripts.url, input: "print('piped')\nerror('boom')\n")
        #expect(piped.status == 1, "\(piped.standardError)")
        #expect(piped.standardOutput == "piped\n")
        #expect(piped.standardError.hasPrefix("stdin:2: boom"), "\(piped.standardError)")
        let devStdin = try await RunbookBinary.run(["run", "/dev/stdin"], directory: scripts.url, input: "error('boom')\n")
        #expect(devStdin.status == 1, "an error in a script read from a pipe is not lost to a second, empty read")
        try scripts.write("tool.lua", "#!/usr/bin/env -S runbook run\n--- @param level 0|1|2 = 1\nprint(math.type(runbook.args.level), runbook.args.level)\nerror('line')\n")
        let shebang = try await RunbookBinary.run(["run", "tool.lua", "--arg", "level=2"], directory: scripts.url)
        #expect(shebang.standardOutput == "integer\t2\n", "numeric choices arrive as numbers: \(shebang.standardError)")
        #expect(shebang.standardError.hasPrefix("tool.lua:4: line"), "line numbers count the shebang line")
        let check = try await RunbookBinary.run(["check", "tool.lua"], directory: scripts.url)
        #expect(check.status == 0, "\(check.standardError)")
    }

    @Test func flagsAndArgumentsThatSurprisedAreRefused() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("args.lua", "--- @param team string\n--- @param days integer = 1\nprint(runbook.args.team)\n")
        let cases: [([String], String)] = [
            (["--arg", "team="], "--arg team is empty; the script requires a value (string)"),
            (["--arg", "team=a", "--arg", "team=b"], "--arg team is given more than once"),
            (["--arg", "team=a", "--memory-limit", "512"], "--memory-limit 512B is too small: at least 1MiB"),
            (["--arg", "team=a", "--max-changes", "-1", "--sandbox"], "--max-changes must be 0 or more"),
        ]
        for (arguments, message) in cases {
            let result = try await RunbookBinary.run(["run", "args.lua"] + arguments, directory: scripts.url)
            #expect(result.status == 64, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
        try scripts.write("ms.lua", "incident.update{ id = 'INC-1', target_close_date = 1790000000000 }\n")
        let milliseconds = try await RunbookBinary.run(["run", "ms.lua", "--sandbox"], directory: scripts.url)
        #expect(milliseconds.status == 65)
        #expect(milliseconds.standardError.contains("it looks like milliseconds: divide by 1000"), "\(milliseconds.standardError)")
    }

    @Test func planFilesGoToStandardOutputOrAnExistingDirectoryAndForeignFilesAreNamed() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("plan.lua", "print('planning')\nincident.update{ id = 'INC-2', severity = 1 }\n")
        let piped = try await RunbookBinary.run(["plan", "plan.lua", "--sandbox", "-o", "-"], directory: scripts.url)
        #expect(piped.status == 0, "\(piped.standardError)")
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(piped.standardOutput.utf8)) as? [String: Any])
        #expect((plan["changes"] as? [Any])?.count == 1)
        #expect(piped.standardError.contains("planning"), "the script's print goes to standard error")
        let both = try await RunbookBinary.run(["plan", "plan.lua", "--sandbox", "-o", "-", "--output", "json"], directory: scripts.url)
        #expect(both.status == 64 && both.standardError.contains("would both write to standard output"), "\(both.standardError)")
        let missing = try await RunbookBinary.run(["plan", "plan.lua", "--sandbox", "-o", "no/such/dir/p.json"], directory: scripts.url)
        #expect(missing.status == 64)
        #expect(missing.standardError.contains("the directory no/such/dir does not exist"))
        #expect(!missing.standardError.contains("planning"), "checked before the script runs")
        let environment = ["DEVREV_TOKEN": "safety-rail-token"]
        try scripts.write("notaplan.json", #"{"hello": 1}"#)
        try scripts.write("v9.json", #"{"version": 9, "changes": []}"#)
        let foreign = try await RunbookBinary.run(["apply", "notaplan.json", "--base-url", "http://127.0.0.1:9"], environment: environment, directory: scripts.url)
        #expect(foreign.status == 65)
        #expect(foreign.standardError.contains("notaplan.json is not a runbook plan"))
        let newer = try await RunbookBinary.run(["apply", "v9.json", "--base-url", "http://127.0.0.1:9"], environment: environment, directory: scripts.url)
        #expect(newer.standardError.contains("plan version 9 is not one this runbook reads"))
    }

    @Test func updatesThatChangeNothingAreNotChanges() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("assert.lua", """
            for _, id in ipairs{ 'INC-1', 'INC-2', 'INC-3' } do
              local current = incident.get(id)
              incident.update{ id = id, severity = current.severity.id, title = current.title }
            end
            incident.update{ id = 'INC-2', severity = 1 }
            """)
        let result = try await RunbookBinary.run(["run", "assert.lua", "--sandbox", "--max-changes", "1"], directory: scripts.url)
        #expect(result.status == 0, "three re-assertions do not trip a budget of one: \(result.standardError)")
        #expect(result.standardOutput.contains("unchanged: 3 would change nothing (INC-1, INC-2, INC-3); not counted, not sent"))
        #expect(result.standardOutput.contains("applied 1 of 1 planned change\n"), "\(result.standardOutput)")
    }

    @Test func devrevsPublishedReadsAreReadsThoughTheirNamesSayOtherwise() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("self.lua", """
            local ok, err = pcall(devrev.call, 'dev-users.self', {})
            print(err.type)
            local ok2, err2 = pcall(devrev.call, 'works.export', {})
            print(err2.type)
            print(pcall(devrev.call, 'works.archive', {}))
            """)
        let result = try await RunbookBinary.run(["run", "self.lua", "--sandbox", "--dry-run"], directory: scripts.url)
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(result.standardOutput) \(result.standardError)")
        #expect(lines.first == "not_found", "dev-users.self is sent as a read (the sandbox does not serve it), not refused as an undeclared change: \(lines)")
        #expect(lines.dropFirst().first == "not_found", "works.export too: \(lines)")
        #expect(lines.dropFirst(2).first?.contains("validation: devrev.call: works.archive changes data") == true, "\(lines)")
    }

    private func journalLines(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func theBudgetHasItsOwnExitCodeAndAPartialApplySaysWhatItLeftUndone() async throws {
        let token = "safety-rail-token"
        try await withTestSandbox(SandboxConfiguration(token: token)) { sandbox, _ in
            let scripts = try ScriptDirectory()
            let state = try ScriptDirectory()
            // Severity 9 is a value only DevRev can refuse (no read lists a tenant's severities).
            try scripts.write("three.lua", """
                incident.update{ id = 'INC-4', severity = 1 }
                incident.update{ id = 'INC-5', severity = 9 }
                incident.comment('INC-4', 'escalated')
                """)
            let budget = try await RunbookBinary.run(["run", "three.lua", "--max-changes", "2"], against: sandbox, token: token, directory: scripts, state: state)
            #expect(budget.status == 79, "the budget is not a typo in the script: \(budget.standardError)")
            #expect(budget.standardError.contains("more than --max-changes 2; nothing was sent"))

            let plan = try await RunbookBinary.run(["plan", "three.lua", "-o", "three.json"], against: sandbox, token: token, directory: scripts, state: state)
            #expect(plan.status == 0, "\(plan.standardError)")
            let apply = try await RunbookBinary.run(["apply", "three.json", "--output", "json"], against: sandbox, token: token, directory: scripts, state: state)
            #expect(apply.status == 80, "partially applied: \(apply.standardError)")
            #expect(apply.standardError.contains("failed   INC-5  severity Sev3 -> 9  (invalid_enum_value (400)"), "\(apply.standardError)")
            #expect(apply.standardError.contains("not sent  INC-4  + comment \"escalated\""))
            #expect(apply.standardError.contains("applied 1 of 3 planned changes; 1 failed; 1 not sent"))
            let report = try #require(try JSONSerialization.jsonObject(with: Data(apply.standardOutput.utf8)) as? [String: Any])
            #expect(report["outcome"] as? String == "partially_applied")
            #expect(report["exit_code"] as? Int == 80)
            let changes = try #require((report["applied"] as? [String: Any])?["changes"] as? [[String: Any]])
            #expect(changes.map { $0["state"] as? String } == ["applied", "failed", "not_sent"])
            let journal = journalLines(state.url.path + "/runbook/audit.jsonl")
            let notSent = journal.filter { $0["event"] as? String == "not_sent" }
            #expect(notSent.count == 1 && notSent.first?["operation"] as? String == "timeline-entries.create", "\(notSent)")
            #expect((journal.last?["target"] as? [String: Any])?["base_url"] as? String == sandbox.baseURL)

            try scripts.write("one.lua", "incident.update{ id = 'INC-6', title = 'renamed' }\n")
            _ = try await RunbookBinary.run(["plan", "one.lua", "-o", "one.json"], against: sandbox, token: token, directory: scripts, state: state)
            let first = try await RunbookBinary.run(["apply", "one.json"], against: sandbox, token: token, directory: scripts, state: state)
            #expect(first.status == 0 && first.standardOutput.contains("applied 1 of 1 planned change"), "\(first.standardOutput)")
            let again = try await RunbookBinary.run(["apply", "one.json"], against: sandbox, token: token, directory: scripts, state: state)
            #expect(again.status == 0, "applying twice finds the change done: \(again.standardOutput) \(again.standardError)")
            #expect(again.standardOutput.contains("applied 0 of 1 planned change; 1 already done"), "\(again.standardOutput)")
        }
    }

    @Test func plansJournalsAndReportsKnowTheirTarget() async throws {
        let token = "safety-rail-token"
        try await withTestSandbox(SandboxConfiguration(token: token)) { sandbox, _ in
            let scripts = try ScriptDirectory()
            let state = try ScriptDirectory()
            let environment = ["DEVREV_TOKEN": token, "XDG_STATE_HOME": state.url.path]
            try scripts.write("one.lua", "incident.update{ id = 'INC-2', severity = 1 }\n")
            let practice = try await RunbookBinary.run(["plan", "one.lua", "--sandbox", "-o", "practice.json"], environment: environment, directory: scripts.url)
            #expect(practice.status == 0, "\(practice.standardError)")
            let refused = try await RunbookBinary.run(["apply", "practice.json"], against: sandbox, token: token, directory: scripts, state: state)
            #expect(refused.status == 65)
            #expect(refused.standardError.contains("the plan was made against the sandbox, not \(sandbox.baseURL); nothing was sent (pass --allow-other-target"))
            #expect(sandbox.statistics.snapshot.count(of: "incidents.update") == 0)
            let forced = try await RunbookBinary.run(["apply", "practice.json", "--allow-other-target"], against: sandbox, token: token, directory: scripts, state: state)
            #expect(forced.standardOutput.contains("INC-2  severity Sev2"), "told explicitly, apply goes on to its checks: \(forced.standardError)")
            #expect(!forced.standardError.contains("--allow-other-target"))

            let sandboxRun = try await RunbookBinary.run(["run", "one.lua", "--sandbox"], environment: environment, directory: scripts.url)
            #expect(sandboxRun.status == 0)
            let practiceJournal = journalLines(state.url.path + "/runbook/sandbox-audit.jsonl")
            #expect(!practiceJournal.isEmpty, "sandbox runs journal apart from production")
            #expect(practiceJournal.allSatisfy { ($0["target"] as? [String: Any])?["sandbox"] as? Bool == true })
            #expect(journalLines(state.url.path + "/runbook/audit.jsonl").allSatisfy { ($0["target"] as? [String: Any])?["sandbox"] as? Bool == false })

            let report = try await RunbookBinary.run(["run", "one.lua", "--sandbox", "--dry-run", "--output", "json"], environment: environment, directory: scripts.url)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any])
            #expect(object["dry_run"] as? Bool == true)
            #expect(object["mode"] as? String == "dry_run")
            #expect(object["version"] is String && object["started_at"] is String && object["ended_at"] is String)
            #expect((object["target"] as? [String: Any])?["sandbox"] as? Bool == true)
            let planned = try #require((object["plan"] as? [[String: Any]])?.first)
            let field = try #require((planned["fields"] as? [[String: Any]])?.first)
            #expect(field["field"] as? String == "severity")
            #expect((field["before"] as? [String: Any])?["label"] as? String == "Sev2", "\(field)")

            let doctor = try await RunbookBinary.run(["doctor", "--base-url", sandbox.baseURL, "--output", "json"], environment: environment)
            let checks = try #require(try JSONSerialization.jsonObject(with: Data(doctor.standardOutput.utf8)) as? [String: Any])
            #expect((checks["checks"] as? [[String: Any]])?.contains { $0["name"] as? String == "api" && $0["level"] as? String == "ok" } == true, "\(doctor.standardOutput)")
        }
    }

    @Test func logLinesNameTimeScriptAndRunAndSayWhatALongRunIsDoing() async throws {
        let token = "safety-rail-token"
        let faults = SandboxConfiguration.Faults(rate: 1, kinds: [.tooManyRequests], operations: ["incidents.update"], limit: 2)
        try await withTestSandbox(SandboxConfiguration(token: token, faults: faults)) { sandbox, _ in
            let scripts = try ScriptDirectory()
            try scripts.write("bulk.lua", """
                log.info('starting', { n = 3 })
                local items = {}
                for i = 1, 3 do items[i] = { id = 'INC-' .. i, severity = 1 } end
                incident.update_many(items, { concurrency = 1 })
                """)
            let environment = ["DEVREV_TOKEN": token]
            let text = try await RunbookBinary.run(["run", "bulk.lua", "--log-level", "info"], against: sandbox, token: token, directory: scripts)
            #expect(text.status == 0, "\(text.standardError)")
            let lines = text.standardError.split(separator: "\n").map(String.init)
            let pattern = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z bulk\.lua\[\d{8}T\d{6}-[0-9a-f]{6}\] (debug|info|warn|error): /#
            #expect(!lines.isEmpty && lines.allSatisfy { $0.contains(pattern) }, "\(lines)")
            #expect(lines.contains { $0.hasSuffix("info: starting n=3") })
            #expect(lines.contains { $0.contains("info: devrev: retrying after=too_many_requests (429)") }, "retries are said as they happen")
            #expect(lines.contains { $0.contains("info: devrev: incidents.update batch: 3 of 3 done errors=0") }, "\(lines)")

            let json = try await RunbookBinary.run(
                ["run", "bulk.lua", "--sandbox", "--log-level", "info", "--output", "json"], environment: environment, directory: scripts.url)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
            let objects = json.standardError.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == json.standardError.split(separator: "\n").count, "every log line is JSON: \(json.standardError)")
            #expect(objects.allSatisfy { $0["run_id"] as? String == report["run_id"] as? String && $0["script"] as? String == "bulk.lua" })
            #expect(objects.contains { $0["source"] as? String == "devrev" }, "the client's lines too")
        }
    }

    @Test func aDryRunShowsWhatARealRunWouldAndReadsItsPlannedCreates() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("shape.lua", """
            local i = incident.update{ id = 'INC-2', severity = 1, stage = { stage = 'mitigated' } }
            print(i.severity.label, i.stage.stage.name)
            local c = incident.create{ title = 'new one', severity = 2 }
            local again = incident.get(c.display_id)
            print(again.title, again.severity.label, type(again.created_date))
            local listed = 0
            for found in incident.list{ severity = {2} } do if found.title == 'new one' then listed = listed + 1 end end
            print(listed)
            """)
        let real = try await RunbookBinary.run(["run", "shape.lua", "--sandbox"], directory: scripts.url)
        let dry = try await RunbookBinary.run(["run", "shape.lua", "--sandbox", "--dry-run"], directory: scripts.url)
        #expect(real.status == 0 && dry.status == 0, "\(real.standardError) \(dry.standardError)")
        #expect(real.standardOutput == "Sev1\tmitigated\nnew one\tSev2\tstring\n1\n")
        #expect(dry.standardOutput.hasPrefix(real.standardOutput), "planned results read like DevRev's: \(dry.standardOutput)")
        #expect(dry.standardOutput.contains("INC-2  severity Sev2 -> Sev1, stage reported -> mitigated"))
    }

    @Test func whatAScriptPrintsWhilePlanningIsNotShownAsDone() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("move.lua", """
            for _, id in ipairs{ 'INC-2', 'INC-3' } do
              incident.update{ id = id, severity = 1 }
              print('moved ' .. id)
            end
            """)
        let over = try await RunbookBinary.run(["run", "move.lua", "--sandbox", "--max-changes", "1"], directory: scripts.url)
        #expect(over.status == 79)
        #expect(over.standardOutput.isEmpty, "nothing moved, so nothing says it did: \(over.standardOutput)")
        #expect(over.standardError.contains("what the script printed while planning (none of its changes were sent):\nmoved INC-2\nmoved INC-3\n"))
        let within = try await RunbookBinary.run(["run", "move.lua", "--sandbox", "--max-changes", "2"], directory: scripts.url)
        #expect(within.status == 0, "\(within.standardError)")
        #expect(within.standardOutput.hasSuffix("applied 2 of 2 planned changes\nmoved INC-2\nmoved INC-3\n"), "\(within.standardOutput)")
    }

    @Test func aBudgetRunRefusesAPlanWithReferencesDevRevDoesNotKnow() async throws {
        let token = "safety-rail-token"
        try await withTestSandbox(SandboxConfiguration(token: token)) { sandbox, _ in
            let scripts = try ScriptDirectory()
            try scripts.write("typo.lua", """
                incident.update{ id = 'INC-1', severity = 2 }
                incident.update{ id = 'INC-2', stage = { stage = 'acknowledgd' } }
                """)
            let run = try await RunbookBinary.run(["run", "typo.lua", "--max-changes", "5"], against: sandbox, token: token, directory: scripts)
            #expect(run.status == 65, "\(run.standardError)")
            #expect(run.standardError.contains(
                "typo.lua:2: validation: incident.update: stage.stage: no stage 'acknowledgd' (stages.custom.get answered not_found)"), "\(run.standardError)")
            #expect(sandbox.statistics.snapshot.count(of: "incidents.update") == 0, "a plan with a bad reference sends nothing, not half")
            for (line, message) in [
                ("incident.update{ id = 'INC-2', owned_by = {'DEVU-44'} }", "owned_by: no dev user 'DEVU-44'"),
                ("incident.update{ id = 'INC-2', applies_to_parts = {'PROD-9'} }", "applies_to_parts: no part 'PROD-9'"),
                ("incident.update{ id = 'INC-2', tags = { { tag_id = 'nosuchtag' } } }", "tags: no tag 'nosuchtag'"),
                ("incident.comment('INC-1', 'x', { expires_at = runbook.now() - 3600 })", "expires_at: must be at least a minute from now"),
            ] {
                try scripts.write("one.lua", line + "\n")
                let dry = try await RunbookBinary.run(["run", "one.lua", "--dry-run"], against: sandbox, token: token, directory: scripts)
                #expect(dry.status == 65 && dry.standardError.contains(message), "\(line): \(dry.standardError)")
            }
            try scripts.write("good.lua", "incident.update{ id = 'INC-2', owned_by = {'DEVU-4'}, applies_to_parts = {'PROD-1'}, tags = { { tag_id = 'database' } } }\n")
            let good = try await RunbookBinary.run(["run", "good.lua", "--dry-run"], against: sandbox, token: token, directory: scripts)
            #expect(good.status == 0, "references that exist pass: \(good.standardError)")

            try scripts.write("note.lua", "incident.comment('INC-1', 'escalated', { external_ref = 'esc-INC-1' })\n")
            let first = try await RunbookBinary.run(["run", "note.lua"], against: sandbox, token: token, directory: scripts)
            #expect(first.status == 0, "\(first.standardError)")
            let again = try await RunbookBinary.run(["run", "note.lua", "--max-changes", "0"], against: sandbox, token: token, directory: scripts)
            #expect(again.status == 0, "a comment already posted is no change, so a budget of 0 holds: \(again.standardError)")
            #expect(again.standardOutput.contains("unchanged: 1 would change nothing (INC-1 comment esc-INC-1 (already posted))"), "\(again.standardOutput)")
        }
    }

    @Test func checkRunsLuacheckWithTheRunbookStandardWhenItIsInstalled() async throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: RunbookBinary.repository.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".lua") }.sorted().map { "examples/" + $0 }
        let clean = try await RunbookBinary.run(["check"] + examples)
        #expect(clean.status == 0, "every example passes luacheck with the runbook standard: \(clean.standardError)")
        #expect(clean.standardOutput.split(separator: "\n").count == examples.count)

        let scripts = try ScriptDirectory()
        try scripts.write("typo.lua", "local x = incident.updte{ id = 'INC-1' }\nprint(x)\ncounter = 1\n")
        let typo = try await RunbookBinary.run(["check", "typo.lua"], directory: scripts.url)
        #expect(typo.status == 65)
        #expect(typo.standardError.contains("typo.lua:1: accessing undefined field 'updte' of global 'incident' (luacheck W143)"),
                "luacheck must be installed (scripts/bootstrap --python): \(typo.standardError)")
        #expect(typo.standardError.contains("typo.lua:3: setting non-standard global variable 'counter' (luacheck W111)"))

        try scripts.write("fine.lua", "print(incident.update ~= nil)\n")
        let without = try await RunbookBinary.run(["check", "fine.lua"], environment: ["PATH": "/nonexistent"], directory: scripts.url)
        #expect(without.status == 0, "without luacheck, check runs its own checks: \(without.standardError)")
    }

    @Test func runbookNewWritesARunbookAndItsTestsThatCheckRunAndPassAndNeverOverwrites() async throws {
        let scripts = try ScriptDirectory()
        let arguments: [String: [String]] = [
            "reassign": ["--arg", "from=DEVU-2", "--arg", "to=DEVU-4"], "tag": ["--arg", "part=PROD-2", "--arg", "tag=database"],
        ]
        for template in ["escalate", "close", "reassign", "stamp", "tag", "blank"] {
            let made = try await RunbookBinary.run(["new", "my-\(template)", "--template", template], directory: scripts.url)
            #expect(made.status == 0, "\(template): \(made.standardError)")
            let check = try await RunbookBinary.run(["check", "my-\(template).lua", "my-\(template)_test.lua"], directory: scripts.url)
            #expect(check.status == 0, "\(template): \(check.standardError)")
            let run = try await RunbookBinary.run(
                ["run", "my-\(template).lua", "--sandbox", "--dry-run"] + (arguments[template] ?? []), directory: scripts.url)
            #expect(run.status == 0, "\(template): \(run.standardError)")
            let source = try String(contentsOf: scripts.url.appendingPathComponent("my-\(template).lua"), encoding: .utf8)
            #expect(source.hasPrefix("--- @name my-\(template)\n"))
        }
        // The tests of every template pass once the golden plans are written.
        let golden = try await RunbookBinary.run(["test", "--update"], directory: scripts.url)
        #expect(golden.status == 0, "\(golden.standardOutput)")
        #expect(golden.standardOutput.contains("golden plan written: golden/my-escalate.plan.json"))
        let tests = try await RunbookBinary.run(["test"], directory: scripts.url)
        #expect(tests.status == 0, "\(tests.standardOutput)")
        #expect(tests.standardOutput.contains("PASS  my-blank_test.lua:12  my-blank > lists what was reported more than 30 minutes ago"),
                "\(tests.standardOutput)")
        try scripts.write("only_test.lua", "it('x', function() end)\n")
        let halfThere = try await RunbookBinary.run(["new", "only"], directory: scripts.url)
        #expect(halfThere.status == 64 && halfThere.standardError.contains("only_test.lua: it exists"))
        #expect(!FileManager.default.fileExists(atPath: scripts.url.appendingPathComponent("only.lua").path), "neither file is written")
        let again = try await RunbookBinary.run(["new", "my-close", "--template", "escalate"], directory: scripts.url)
        #expect(again.status == 64)
        #expect(again.standardError.contains("it exists; runbook new never overwrites a file"))
        #expect(try String(contentsOf: scripts.url.appendingPathComponent("my-close.lua"), encoding: .utf8).contains("@changes stage"))
        let typo = try await RunbookBinary.run(["new", "x", "--template", "escalte"], directory: scripts.url)
        #expect(typo.status == 64 && typo.standardError.contains("did you mean 'escalate'?"))
    }

    @Test func editorSetupWritesItsFilesAndNeverReplacesAnOperatorsOwn() async throws {
        let folder = try ScriptDirectory()
        let first = try await RunbookBinary.run(["editor-setup", folder.url.path])
        #expect(first.status == 0, "\(first.standardError)")
        for file in [".runbook/runbook.lua", ".runbook/runbook-test.lua", ".luarc.json", ".luacheckrc"] {
            #expect(FileManager.default.fileExists(atPath: folder.url.appendingPathComponent(file).path), "\(file)")
        }
        // luacheck itself, in the folder: runbooks with the runbook standard, test files with the test standard.
        for name in ["close-mitigated.lua", "close-mitigated_test.lua"] {
            try folder.write(name, try String(contentsOf: RunbookBinary.repository.appendingPathComponent("examples/" + name), encoding: .utf8))
        }
        try folder.write("typo_test.lua", "it('x', function()\n  incident.update{}\n  assert.sme(1, 1)\nend)\n")
        let folderURL = folder.url
        let lint = await offPool { () -> (Int32, String) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["luacheck", "--formatter", "plain", "--no-color", "."]
            process.currentDirectoryURL = folderURL
            let output = Pipe()
            process.standardOutput = output
            do { try process.run() } catch { return (-1, "\(error)") }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        #expect(lint.1.split(separator: "\n").sorted() == [
            "typo_test.lua:2:3: accessing undefined variable 'incident'",
            "typo_test.lua:3:3: accessing undefined field 'sme' of global 'assert'",
        ], "luacheck must be installed (scripts/bootstrap --python): \(lint.1)")
        let again = try await RunbookBinary.run(["editor-setup", folder.url.path])
        #expect(again.status == 0, "its own files are replaced: \(again.standardError)")

        let theirs = try ScriptDirectory()
        try theirs.write(".luacheckrc", "std = \"lua54\"\n")
        let refused = try await RunbookBinary.run(["editor-setup", theirs.url.path])
        #expect(refused.status == 64)
        #expect(refused.standardError.contains(".luacheckrc exists and was not written by runbook; nothing was written (--force replaces it)"))
        #expect(!FileManager.default.fileExists(atPath: theirs.url.appendingPathComponent(".luarc.json").path))
        #expect(try String(contentsOf: theirs.url.appendingPathComponent(".luacheckrc"), encoding: .utf8) == "std = \"lua54\"\n")
        let forced = try await RunbookBinary.run(["editor-setup", theirs.url.path, "--force"])
        #expect(forced.status == 0)
        #expect(try String(contentsOf: theirs.url.appendingPathComponent(".luacheckrc"), encoding: .utf8).contains("stds.runbook"))
    }
}
