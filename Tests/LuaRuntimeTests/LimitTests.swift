import LuaRuntime
import Testing

/// Limits measured against the wall clock: run one at a time so they do not compete for the CPU.
@Suite("Limits", .serialized)
struct LimitTests {
    static let timeout: Duration = .milliseconds(300)
    /// The issue's bound: a limit stops the script within the limit plus 0.5 s.
    static let bound: Duration = timeout + .milliseconds(500)

    /// For tests of other limits: long enough not to interfere, even under the address sanitizer.
    static let generousTimeout: Duration = .seconds(60)

    private func runTimed(
        _ source: String, timeout: Duration = LimitTests.timeout, memoryLimit: Int? = LuaRuntimeOptions.defaultMemoryLimit
    ) async -> (LuaOutcome, Duration) {
        let options = LuaRuntimeOptions(
            timeout: timeout, memoryLimit: memoryLimit, timeoutMessage: "timeout: ran past 300ms",
            memoryLimitMessage: "memory limit: used more than the cap")
        let outcome = await Lua.run(source, chunkName: "limits.lua", options: options)
        return (outcome, outcome.elapsed)
    }

    @Test(arguments: [
        ("tight loop", "while true do end", 1),
        ("inside pcall", "local x = 0\nwhile true do pcall(function() while true do x = x + 1 end end) end", 2),
        ("inside xpcall with a handler", "xpcall(function() while true do end end, function(e) while true do end end)", 1),
        ("inside a coroutine", "local co = coroutine.create(function() while true do end end)\nwhile true do coroutine.resume(co) end", 1),
        ("inside coroutine.wrap under pcall", "local f = coroutine.wrap(function() while true do end end)\nprint(pcall(f))\nwhile true do end", 1),
        ("in a load reader", "while true do load(function() while true do end end) end", 1),
        ("in string.gsub callbacks", "while true do pcall(string.gsub, string.rep('a', 100), 'a', function() while true do end end) end", 1),
        ("in a metamethod", "local t = setmetatable({}, {__index = function() while true do end end})\nwhile true do pcall(function() return t.x end) end", 2),
    ])
    func timeoutStopsLoopsAndCannotBeSwallowed(name: String, source: String, line: Int) async {
        let (outcome, elapsed) = await runTimed(source)
        #expect(outcome.error?.kind == .timeout, "\(name)")
        #expect(outcome.error?.message.hasPrefix("limits.lua:") == true, "\(name): \(outcome.error?.message ?? "")")
        #expect(outcome.error?.message.hasSuffix("timeout: ran past 300ms") == true, "\(name)")
        #expect(elapsed < Self.bound, "\(name) took \(elapsed)")
    }

    @Test func timeoutNamesTheLine() async {
        let (outcome, _) = await runTimed("local n = 0\n\nwhile true do\n  n = n + 1\nend")
        #expect(outcome.error?.message == "limits.lua:4: timeout: ran past 300ms" || outcome.error?.message == "limits.lua:3: timeout: ran past 300ms")
        #expect(outcome.error?.traceback?.contains("limits.lua") == true)
    }

    @Test(arguments: [
        ("one huge string", "local s = string.rep('x', 1024 * 1024 * 1024)"),
        ("doubling string", "local s = 'x'\nwhile true do s = s .. s end"),
        ("growing table", "local t = {}\nfor i = 1, 1e9 do t[i] = {i} end"),
        ("under pcall", "local t = {}\nwhile true do t[#t + 1] = {pcall(string.rep, 'x', 1e6)} end"),
        ("in a coroutine", "local co = coroutine.wrap(function() local t = {} while true do t[#t+1] = string.rep('y', 1e5) .. #t end end)\nprint(pcall(co))\nwhile true do end"),
    ])
    func memoryCapStopsBombs(name: String, source: String) async {
        let (outcome, _) = await runTimed(source, timeout: Self.generousTimeout, memoryLimit: 32 * 1024 * 1024)
        #expect(outcome.error?.kind == .memoryLimit, "\(name): \(outcome.error?.message ?? "no error")")
        #expect(outcome.error?.message.hasSuffix("memory limit: used more than the cap") == true, "\(name)")
        #expect(outcome.error?.message.hasPrefix("limits.lua:") == true, "\(name): \(outcome.error?.message ?? "")")
    }

    @Test func aStringRepBombStopsAtOnce() async {
        let (outcome, elapsed) = await runTimed(
            "local s = string.rep('x', 1024 * 1024 * 1024)", timeout: Self.generousTimeout, memoryLimit: 32 * 1024 * 1024)
        #expect(outcome.error?.message == "limits.lua:1: memory limit: used more than the cap")
        #expect(elapsed < .milliseconds(500), "took \(elapsed)")
    }

    @Test func memoryUnderTheCapIsFine() async {
        let (outcome, _) = await runTimed("local s = string.rep('x', 8 * 1024 * 1024); return #s", memoryLimit: 32 * 1024 * 1024)
        #expect(outcome.results == [.integer(8 * 1024 * 1024)])
    }

    @Test(arguments: [
        ("Lua recursion", "local function f() return 1 + f() end\nf()"),
        ("recursion through pcall", "local function f() local ok, e = pcall(f) error(e, 0) end\nf()"),
        ("recursion through metamethods", "local t = setmetatable({}, {__index = function(t, k) return t[k] end})\nreturn t.x"),
        ("recursion through tostring", "local t\nt = setmetatable({}, {__tostring = function() return tostring(t) end})\nreturn tostring(t)"),
        ("recursion through string.gsub", "local function f(s) return (string.gsub(s, '.', f)) end\nreturn f('a')"),
    ])
    func deepRecursionEndsInAnErrorNotACrash(name: String, source: String) async {
        let (outcome, _) = await runTimed(source, timeout: Self.generousTimeout)
        #expect(outcome.error?.kind == .runtime, "\(name): \(outcome.error?.message ?? "no error")")
        #expect(outcome.error?.message.contains("stack overflow") == true, "\(name): \(outcome.error?.message ?? "")")
    }
}
