import LuaRuntime
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Script environment")
struct ScriptEnvironmentTests {
    @Test(arguments: [
        "io", "package", "dofile", "loadfile", "warn", "os.execute", "os.exit", "os.remove", "os.rename",
        "os.tmpname", "os.setlocale", "string.dump", "debug.getinfo", "debug.sethook", "debug.getlocal",
        "debug.setupvalue", "debug.getregistry", "debug.setmetatable", "package.loadlib",
    ])
    func removedFunctionsAreAbsent(name: String) async {
        let path = name.split(separator: ".").map(String.init)
        var expression = path[0]
        for part in path.dropFirst() { expression = "(\(expression) or {}).\(part)" }
        let outcome = await Lua.run("return type(\(path.count == 1 ? "_G['\(name)']" : expression))")
        #expect(outcome.results == ["nil"], "\(name) should not exist")
    }

    @Test(arguments: [
        "string.format", "table.concat", "math.floor", "utf8.char", "coroutine.wrap", "os.time", "os.date",
        "os.clock", "os.difftime", "os.getenv", "require", "pcall", "xpcall", "load", "debug.traceback",
        "setmetatable", "collectgarbage", "print",
    ])
    func allowedFunctionsArePresent(name: String) async {
        let outcome = await Lua.run("return type(\(name))")
        #expect(outcome.results == ["function"], "\(name) should exist")
    }

    @Test func binaryChunksAreRefused() async {
        let outcome = await Lua.run(
            """
            local a, errA = load("\\27Lua")
            local okB, errB = pcall(load, "return 1", "x", "b")
            local okC, errC = pcall(load, "\\27Lua", "x", "bt")
            return a, errA, okB, errB, okC, errC
            """)
        #expect(outcome.error == nil)
        guard outcome.results.count == 6 else { return }
        #expect(outcome.results[0] == .nil)
        #expect(outcome.results[1].stringValue?.contains("attempt to load a binary chunk") == true)
        #expect(outcome.results[2] == false)
        #expect(outcome.results[3].stringValue?.contains("binary chunks are not allowed") == true)
        #expect(outcome.results[4] == false)
        #expect(outcome.results[5].stringValue?.contains("binary chunks are not allowed") == true)
        let main = await Lua.run("\u{1B}Lua garbage")
        #expect(main.error?.kind == .syntax)
    }

    @Test func textChunksLoad() async {
        let outcome = await Lua.run("return load('return 40 + 2')(), type(load(function() return nil end))")
        #expect(outcome.results == [42, "function"])
    }

    @Test func getenvAnswersOnlyForAllowedNames() async {
        setenv("RUNBOOK_TEST_SECRET", "s3cr3t", 1)
        setenv("RUNBOOK_TEST_VISIBLE", "visible", 1)
        let options = LuaRuntimeOptions(allowedEnvironmentVariables: ["RUNBOOK_TEST_VISIBLE"])
        let outcome = await Lua.run(
            #"return os.getenv("RUNBOOK_TEST_SECRET"), os.getenv("RUNBOOK_TEST_VISIBLE"), os.getenv("RUNBOOK_TEST_VISIBLE\0x"), os.getenv("HOME")"#,
            options: options)
        #expect(outcome.results == [.nil, "visible", .nil, .nil])
        let none = await Lua.run(#"return os.getenv("RUNBOOK_TEST_VISIBLE")"#)
        #expect(none.results == [.nil])
    }

    /// Every global and every member of every library table, exactly: a Lua upgrade or a change
    /// to the bridge that adds a name fails here until the name is reviewed and listed.
    @Test func theEnvironmentHoldsExactlyTheAllowList() async {
        let outcome = await Lua.run(
            """
            local names = {}
            for key, value in pairs(_G) do
              names[#names + 1] = key
              if type(value) == "table" and key ~= "_G" then
                for member in pairs(value) do names[#names + 1] = key .. "." .. member end
              end
            end
            table.sort(names)
            return table.concat(names, " ")
            """)
        let expected = [
            "_G", "_VERSION", "assert", "collectgarbage", "error", "getmetatable", "ipairs", "load", "next", "pairs", "pcall",
            "print", "rawequal", "rawget", "rawlen", "rawset", "require", "select", "setmetatable", "tonumber", "tostring",
            "type", "xpcall",
            "coroutine", "coroutine.close", "coroutine.create", "coroutine.isyieldable", "coroutine.resume", "coroutine.running",
            "coroutine.status", "coroutine.wrap", "coroutine.yield",
            "debug", "debug.traceback",
            "math", "math.abs", "math.acos", "math.asin", "math.atan", "math.ceil", "math.cos", "math.deg", "math.exp",
            "math.floor", "math.fmod", "math.huge", "math.log", "math.max", "math.maxinteger", "math.min", "math.mininteger",
            "math.modf", "math.pi", "math.rad", "math.random", "math.randomseed", "math.sin", "math.sqrt", "math.tan",
            "math.tointeger", "math.type", "math.ult",
            // Debian builds Lua 5.4 with LUA_COMPAT_MATHLIB: the 5.2 math functions, pure arithmetic.
            "math.atan2", "math.cosh", "math.frexp", "math.ldexp", "math.log10", "math.pow", "math.sinh", "math.tanh",
            "os", "os.clock", "os.date", "os.difftime", "os.getenv", "os.time",
            "string", "string.byte", "string.char", "string.find", "string.format", "string.gmatch", "string.gsub",
            "string.len", "string.lower", "string.match", "string.pack", "string.packsize", "string.rep", "string.reverse",
            "string.sub", "string.unpack", "string.upper",
            "table", "table.concat", "table.insert", "table.move", "table.pack", "table.remove", "table.sort", "table.unpack",
            "utf8", "utf8.char", "utf8.charpattern", "utf8.codepoint", "utf8.codes", "utf8.len", "utf8.offset",
        ].sorted()
        #expect(outcome.error == nil)
        let names = outcome.results.first?.stringValue?.split(separator: " ").map(String.init) ?? []
        #expect(names == expected, "added: \(Set(names).subtracting(expected).sorted()), missing: \(Set(expected).subtracting(names).sorted())")
    }

    @Test func moduleTablesAreStrict() async {
        let module: @Sendable () -> [LuaModule] = {
            [LuaModule(name: "incident", functions: [LuaFunction(name: "update") { _ in [true] }], values: ["limit": 3])]
        }
        let typo = await Lua.run("return incident.updaet{}", modules: module)
        #expect(typo.error?.kind == .runtime)
        #expect(typo.error?.message.contains("incident.updaet does not exist; did you mean incident.update?") == true)
        #expect(typo.error?.message.hasPrefix("test.lua:1:") == true, "the error names the script's line: \(typo.error?.message ?? "")")
        let far = await Lua.run("return incident.zzzzzzzz", modules: module)
        #expect(far.error?.message.contains("incident.zzzzzzzz does not exist (incident has limit, update)") == true)
        let caught = await Lua.run(
            "local ok, err = pcall(function() return incident.updte end); return ok, incident.limit, incident.update()", modules: module)
        #expect(caught.results == [false, 3, true])
        let added = await Lua.run("rawset(incident, 'extra', 1); return incident.extra, getmetatable(incident)", modules: module)
        #expect(added.results == [1, "the incident module"])
    }

    @Test func aHugeTimeoutNeverTripsAtOnce() async {
        let options = LuaRuntimeOptions(timeout: .seconds(Int64.max / 2))
        let outcome = await Lua.run("local n = 0; for i = 1, 100000 do n = n + i end; return n", options: options)
        #expect(outcome.error == nil)
        #expect(outcome.results == [.integer(5_000_050_000)])
    }

    @Test func theLargestMemoryLimitDoesNotOverflow() async {
        let outcome = await Lua.run("return #string.rep('x', 1000)", options: LuaRuntimeOptions(memoryLimit: Int.max))
        #expect(outcome.results == [1000])
    }

    @Test func suggestionsUseEditDistance() {
        #expect(EditDistance.distance("titel", "title") == 2)
        #expect(EditDistance.distance("", "abc") == 3)
        #expect(EditDistance.nearest("severty", among: ["severity", "source", "stage"]) == "severity")
        #expect(EditDistance.nearest("xyz", among: ["severity", "source"]) == nil)
    }

    @Test func finalizersAndGarbageCollectorControlAreRefused() async {
        let gc = await Lua.run("return pcall(setmetatable, {}, {__gc = function() end})")
        #expect(gc.results.first == false)
        #expect(gc.results.last?.stringValue?.contains("__gc metamethods are not available") == true)
        let stop = await Lua.run("return pcall(collectgarbage, 'stop')")
        #expect(stop.results.first == false)
        let count = await Lua.run("return math.type(collectgarbage('count'))")
        #expect(count.results == ["float"])
    }

    @Test func printWritesToTheOutput() async {
        let outcome = await Lua.run(#"print("a", 1, nil, true, setmetatable({}, {__tostring = function() return "T" end}))"#)
        #expect(outcome.output == "a\t1\tnil\ttrue\tT\n")
    }
}

@Suite("require")
struct RequireTests {
    private let root: String

    init() throws {
        var template = Array("/tmp/runbook-require-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!).map { String(cString: $0) } }
        root = try #require(made)
        for directory in ["scripts", "scripts/lib", "extra", "outside"] { mkdir("\(root)/\(directory)", 0o755) }
        write("\(root)/scripts/helper.lua", "return { name = 'helper', arg = ... }")
        write("\(root)/scripts/lib/deep.lua", "return { name = 'deep' }")
        write("\(root)/extra/shared.lua", "return { name = 'shared' }")
        write("\(root)/outside/secret.lua", "return { name = 'secret' }")
        write("\(root)/scripts/native.so", "\u{7F}ELF not really")
        write("\(root)/scripts/binary.lua", "\u{1B}Lua binary")
        write("\(root)/scripts/broken.lua", "return {")
    }

    private func write(_ path: String, _ text: String) {
        let file = fopen(path, "w")
        fputs(text, file)
        fclose(file)
    }

    private func run(_ source: String) async -> LuaOutcome {
        let script = "\(root)/scripts/main.lua"
        write(script, source)
        let extra = "\(root)/extra"
        return await LuaThread.run {
            var outcome = LuaOutcome()
            do throws(LuaScriptError) {
                let runtime = try LuaRuntime(options: LuaRuntimeOptions(searchPaths: [extra]))
                outcome.results = try runtime.run(file: script)
            } catch {
                outcome.error = error
            }
            return outcome
        }
    }

    @Test func findsModulesInTheScriptDirectoryThenTheSearchPath() async {
        let outcome = await run(
            "return require('helper').name, require('lib.deep').name, require('shared').name, require('helper') == require('helper'), require('helper').arg, require('string') == string")
        #expect(outcome.error == nil)
        #expect(outcome.results == ["helper", "deep", "shared", true, "helper", true])
    }

    @Test(arguments: ["../outside/secret", "..outside.secret", "/etc/passwd", "outside/secret", "", "a..b", ".hidden"])
    func refusesNamesThatLeaveTheAllowedDirectories(name: String) async {
        let outcome = await run("return pcall(require, '\(name)')")
        #expect(outcome.results.first == false)
        #expect(outcome.results.last?.stringValue?.contains("invalid module name") == true)
    }

    @Test func refusesCModulesBinaryChunksAndReportsWhatWasTried() async {
        let native = await run("return pcall(require, 'native')")
        #expect(native.results.first == false)
        #expect(native.results.last?.stringValue?.contains("module 'native' not found") == true)
        #expect(native.results.last?.stringValue?.contains("/extra/native.lua") == true)
        let binary = await run("return pcall(require, 'binary')")
        #expect(binary.results.last?.stringValue?.contains("attempt to load a binary chunk") == true)
        let broken = await run("return pcall(require, 'broken')")
        #expect(broken.results.last?.stringValue?.contains("error loading module 'broken'") == true)
    }

    @Test func registeredModulesAreRequirable() async {
        let outcome = await Lua.run(
            "return require('t') == t, require('hidden').null ~= nil, hidden",
            modules: { [Lua.testModule(), LuaModule(name: "hidden", values: ["null": .null], isGlobal: false)] })
        #expect(outcome.results == [true, true, .nil])
    }
}
