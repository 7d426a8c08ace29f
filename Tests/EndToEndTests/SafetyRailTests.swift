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
            "typos.lua:3: unknown declaration '@chnages'; did you mean '@changes'? (runbook reads @name, @description, @changes and @param)",
            "typos.lua:4: unknown declaration '@parm'; did you mean '@param'? (runbook reads @name, @description, @changes and @param)",
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
        #expect(result.standardOutput.contains("unchanged: 3 updates would change nothing (INC-1, INC-2, INC-3); not counted, not sent"))
        #expect(result.standardOutput.contains("applied 1 of 1 planned changes"), "\(result.standardOutput)")
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
}
