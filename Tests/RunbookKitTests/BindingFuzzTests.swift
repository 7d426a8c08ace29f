import DevRevAPI
import DevRevSandbox
import Foundation
import Logging
import LuaRuntime
import PropertyBased
@testable import RunbookKit
import Testing

/// Lua expressions for arbitrary values, from a seed: nested tables with mixed keys, cycles,
/// metatables whose `__index`, `__pairs`, `__len` and `__tostring` misbehave, NaN, infinities, -0.0,
/// integers at the int64 edges, floats past them, invalid UTF-8, NUL bytes, 1 MB strings,
/// functions, coroutines and userdata (json.null).
struct LuaValueSource {
    var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next(_ bound: Int) -> Int {
        Int(generator.next() % UInt64(bound))
    }

    static let leaves = [
        "nil", "true", "false", "0", "-1", "1", "2", "math.maxinteger", "math.mininteger", "0/0", "1/0", "-1/0", "-0.0",
        "2^63", "-2^63 - 4096", "1e308", "5e-324", "0.5", "3.0", "'INC-1'", "'INC-404'", "'DEVU-2'", "''", "'\\255\\254'",
        "'a\\0b'", "string.rep('x', 1 << 20)", "'2026-11-26T12:00:00Z'", "'not a date'", "'severity'", "'incidents.update'",
        "'works.get'", "'{\"a\":1}'", "'[1,2'", "json.null", "json.array()", "function() end", "coroutine.create(function() end)",
        "print", "cycle()", "angry_index()", "angry_pairs()", "angry_len()", "angry_tostring()", "deep(200)", "{}",
    ]

    mutating func expression(depth: Int = 0) -> String {
        let choice = depth >= 3 ? 0 : next(5)
        switch choice {
        case 1:
            return "{" + (0..<next(4)).map { _ in expression(depth: depth + 1) }.joined(separator: ", ") + "}"
        case 2:
            let keys = ["id", "title", "severity", "stage", "owned_by", "tags", "set", "body", "labels", "limit", "cursor",
                        "concurrency", "stop_on_error", "custom_fields", "x", "[1]", "[2.5]", "[true]", "[-1]"]
            return "{" + (0..<(1 + next(4))).map { _ in
                let key = keys[next(keys.count)]
                return "\(key) = \(expression(depth: depth + 1))"
            }.joined(separator: ", ") + "}"
        default:
            return Self.leaves[next(Self.leaves.count)]
        }
    }

    static let functions = [
        "incident.get", "incident.update", "incident.create", "incident.delete", "incident.list", "incident.group",
        "incident.update_many", "incident.get_many", "incident.comment", "incident.comments", "devrev.call", "json.encode",
        "json.decode", "json.array", "runbook.time", "runbook.date", "runbook.now", "log.debug", "log.info", "log.warn", "log.error",
    ]

    /// A call of a binding with up to three generated arguments, under pcall.
    mutating func call() -> String {
        let function = Self.functions[next(Self.functions.count)]
        let arguments = (0..<next(4)).map { _ in expression() }.joined(separator: ", ")
        // An iterator's errors come at its first step: take one.
        let invoke = ["incident.list", "incident.comments"].contains(function)
            ? "function(...) local it = \(function)(...) return it() end"
            : function
        return "check(\(Self.quote(function + "(" + arguments + ")")), pcall(\(invoke)\(arguments.isEmpty ? "" : ", " + arguments)))"
    }

    static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Builders for the values an expression cannot write literally, and the check of an outcome.
    static let prelude = """
        function cycle() local t = { id = "INC-1" } t.self = t t[1] = t return t end
        function angry_index() return setmetatable({}, { __index = function() error("index") end }) end
        function angry_pairs() return setmetatable({ id = "INC-1" }, { __pairs = function() error("pairs") end }) end
        function angry_len() return setmetatable({ 1, 2 }, { __len = function() return -5 end }) end
        function angry_tostring() return setmetatable({}, { __tostring = function() error("tostring") end }) end
        function deep(n) local t = {} for _ = 1, n do t = { t } end return t end
        local bad = {}
        function check(what, ok, err)
          if ok then return end
          if type(err) == "table" and type(rawget(err, "type")) == "string" and type(rawget(err, "message")) == "string" then return end
          bad[#bad + 1] = what:sub(1, 200) .. " -> " .. type(err) .. ": " .. tostring(type(err) == "table" and rawget(err, "message") or err):sub(1, 200)
        end
        function report() return table.concat(bad, "\\n") end
        """
}

@Suite("Fuzzed bindings")
struct BindingFuzzTests {
    /// Cases per run: a bounded number in scripts/test, 20 000 (five calls each: 100 000 calls)
    /// in scripts/fuzz (RUNBOOK_FUZZ_CASES).
    static let cases = ProcessInfo.processInfo.environment["RUNBOOK_FUZZ_CASES"].flatMap(Int.init) ?? 300

    /// Runs the calls in a fresh VM with every binding, a run clock, and a connection with no
    /// token (what needs DevRev fails as `configuration` after validation): the problems found.
    static func problems(in calls: [String]) async -> String {
        await LuaThread.run { () -> String in
            do throws(LuaScriptError) {
                let runtime = try LuaRuntime(options: LuaRuntimeOptions(timeout: .seconds(10), memoryLimit: 256 << 20))
                let settings = DevRevConnection.Settings(baseURL: try! BaseURL("http://127.0.0.1:9"), token: nil, logger: Logger(label: "fuzz"))
                let log = RunLog(runID: "fuzz", script: "fuzz.lua", threshold: .error, json: false, write: { _ in })
                let environment = ScriptEnvironment(log: log, connection: DevRevConnection(settings: settings, deadline: nil, journal: nil))
                try environment.install(into: runtime)
                let source = LuaValueSource.prelude + "\n" + calls.joined(separator: "\n") + "\nreturn report()\n"
                let results = try runtime.run(source: Array(source.utf8), chunkName: "=fuzz")
                return results.first?.stringValue ?? ""
            } catch {
                return "the VM stopped: \(error.message)"
            }
        }
    }

    @Test func theCheckCatchesAnErrorThatIsNotAnErrorTable() async {
        let problems = await Self.problems(in: ["check('error', pcall(error, 'a plain string'))", "check('fine', pcall(json.encode, 1))"])
        #expect(problems == "error -> string: a plain string")
    }

    @Test func everyBindingAnswersAnyValueWithAResultOrAnErrorTable() async {
        let seed = ProcessInfo.processInfo.environment["RUNBOOK_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        print("binding fuzz: \(Self.cases) cases of 5 calls, seed \(seed) (replay with RUNBOOK_FUZZ_SEED=\(seed))")
        var seeds = LuaValueSource(seed: seed)
        await propertyCheck(count: Self.cases, input: Gen.uint64()) { extra in
            var source = LuaValueSource(seed: UInt64(seeds.next(Int.max)) ^ extra)
            let calls = (0..<5).map { _ in source.call() }
            let problems = await Self.problems(in: calls)
            #expect(problems.isEmpty, "seed \(seed): \(problems)\ncalls:\n\(calls.joined(separator: "\n"))")
        }
    }
}
