import LuaRuntime
import Testing

@Suite("Swift functions")
struct SwiftFunctionTests {
    @Test func anErrorThrownInSwiftIsALuaErrorAtTheCallingLine() async {
        let caught = await Lua.run(
            "local ok, err = pcall(function()\n  t.fail('no such incident')\nend)\nreturn ok, err",
            modules: { [Lua.testModule()] })
        #expect(caught.results == [false, "test.lua:2: no such incident"])

        let uncaught = await Lua.run("local x = 1\nt.fail('boom')", modules: { [Lua.testModule()] })
        #expect(uncaught.error?.kind == .runtime)
        #expect(uncaught.error?.message == "test.lua:2: boom")
        #expect(uncaught.error?.traceback?.contains("test.lua:2: in main chunk") == true)
    }

    @Test func raisableErrorsArriveAsTablesWithTostring() async {
        let caught = await Lua.run(
            "local ok, err = pcall(t.raise, 'not_found')\nreturn ok, type(err), err.type, err.status, tostring(err)",
            modules: { [Lua.testModule()] })
        #expect(caught.results == [false, "table", "not_found", 404, "not_found (404): it is not there"])

        let uncaught = await Lua.run("\nt.raise('not_found')", modules: { [Lua.testModule()] })
        #expect(uncaught.error?.message == "test.lua:2: not_found (404): it is not there")
        #expect(uncaught.error?.value == .object(["type": "not_found", "status": 404]))
    }

    /// Results built in place reach Lua as the same values a `LuaValue` would make; a table
    /// nested past the limit is an error at the calling line, and nothing half-built is returned.
    @Test func resultsBuiltInPlace() async {
        let outcome = await Lua.run("local t, extra = b.build(2)\nreturn t, extra == nil, select('#', b.build(0))", modules: { [Self.builder()] })
        #expect(outcome.error == nil)
        #expect(outcome.results == [
            .object(["name": "Payments é", "items": [.integer(.max), 1.5, .null], "none": .array([]), "nested": [[true]]]),
            true, 2,
        ])
        let deep = await Lua.run("local ok, err = pcall(b.build, 500)\nreturn ok, err", modules: { [Self.builder()] })
        #expect(deep.results == [false, "test.lua:1: build: a result could not be passed to Lua (nested too deeply)"])
    }

    /// `b.build(depth)`: a table with every kind of value, `nested` holding `true` under `depth` arrays, then nil.
    private static func builder() -> LuaModule {
        let build = LuaFunction(name: "build") { call, results in
            let depth = Int(try call.value(at: 1).integerValue ?? 0)
            try results.beginTable(fields: 4)
            try results.pushString("name")
            try results.pushString("Payments é")
            results.setField()
            try results.pushString("items")
            try results.beginTable(items: 3)
            try results.pushInteger(.max); results.setItem(1)
            try results.pushNumber(1.5); results.setItem(2)
            try results.pushNull(); results.setItem(3)
            results.endTable()
            results.setField()
            try results.pushString("none")
            try results.beginTable(emptyArray: true)
            results.endTable()
            results.setField()
            try results.pushString("nested")
            for _ in 0..<depth { try results.beginTable(items: 1) }
            try results.pushBoolean(true)
            for _ in 0..<depth {
                results.setItem(1)
                results.endTable()
            }
            results.setField()
            results.endTable()
            try results.pushNil()
        }
        return LuaModule(name: "b", functions: [build])
    }

    @Test func argumentConversionErrorsAreCatchable() async {
        let outcome = await Lua.run(
            "return pcall(function() return t.echo({1, nil, 3}) end)", modules: { [Lua.testModule()] })
        #expect(outcome.results.first == false)
        #expect(outcome.results.last?.stringValue == "test.lua:1: argument #1: has a hole at [2]; arrays need every index from 1 to 3")
    }

    @Test func scriptErrorValuesOfEveryKindBecomeMessages() async {
        let string = await Lua.run("error('plain')")
        #expect(string.error?.message == "test.lua:1: plain")
        let table = await Lua.run("\nerror(setmetatable({}, {__tostring = function() return 'custom' end}))")
        #expect(table.error?.message == "test.lua:2: custom")
        let number = await Lua.run("error(42)")
        #expect(number.error?.message == "test.lua:1: 42")
        let plainTable = await Lua.run("error({code = 7})")
        #expect(plainTable.error?.message.hasPrefix("test.lua:1: table: 0x") == true)
        #expect(plainTable.error?.value == .object(["code": 7]))
        let brokenTostring = await Lua.run("error(setmetatable({}, {__tostring = function() error('nope') end}))")
        #expect(brokenTostring.error?.message == "test.lua:1: (error object is a table value)")
    }

    @Test func hundredThousandCallsLeaveMemoryAndTheRegistryFlat() async {
        let outcome = await LuaThread.run { () -> [Int] in
            do throws(LuaScriptError) {
                let runtime = try LuaRuntime()
                runtime.register(Lua.testModule())
                let loop = Array("for i = 1, ... do local r = t.echo({id = 'INC-' .. i, n = i, list = {1, 2, 3}}) end".utf8)
                try runtime.run(source: loop, chunkName: "warmup.lua", arguments: [1000])
                runtime.collectGarbage()
                let memoryBefore = runtime.memoryInUse
                let registryBefore = runtime.registrySize
                try runtime.run(source: loop, chunkName: "loop.lua", arguments: [100_000])
                runtime.collectGarbage()
                return [memoryBefore, runtime.memoryInUse, registryBefore, runtime.registrySize]
            } catch {
                return []
            }
        }
        #expect(outcome.count == 4)
        if outcome.count == 4 {
            #expect(abs(outcome[1] - outcome[0]) < 16 * 1024, "memory went from \(outcome[0]) to \(outcome[1]) bytes")
            #expect(outcome[2] == outcome[3], "registry went from \(outcome[2]) to \(outcome[3]) entries")
        }
    }

    @Test func functionsAreReleasedWithTheRuntime() async {
        let released = await LuaThread.run { () -> Bool in
            weak var weakFunction: LuaFunction?
            do {
                let function = LuaFunction(name: "noop") { _ in [] }
                weakFunction = function
                let runtime = try LuaRuntime()
                runtime.register(LuaModule(name: "m", functions: [function]))
                try runtime.run(source: Array("m.noop()".utf8), chunkName: "x.lua")
            } catch {
                return false
            }
            return weakFunction == nil
        }
        #expect(released)
    }

    @Test func runsOnItsOwnThreadFromAsyncCode() async {
        let value = await LuaThread.run { 21 * 2 }
        #expect(value == 42)
    }
}
