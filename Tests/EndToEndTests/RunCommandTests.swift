import Foundation
import Testing

@Suite("runbook run, check and version")
struct RunCommandTests {
    @Test func theExampleRunsWithItsArguments() async throws {
        let result = try await RunbookBinary.run(["run", "examples/hello.lua", "--arg", "service=checkout", "--arg", "minutes=45"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("On-call chores for checkout\n===========================\n"))
        #expect(result.standardOutput.contains("- escalate sev-2s unacknowledged for 45 minutes\n"))
        #expect(result.standardError.isEmpty)
    }

    @Test func anUncaughtErrorExits1WithTheLineAndATraceback() async throws {
        let scripts = try ScriptDirectory()
        let script = "fails.lua"
        try scripts.write("fails.lua", "local function check()\n  error('incident INC-42 has no owner')\nend\ncheck()\n")
        let result = try await RunbookBinary.run(["run", script], directory: scripts.url)
        #expect(result.status == 1)
        #expect(result.standardError.hasPrefix("\(script):2: incident INC-42 has no owner\nstack traceback:\n"))
        #expect(result.standardError.contains("\(script):4: in main chunk"))
    }

    @Test func anErrorTablePrintsThroughTostring() async throws {
        let scripts = try ScriptDirectory()
        let script = "table.lua"
        try scripts.write(
            "table.lua", "\nerror(setmetatable({type = 'not_found'}, {__tostring = function(e) return e.type .. ' (404): gone' end}))")
        let result = try await RunbookBinary.run(["run", script], directory: scripts.url)
        #expect(result.status == 1)
        #expect(result.standardError.hasPrefix("\(script):2: not_found (404): gone\n"))
    }

    @Test func aSyntaxErrorExits65() async throws {
        let scripts = try ScriptDirectory()
        let script = "syntax.lua"
        try scripts.write("syntax.lua", "local x = 1\nif x then\n")
        let result = try await RunbookBinary.run(["run", script], directory: scripts.url)
        #expect(result.status == 65)
        #expect(result.standardError.hasPrefix("\(script):3: 'end' expected"))
    }

    /// The VM's hook stops the loop at the deadline; the watchdog (a second later, with "did not
    /// return to Lua") never has to. How long it took is measured by scripts/bench, not here.
    @Test func anInfiniteLoopWithTimeout1sExits124FromTheHook() async throws {
        let scripts = try ScriptDirectory()
        let script = "loop.lua"
        try scripts.write("loop.lua", "while true do end\n")
        let result = try await RunbookBinary.run(["run", script, "--timeout", "1s"], directory: scripts.url)
        #expect(result.status == 124)
        #expect(result.standardError.hasPrefix("\(script):1: timeout: the script ran past --timeout 1s"))
        #expect(!result.standardError.contains("did not return to Lua"))
    }

    @Test func workThatNeverReturnsToLuaIsStoppedByTheWatchdog() async throws {
        let scripts = try ScriptDirectory()
        // Pattern matching backtracks in C, where the VM's hook cannot reach.
        let script = "backtrack.lua"
        try scripts.write("backtrack.lua", "return string.find(string.rep('a', 30000), '.-.-.-.-b')\n")
        let result = try await RunbookBinary.run(["run", script, "--timeout", "500ms"], directory: scripts.url)
        #expect(result.status == 124)
        #expect(result.standardError.contains("ran past --timeout 500ms and did not return to Lua"))
    }

    @Test func aMemoryBombExits1NamingTheLimit() async throws {
        let scripts = try ScriptDirectory()
        let script = "bomb.lua"
        try scripts.write("bomb.lua", "local parts = {}\nfor i = 1, 1e9 do parts[i] = string.rep('x', 1024) .. i end\n")
        let result = try await RunbookBinary.run(["run", script, "--memory-limit", "32M"], directory: scripts.url)
        #expect(result.status == 1)
        #expect(result.standardError.hasPrefix("\(script):2: memory limit: the script used more than --memory-limit 32MiB"))
    }

    @Test(arguments: [
        ["run"],
        ["run", "x.lua", "--timeout", "soon"],
        ["run", "x.lua", "--timeout", "0s"],
        ["run", "x.lua", "--memory-limit", "lots"],
        ["run", "x.lua", "--arg", "novalue"],
        ["run", "x.lua", "--arg", "1x=2"],
        ["run", "x.lua", "--no-such-option"],
        ["frobnicate"],
    ])
    func aBadCommandLineExits64(arguments: [String]) async throws {
        let result = try await RunbookBinary.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.standardError)")
    }

    @Test func aMissingScriptExits64() async throws {
        let result = try await RunbookBinary.run(["run", "/nonexistent/script.lua"])
        #expect(result.status == 64)
        #expect(result.standardError == "runbook: cannot read /nonexistent/script.lua: No such file or directory\n")
    }

    @Test func theTokenNeverReachesTheScript() async throws {
        let scripts = try ScriptDirectory()
        let token = "devrev-token-e2e-4f1c2a"
        let script = "env.lua"
        try scripts.write("env.lua", "print(os.getenv('DEVREV_TOKEN'), os.getenv('RUNBOOK_E2E'), os.getenv('HOME'))\nerror(os.getenv('DEVREV_TOKEN') or 'hidden')")
        let environment = ["DEVREV_TOKEN": token, "RUNBOOK_E2E": "seen", "RUNBOOK_ALLOW_ENV": "DEVREV_TOKEN,HOME"]
        let result = try await RunbookBinary.run(["run", script, "--allow-env", "RUNBOOK_E2E"], environment: environment, directory: scripts.url)
        #expect(result.standardOutput.hasPrefix("nil\tseen\t/"), "RUNBOOK_ALLOW_ENV allows HOME but never the token")
        #expect(!result.standardOutput.contains(token))
        #expect(!result.standardError.contains(token))
        let allowed = try await RunbookBinary.run(["run", script, "--allow-env", "DEVREV_TOKEN"], environment: environment, directory: scripts.url)
        #expect(allowed.status == 64)
        #expect(allowed.standardError.contains("--allow-env DEVREV_TOKEN: the token never enters a script"))
    }

    @Test func numericFlagsAtTheirLimitsAreRefusedOrHonouredNeverATrap() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("ok.lua", "print('ran')")
        let wait = try await RunbookBinary.run(["run", "ok.lua", "--lock-wait", "1e19"], directory: scripts.url)
        #expect(wait.status == 64, "\(wait.standardError)")
        #expect(wait.standardError.contains("--lock-wait"))
        let timeout = try await RunbookBinary.run(["run", "ok.lua", "--timeout", "99999999999s"], directory: scripts.url)
        #expect(timeout.status == 64)
        let memory = try await RunbookBinary.run(["run", "ok.lua", "--memory-limit", "9223372036854775807", "--no-lock"], directory: scripts.url)
        #expect(memory.status == 0, "\(memory.standardError)")
        #expect(memory.standardOutput == "ran\n")
        let zero = try await RunbookBinary.run(["run", "ok.lua", "--lock-wait", "0"], directory: scripts.url)
        #expect(zero.status == 0, "--lock-wait 0 is no wait: \(zero.standardError)")
    }

    @Test func getenvAnswersOnlyForAllowedNames() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("env.lua", "print(os.getenv('RUNBOOK_E2E'), os.getenv('PATH'))")
        let result = try await RunbookBinary.run(["run", "env.lua"], environment: ["RUNBOOK_E2E": "seen"], directory: scripts.url)
        #expect(result.status == 0)
        #expect(result.standardOutput == "nil\tnil\n")
    }

    @Test func requireSearchesTheScriptDirectoryThenRunbookPath() async throws {
        let scripts = try ScriptDirectory()
        let library = try ScriptDirectory()
        try library.write("shared/util.lua", "return { answer = 42 }")
        try scripts.write("local_helper.lua", "return { name = 'local' }")
        let script = "main.lua"
        try scripts.write("main.lua", "print(require('local_helper').name, require('shared.util').answer)")
        let result = try await RunbookBinary.run(["run", script], environment: ["RUNBOOK_PATH": "/nonexistent;\(library.url.path)"], directory: scripts.url)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "local\t42\n")
    }

    @Test func checkCompilesWithoutRunning() async throws {
        let scripts = try ScriptDirectory()
        let good = "good.lua"
        try scripts.write("good.lua", "print('this must not run')\nwhile true do end")
        let bad = "bad.lua"
        try scripts.write("bad.lua", "\n\nlocal = 3")
        let ok = try await RunbookBinary.run(["check", good], directory: scripts.url)
        #expect(ok.status == 0)
        #expect(ok.standardOutput == "\(good): ok\n")
        let failing = try await RunbookBinary.run(["check", good, bad], directory: scripts.url)
        #expect(failing.status == 65)
        #expect(failing.standardError.hasPrefix("\(bad):3: <name> expected near '='"))
        let missing = try await RunbookBinary.run(["check", bad, "/nonexistent.lua"], directory: scripts.url)
        #expect(missing.status == 64)
    }

    @Test func versionAndHelp() async throws {
        let version = try await RunbookBinary.run(["version"])
        #expect(version.status == 0)
        #expect(version.standardOutput.hasPrefix("runbook 0.1.0 (Lua 5.4)"))
        let help = try await RunbookBinary.run(["--help"])
        #expect(help.status == 0)
        #expect(help.standardOutput.contains("124  the script ran past --timeout"))
        #expect(help.standardOutput.contains("64   bad command line"))
    }
}

@Suite("runbook describe and declared parameters")
struct DescribeTests {
    @Test func describePrintsTheDeclarations() async throws {
        let result = try await RunbookBinary.run(["describe", "examples/reassign-owner.lua"])
        #expect(result.status == 0)
        #expect(result.standardOutput.hasPrefix("reassign-owner (examples/reassign-owner.lua)\n"))
        #expect(result.standardOutput.contains("Move every incident owned by one user to another."))
        #expect(result.standardOutput.contains("changes: owned_by"))
        #expect(result.standardOutput.contains("from  string  required  the user whose incidents move"))
    }

    @Test func aBadParameterStopsTheRunBeforeTheScript() async throws {
        let unknown = try await RunbookBinary.run(["run", "examples/escalate-unacknowledged.lua", "--sandbox", "--arg", "minuts=5"])
        #expect(unknown.status == 64)
        #expect(unknown.standardError.contains("unknown parameter 'minuts'; did you mean 'minutes'?"))
        #expect(unknown.standardOutput.isEmpty)
        let missing = try await RunbookBinary.run(["run", "examples/tag-part-incidents.lua", "--sandbox", "--arg", "part=PROD-1"])
        #expect(missing.status == 64)
        #expect(missing.standardError.contains("missing --arg tag=<string>"))
    }

    @Test func aChangeOutsideTheDeclaredFieldsIsRefused() async throws {
        let directory = try ScriptDirectory()
        let script = try directory.write("scoped.lua", "--- @changes severity\nincident.update{ id = 'INC-1', severity = 1 }\nincident.update{ id = 'INC-1', title = 'x' }\n")
        let result = try await RunbookBinary.run(["run", script, "--sandbox"])
        #expect(result.status == 65)
        #expect(result.standardError.contains("incident.update: the script does not declare that it changes 'title' (--- @changes severity)"))
        let create = try directory.write("create.lua", "--- @changes severity\nincident.create{ title = 'x' }\n")
        let refused = try await RunbookBinary.run(["run", create, "--sandbox"])
        #expect(refused.status == 65)
        #expect(refused.standardError.contains("does not declare that it uses incident.create"))
    }

    @Test func typedArgumentsReachTheScript() async throws {
        let directory = try ScriptDirectory()
        let script = try directory.write("typed.lua", "--- @param n integer = 2\n--- @param on boolean = false\nprint(math.type(runbook.args.n), runbook.args.n * 2, runbook.args.on)\n")
        let result = try await RunbookBinary.run(["run", script, "--arg", "n=21", "--arg", "on=true"])
        #expect(result.standardOutput == "integer\t42\ttrue\n")
    }
}

@Suite("runbook check lint")
struct CheckLintTests {
    @Test func checkReportsReadsOfUndefinedGlobals() async throws {
        let directory = try ScriptDirectory()
        let script = try directory.write("typo.lua", "local n = 1\nfor inc in incidnet.list{} do print(inc) end\n")
        let result = try await RunbookBinary.run(["check", script])
        #expect(result.status == 65)
        #expect(result.standardError.contains("typo.lua:2: reads the undefined global 'incidnet'"))
        let examples = try await RunbookBinary.run(["check", "examples/hello.lua", "examples/escalate-unacknowledged.lua",
            "examples/stamp-target-close.lua", "examples/close-mitigated.lua", "examples/reassign-owner.lua", "examples/tag-part-incidents.lua"])
        #expect(examples.status == 0, "\(examples.standardError)")
    }
}
