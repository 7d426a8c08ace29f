import Foundation
import LuaRuntime
@testable import RunbookKit
import Testing

@Suite("Undefined-global lint")
struct GlobalLintTests {
    private func names(_ source: String) -> [String] {
        GlobalLint.findings(in: Array(source.utf8)).map { "\($0.line):\($0.name)" }
    }

    @Test func typosOfModulesAndUndefinedNamesAreFound() {
        #expect(names("print(incidnet.update)\nlocal t = {name = 1, [k] = 2}\nfunction helper(a) return a + y end\n") == ["1:incidnet", "2:k", "3:y"])
    }

    @Test func localsParametersLoopVariablesAndAssignedGlobalsAreDefined() {
        let source = """
            #!/usr/bin/env runbook
            local a, b <const> = 1, 2
            z = 3
            function helper(x, ...) return x + a + b + z end
            local function fact(n) return n > 1 and n * fact(n - 1) or 1 end
            for i, v in ipairs({a, b}) do print(i, v) end
            for i = 1, 3 do print(i) end
            local obj = {}
            function obj:method(p) return self, p end
            repeat local q = 1 until q
            while a > 3 do local w = 1 print(w) end
            if a then local c = 1 print(c) elseif b then local d = 2 print(d) else print(a) end
            goto done
            ::done::
            print(string.rep("x", 2), obj.method, t, [[ long string with undefined_name ]], "quoted undefined_name")
            -- a comment with undefined_name
            --[==[ a long comment
            with undefined_name ]==]
            return helper(1), 0x1p4, 1e-3, ("s"):upper()
            """
        #expect(names(source) == ["15:t"])
    }

    @Test func localsDoNotLeakOutOfTheirBlock() {
        #expect(names("do local inner = 1 end\nprint(inner)\n") == ["2:inner"])
        #expect(names("local function f(p) return p end\nprint(p)\n") == ["2:p"])
    }

    /// Every runbook this repository ships, and every script `scripts/bench` runs through runbook.
    static let shippedScripts: [String] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let examples = ["close-mitigated", "escalate-unacknowledged", "hello", "reassign-owner", "stamp-target-close", "tag-part-incidents",
                        "lib/format"].map { "examples/\($0).lua" }
        let tests = ["close-mitigated", "escalate-unacknowledged", "hello", "reassign-owner", "stamp-target-close", "tag-part-incidents"]
            .map { "examples/\($0)_test.lua" }
        let bench = ["noop", "one-update", "many-updates", "serial-updates", "walk"].map { "bench/\($0).lua" }
        return (examples + tests + bench).map { root.appendingPathComponent($0).path }
    }()

    @Test(arguments: shippedScripts)
    func shippedScriptsLintClean(_ path: String) throws {
        let source = try #require(FileManager.default.contents(atPath: path), "\(path) is missing")
        let findings = GlobalLint.findings(in: Array(source), testFile: GlobalLint.isTestFile(path))
        #expect(findings.isEmpty, "\(path): \(findings)")
    }

    @Test func aTestFileHasTheTestAPIAndNotTheRunbooksTables() {
        let source = Array("describe('x', function() it('y', function() given{} run{} sandbox.now() end) end)\nincident.get('INC-1')\n".utf8)
        #expect(GlobalLint.findings(in: source, testFile: true).map { "\($0.line):\($0.name)" } == ["2:incident"])
        #expect(GlobalLint.findings(in: source).map(\.name) == ["describe", "it", "given", "run", "sandbox"])
    }

    /// Lua 5.4's syntax in all its corners: none of it reads an undefined global.
    @Test(arguments: [
        "local s = [==[ a ]] long [[ string ]==] print(s)",
        "local s = [[\nmulti\nline undefined_name\n]] print(s)",
        "local s = 'it\\'s' .. \"quote \\\" undefined_name\" .. '\\z\n   continued' print(s)",
        "for i = 1, 3 do if i == 2 then goto continue end print(i) ::continue:: end",
        "local x <const> = 1 local y <close> = nil print(x, y)",
        "local t = {} function t.a.b() end function t:m(self2) return self, self2 end print(t:m(1))",
        "local function outer() local function inner(a) return function(b) return a + b end end return inner end print(outer()(1)(2))",
        "local t = { [1] = 'a', ['k'] = 2, n = 3; 4 } print(t.n, #t)",
        "print(0xFF, 0x1p-4, 3e+2, 1 // 2, 7 % 3, 2 ^ 3, ~5, 1 << 2, 3 & 1, 4 | 1, 5 ~ 3, 'a' .. 'b')",
        "local a, b = pcall(function(...) local n = select('#', ...) return n end, 1, 2) print(a, b)",
        "local ok = runbook.args and json.encode({}) and log.info and incident.update and devrev.call print(ok)",
        "while true do break end repeat local stop = true until stop",
        "local co = coroutine.wrap(function() coroutine.yield(1) end) print(co())",
        "global_defined_later = nil print(global_defined_later) function global_function() return global_function end",
        "print(#'abc', - -1, not nil)  -- trailing comment undefined_name\n--[[ block\nundefined_name ]] print(1)",
    ])
    func luaSyntaxLintsClean(_ source: String) {
        #expect(names(source) == [], "\(source)")
    }

    /// The typos `runbook check` exists to catch.
    @Test(arguments: [
        ("incidnet.update{ id = 'INC-1' }", ["1:incidnet"]),
        ("local incidents = incident.list{}\nfor i in incidnets do print(i) end", ["2:incidnets"]),
        ("print(runbok.now())", ["1:runbok"]),
        ("local function f(count) return cout + 1 end print(f(1))", ["1:cout"]),
        ("do local scoped = 1 end\nprint(scoped)", ["2:scoped"]),
        ("for k, v in pairs({}) do end\nprint(k, v)", ["2:k", "2:v"]),
        ("local t = { [undefined_key] = 1 }", ["1:undefined_key"]),
        ("print(Json.encode({}), LOG.info)", ["1:Json", "1:LOG"]),
        ("local s = 'one\\z\n\n   two' print(s, undefined_after_z)", ["3:undefined_after_z"]),
    ])
    func typosAreCaught(_ source: String, expected: [String]) {
        #expect(names(source) == expected, "\(source)")
    }
}

@Suite("luacheck standard")
struct LuacheckStandardTests {
    @Test func theStandardIsTheEnvironmentAScriptGets() async throws {
        let globals = Dictionary(uniqueKeysWithValues: try await LuacheckStandard.globals().map { ($0.name, $0.fields) })
        let incident = try #require(globals["incident"] ?? nil)
        for function in ["update", "get", "create", "delete", "list", "group", "comment", "comments", "update_many", "get_many"] {
            #expect(incident[function] != nil, "incident.\(function) is in the standard")
        }
        #expect(globals["devrev"]??["call"] != nil)
        let json = try #require(globals["json"] ?? nil)
        #expect(Set(json.keys).isSuperset(of: ["encode", "decode", "array", "null"]))
        let log = try #require(globals["log"] ?? nil)
        #expect(Set(log.keys) == ["debug", "info", "warn", "error"])
        #expect(globals["runbook"]??["args"] == true, "runbook.args holds fields of its own")
        #expect(globals["string"]??["format"] != nil && globals["os"]??["time"] != nil)
        #expect(globals["debug"] ?? nil == ["traceback": false], "of debug, only traceback is left")
        for removed in ["io", "dofile", "loadfile", "package"] {
            #expect(globals[removed] == nil, "\(removed) is not in a script's environment")
        }
        #expect(globals["os"]??["execute"] == nil)
        let configuration = try await LuacheckStandard.configuration()
        #expect(configuration.contains("std = \"runbook\""))
        #expect(configuration.contains("    incident = { fields = { claim = {}, comment = {}, comments = {}, create = {}"))
    }
}

@Suite("Runbook templates")
struct RunbookTemplateTests {
    @Test func everyTemplateIsItsExampleAsItIsNow() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples")
        for template in RunbookTemplates.examples {
            let file = try String(contentsOf: examples.appendingPathComponent(template.file), encoding: .utf8)
            #expect(template.source + "\n" == file, "\(template.file) changed: run scripts/generate-templates")
            let test = try String(contentsOf: examples.appendingPathComponent(template.file.replacingOccurrences(of: ".lua", with: "_test.lua")), encoding: .utf8)
            #expect(template.test + "\n" == test, "the test of \(template.file) changed: run scripts/generate-templates")
        }
        #expect(RunbookTemplates.names == ["escalate", "close", "reassign", "stamp", "tag", "blank"])
    }

    @Test func aTemplateIsNamedForItsRunbook() throws {
        let source = try RunbookTemplates.source(template: "close", name: "close-stale")
        #expect(source.hasPrefix("--- @name close-stale\n--- @changes stage\n"))
        #expect(!source.contains("@name close-mitigated"))
        #expect(throws: RunbookTemplates.Failure.self) { try RunbookTemplates.source(template: "close", name: "../x") }
        let test = try RunbookTemplates.testSource(template: "escalate", name: "page-sev2")
        #expect(test.contains("describe(\"page-sev2\""))
        #expect(test.contains("\"golden/page-sev2.plan.json\""))
        #expect(!test.contains("escalate-unacknowledged"))
    }
}

@Suite("LuaLS definitions")
struct LuaDefinitionsTests {
    @Test func everyFunctionAndValueOfTheRuntimeHasADefinition() async throws {
        let runtime = try await LuacheckStandard.globals()
        var expected: Set<String> = []
        for (name, fields) in runtime where ["incident", "devrev", "json", "log", "runbook"].contains(name) {
            for field in fields?.keys ?? [:].keys { expected.insert("\(name).\(field)") }
        }
        let defined = Set(LuaDefinitions.functions.map(\.name) + LuaDefinitions.values.map(\.name))
        #expect(expected.subtracting(defined).isEmpty, "no definition for \(expected.subtracting(defined).sorted())")
        #expect(defined.subtracting(expected).isEmpty, "defined but not in the runtime: \(defined.subtracting(expected).sorted())")
    }

    @Test func everyRequestFieldHasADefinitionAndTheFileIsLua54() throws {
        let text = LuaDefinitions.text()
        let blocks = text.components(separatedBy: "\n\n")
        for (name, shape) in LuaDefinitions.requests {
            let block = try #require(blocks.first { $0.hasPrefix("---@class runbook.\(name)\n") })
            for field in shape.fields.keys {
                let optional = shape.required.contains(field) ? "" : "?"
                #expect(block.contains("\n---@field \(field)\(optional) "), "runbook.\(name).\(field)")
            }
        }
        #expect(text.contains("---@field update fun(fields: runbook.IncidentUpdate): runbook.Incident?, string? "))
        #expect(text.contains("---@field severity? runbook.EnumValue"), "the incident a script gets back")
        // LuaLS's annotation forms, and nothing else.
        for line in text.split(separator: "\n") where line.hasPrefix("---@") {
            #expect(line.firstMatch(of: #/^---@(meta \w+|class [\w.]+|type [\w.]+|field \w+\??\s\S.*)$/#) != nil, "\(line)")
        }
        try LuaRuntime(options: LuaRuntimeOptions()).check(source: Array(text.utf8), chunkName: "runbook.lua")
    }
}

@Suite struct TestDefinitionsTests {
    @Test func everyGlobalAndAssertionOfTheTestEnvironmentHasADefinition() async throws {
        let environment = try await LuacheckStandard.globals(of: .test)
        let lua = try await Set(LuacheckStandard.globals(of: .runbook).map(\.name))
            .subtracting(["incident", "devrev", "log", "runbook"])
        let names = Set(environment.map(\.name)).subtracting(lua)
        let defined = Set(TestDefinitions.globals.map(\.name) + ["sandbox"])
        #expect(names == defined, "globals of a test file: \(names.sorted()); defined: \(defined.sorted())")
        let sandbox = try #require(environment.first { $0.name == "sandbox" }?.fields)
        #expect(Set(sandbox.keys) == Set(TestDefinitions.sandbox.map(\.name)))
        let assertions = try #require(environment.first { $0.name == "assert" }?.fields)
        #expect(Set(assertions.keys) == Set(TestDefinitions.assertions.map(\.name)))
    }

    @Test func everyFixtureFieldAndRunOptionHasADefinition() throws {
        #expect(Set(TestDefinitions.fixtureFields.keys) == Set(TestFixture.topLevelKeys))
        #expect(Set(TestDefinitions.incidentFields.keys) == Set(TestFixture.incidentKeys))
        #expect(Set(TestDefinitions.commentFields.keys) == Set(TestFixture.commentKeys))
        #expect(Set(TestDefinitions.runOptionFields.keys) == Set(ScriptUnderTest.keys))
        #expect(Set(TestDefinitions.faultFields.keys) == Set(ScriptUnderTest.faultKeys))
        let text = TestDefinitions.text()
        for line in text.split(separator: "\n") where line.hasPrefix("---@") {
            #expect(line.firstMatch(of: #/^---@(meta [\w-]+|class [\w.]+|type \S.*|field \w+\??\s\S.*|overload fun\(.*)$/#) != nil, "\(line)")
        }
        try LuaRuntime(options: LuaRuntimeOptions()).check(source: Array(text.utf8), chunkName: "runbook-test.lua")
    }
}
