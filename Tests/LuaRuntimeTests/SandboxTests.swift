import LuaRuntime
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Sandbox")
struct SandboxTests {
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

    @Test func getenvHidesWhatItIsTold() async {
        setenv("RUNBOOK_TEST_SECRET", "s3cr3t", 1)
        setenv("RUNBOOK_TEST_VISIBLE", "visible", 1)
        let options = LuaRuntimeOptions(hiddenEnvironmentVariables: ["RUNBOOK_TEST_SECRET"])
        let outcome = await Lua.run(
            #"return os.getenv("RUNBOOK_TEST_SECRET"), os.getenv("RUNBOOK_TEST_VISIBLE"), os.getenv("RUNBOOK_TEST_SECRET\0x")"#,
            options: options)
        #expect(outcome.results == [.nil, "visible", .nil])
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
