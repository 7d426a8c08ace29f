import DevRevAPI
import DevRevSandbox
import Foundation
import Testing

/// Regressions for defects found by attacking the binary: deadlines a script could catch, exit
/// codes that said the wrong thing, dates, logs and messages.
@Suite("Attack regressions")
struct AttackRegressionTests {
    static let token = "attack-regression-token"

    private func run(_ arguments: [String], _ sandbox: Sandbox, directory: ScriptDirectory, state: ScriptDirectory? = nil) async throws
        -> RunbookBinary.Result
    {
        try await RunbookBinary.run(arguments, against: sandbox, token: Self.token, directory: directory, state: state)
    }

    @Test func aTimeoutACallMetCannotBeCaught() async throws {
        try await withTestSandbox(SandboxConfiguration(token: Self.token, faults: .init(latency: .seconds(3)))) { sandbox, _ in
            let scripts = try ScriptDirectory()
            try scripts.write("caught.lua", """
                local ok, err = pcall(incident.update, { id = 'INC-1', severity = 1 })
                print('caught', ok, err)
                """)
            let result = try await run(["run", "caught.lua", "--timeout", "1s"], sandbox, directory: scripts)
            #expect(result.status == 124, "\(result.standardError)")
            #expect(!result.standardOutput.contains("caught"))
            #expect(result.standardError.contains("caught.lua:1: timeout: the script ran past --timeout 1s"))
        }
    }

    @Test func batchItemsTheDeadlineReachedFirstAreJournaledAsNotSent() async throws {
        try await withTestSandbox(SandboxConfiguration(token: Self.token, faults: .init(latency: .seconds(2)))) { sandbox, _ in
            let scripts = try ScriptDirectory()
            let state = try ScriptDirectory()
            try scripts.write("many.lua", """
                local items = {}
                for i = 1, 6 do items[i] = { id = 'INC-' .. i, severity = 1 } end
                local results = incident.update_many(items, { concurrency = 1 })
                print('after', #results)
                """)
            let result = try await run(["run", "many.lua", "--timeout", "3s"], sandbox, directory: scripts, state: state)
            #expect(result.status == 124, "\(result.standardError)")
            #expect(!result.standardOutput.contains("after"))
            let journal = try String(contentsOfFile: state.url.path + "/runbook/audit.jsonl", encoding: .utf8)
            let events = journal.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["event"] as? String
            }
            #expect(events.contains("not_sent"), "\(events)")
            // Every request that reached DevRev has its intent; the one the deadline struck may
            // have had its intent written and not have reached it (a loaded machine once stopped
            // the second request between the two), and no other item has one.
            let intents = events.filter { $0 == "intent" }.count
            let arrived = sandbox.statistics.snapshot.count(of: "incidents.update")
            #expect(arrived <= intents && intents <= arrived + 1, "an intent for each request that went out, none for the rest: \(intents) intents, \(arrived) arrived")
            #expect(events.count { $0 == "intent" } + events.count { $0 == "not_sent" } == 6)
        }
    }

    @Test func anExhaustedQuotaIsATemporaryFailure() async throws {
        let configuration = SandboxConfiguration(token: Self.token, rateLimit: .init(quota: 1, window: .seconds(300)))
        try await withTestSandbox(configuration) { sandbox, _ in
            let scripts = try ScriptDirectory()
            try scripts.write("two.lua", "incident.get('INC-1')\nincident.get('INC-2')\n")
            let result = try await run(["run", "two.lua", "--timeout", "5s"], sandbox, directory: scripts)
            #expect(result.status == 75, "\(result.standardError)")
            #expect(result.standardError.contains("rate_limited"))
            #expect(sandbox.statistics.snapshot.requests == 1, "the second request was never spent on a 429")
        }
    }

    @Test func aTimeoutInsideAnErrorObjectsTostringExits124() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("tostring.lua", "error(setmetatable({}, { __tostring = function() while true do end end }))\n")
        let result = try await RunbookBinary.run(["run", "tostring.lua", "--timeout", "1s"], directory: scripts.url)
        #expect(result.status == 124, "\(result.standardError)")
        #expect(result.standardError.contains("timeout: the script ran past --timeout 1s"))
        #expect(!result.standardError.contains("error object is a table value"))
    }

    @Test func aReportThatCannotBeWrittenIsNotLostSilently() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("ok.lua", "log.info('fine')\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RunbookBinary.path)
        process.arguments = ["run", "ok.lua", "--output", "json", "--no-lock"]
        process.currentDirectoryURL = scripts.url
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = await offPool { () -> String in
            process.waitUntilExit()
            return String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }
        #expect(process.terminationStatus == 74, "\(text)")
        #expect(text.contains("cannot write the run report"))
    }

    @Test func datesOutsideTheYears1To9999AreValidationErrors() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("dates.lua", """
            print(runbook.date(-62135596800), runbook.date(253402300799))
            print(pcall(runbook.date, 1e15))
            local ok, err = pcall(runbook.date, 0/0)
            print(ok, type(err), err.type)
            print(pcall(runbook.time, '2026-02-30T00:00:00Z'))
            """)
        let result = try await RunbookBinary.run(["run", "dates.lua"], directory: scripts.url)
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first == "0001-01-01T00:00:00Z\t9999-12-31T23:59:59Z", "proleptic Gregorian at both ends")
        #expect(lines.count == 4)
        #expect(lines[1].hasPrefix("false\t") && lines[1].contains("outside the years 0001 to 9999"))
        #expect(lines[2] == "false\ttable\tvalidation")
        #expect(lines[3].hasPrefix("false\t"))
        try scripts.write("far.lua", "incident.update{ id = 'INC-1', target_close_date = 1e15 }\n")
        let far = try await RunbookBinary.run(["run", "far.lua", "--sandbox"], directory: scripts.url)
        #expect(far.status == 65, "\(far.standardError)")
        #expect(far.standardError.contains("target_close_date"))
    }

    @Test func textLogsEscapeControlCharactersAndAcceptInvalidUTF8InFields() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("log.lua", #"log.warn("line\nforged: error\27[31m", { title = "a\rb", raw = "\xff" })"# + "\n")
        let result = try await RunbookBinary.run(["run", "log.lua"], directory: scripts.url)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.split(separator: "\n").count == 1, "\(result.standardError)")
        #expect(result.standardError.contains(#"line\nforged: error\u{1B}[31m"#))
        #expect(result.standardError.contains(#"title=a\rb"#))
        #expect(!result.standardError.contains("\u{1B}"))
    }

    @Test func errorsInsideTheIteratorsNameTheScriptsLine() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("list.lua", "local n = 0\nfor i in incident.list{ severty = {1} } do n = n + 1 end\n")
        let result = try await RunbookBinary.run(["run", "list.lua", "--sandbox"], directory: scripts.url)
        #expect(result.status == 65, "\(result.standardError)")
        #expect(result.standardError.hasPrefix("list.lua:2: "), "\(result.standardError)")
        #expect(!result.standardError.split(separator: "\n").first!.contains("prelude"))
        try scripts.write("internal.lua", "print(pcall(require, '_runbook_internal'))\n")
        let hidden = try await RunbookBinary.run(["run", "internal.lua"], directory: scripts.url)
        #expect(hidden.standardOutput.hasPrefix("false\t"), "the prelude's helpers are out of the script's reach")
    }

    @Test func aJWTWhoseExpiryIsNoDateDoesNotCrashDoctor() async throws {
        func base64URL(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let token = base64URL(#"{"alg":"none"}"#) + "." + base64URL(#"{"exp":1e300}"#) + ".signature"
        let result = try await RunbookBinary.run(["doctor", "--base-url", "http://127.0.0.1:9"], environment: ["DEVREV_TOKEN": token])
        #expect([0, 69].contains(result.status), "\(result.status): \(result.standardOutput) \(result.standardError)")
        #expect(result.standardOutput.contains("token: "))
    }

    @Test func theTokenFileRunAsAScriptIsRefusedWithoutEchoingIt() async throws {
        let scripts = try ScriptDirectory()
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE4MDAwMDAwMDB9.c2VjcmV0LXNpZ25hdHVyZQ"
        let path = try scripts.write("token", token + "\n")
        chmod(path, 0o600)
        for arguments in [["run", path, "--token-file", path], ["run", path]] {
            let result = try await RunbookBinary.run(arguments, environment: ["DEVREV_TOKEN": token])
            #expect(result.status == 65, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("holds the DevRev token"))
            for fragment in token.split(separator: ".") { #expect(!result.standardError.contains(fragment)) }
        }
    }

    @Test func iteratorArgumentErrorsAreErrorTablesAtTheScriptsLine() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("args.lua", """
            local ok, err = pcall(incident.list, 'x')
            print(type(err), err.type, err.message)
            for _ in incident.comments(42) do end
            """)
        let result = try await RunbookBinary.run(["run", "args.lua", "--sandbox"], directory: scripts.url)
        #expect(result.status == 65, "\(result.standardError)")
        #expect(result.standardOutput == "table\tvalidation\tincident.list: expected a table of filters, got string\n")
        #expect(result.standardError.hasPrefix("args.lua:3: validation: incident.comments: expected an incident id"), "\(result.standardError)")
    }

    @Test func hostSideConversionCountsAgainstTheMemoryLimit() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("shared.lua", """
            local s = string.rep('x', 1e6); local t = {}
            for i = 1, 3000 do t[i] = s end
            print('caught', pcall(json.encode, t))
            """)
        try scripts.write("dag.lua", """
            local x = {1}
            for i = 1, 22 do x = {x, x} end
            print('caught', pcall(log.warn, 'm', { a = x }))
            """)
        try scripts.write("decode.lua", """
            local s = '[' .. string.rep('{"a":1,"b":"xxxxxxxxxx"},', 400000) .. '1]'
            print('caught', pcall(json.decode, s))
            """)
        for script in ["shared.lua", "dag.lua", "decode.lua"] {
            let result = try await RunbookBinary.run(["run", script, "--memory-limit", "64M"], directory: scripts.url)
            #expect(result.status == 1, "\(script): \(result.standardError)")
            #expect(result.standardError.contains("memory limit: the script used more than --memory-limit 64MiB"), "\(script): \(result.standardError)")
            #expect(!result.standardOutput.contains("caught"), "the limit cannot be caught")
        }
        try scripts.write("fits.lua", "print(#json.decode('[' .. string.rep('1,', 1000) .. '1]'))\n")
        let fits = try await RunbookBinary.run(["run", "fits.lua", "--memory-limit", "64M"], directory: scripts.url)
        #expect(fits.standardOutput == "1001\n", "\(fits.standardError)")
    }

    @Test func aRequestBodyLargerThanRunbookSendsIsRefusedBeforeTheJournal() async throws {
        try await withTestSandbox(SandboxConfiguration(token: Self.token)) { sandbox, _ in
            let scripts = try ScriptDirectory()
            let state = try ScriptDirectory()
            try scripts.write("huge.lua", "incident.update{ id = 'INC-1', body = string.rep('x', 1100000) }\n")
            let result = try await run(["run", "huge.lua"], sandbox, directory: scripts, state: state)
            #expect(result.status == 65, "\(result.standardError)")
            #expect(result.standardError.contains("huge.lua:1: validation: incidents.update: the request body is 1100"), "\(result.standardError)")
            #expect(result.standardError.contains("runbook sends at most 1048576 bytes (1 MiB)"))
            #expect(sandbox.statistics.snapshot.count(of: "incidents.update") == 0)
            let journal = (try? String(contentsOfFile: state.url.path + "/runbook/audit.jsonl", encoding: .utf8)) ?? ""
            #expect(!journal.contains("incidents.update"), "nothing journaled for a request never sent")
        }
    }

    @Test func jsonAndConversionErrorsAreErrorTablesWithPlainPaths() async throws {
        let scripts = try ScriptDirectory()
        try scripts.write("messages.lua", #"""
            local function show(f, ...) local ok, e = pcall(f, ...); print(type(e), e.type, e.message) end
            show(json.decode, '[1,2,]')
            show(json.decode, '{"a":1,"a":2}')
            show(json.decode, string.rep('[', 65) .. string.rep(']', 65))
            local c = {}; c.x = c
            show(log.warn, 'm', { c = c })
            show(json.encode, { a = { b = { c = c } } })
            show(runbook.date, 0/0)
            """#)
        let result = try await RunbookBinary.run(["run", "messages.lua"], directory: scripts.url)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.split(separator: "\n").map(String.init) == [
            "table\tvalidation\tjson.decode: not valid JSON: a trailing comma before ']' at line 1, column 6 (byte 6)",
            "table\tvalidation\tjson.decode: not valid JSON: the key \"a\" appears twice in one object at line 1, column 8 (byte 8)",
            "table\tvalidation\tjson.decode: not valid JSON: nested deeper than 64 levels at line 1, column 65 (byte 65)",
            "table\tvalidation\tlog.warn: fields.c.x: the table contains itself (a cycle)",
            "table\tvalidation\tjson.encode: a.b.c.x: the table contains itself (a cycle)",
            "table\tvalidation\trunbook.date: expected whole Unix seconds, got NaN or an infinite number",
        ])
    }

    @Test func anAnswerThatBreaksTheSchemaIsAMalformedResponse() async throws {
        let faults = SandboxConfiguration.Faults(rate: 1, kinds: [.offSchema])
        try await withTestSandbox(SandboxConfiguration(token: Self.token, faults: faults)) { sandbox, _ in
            let scripts = try ScriptDirectory()
            try scripts.write("get.lua", """
                local ok, err = pcall(incident.get, 'INC-1')
                print(err.type, err.message)
                for i in incident.list{} do print(i.stage.stage.name) end
                """)
            let result = try await run(["run", "get.lua"], sandbox, directory: scripts)
            #expect(result.standardOutput
                == "malformed_response\tincidents.get: the response does not match DevRev's schema: incident.stage.stage.name: expected String\n",
                "\(result.standardError)")
            #expect(result.standardError.hasPrefix("get.lua:3: malformed_response"), "\(result.standardError)")
            #expect(result.standardError.contains("incidents[0].stage.stage.name: expected String"))
        }
    }
}
