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

@Suite("Arguments read in place")
struct StackValueTests {
    /// `v.describe(value)`: what `LuaStackValue` reads of it, as text, walking tables in table
    /// order (sorted here, so the text is stable); and the stack depth before and after.
    private static func reader() -> LuaModule {
        func describe(_ value: LuaStackValue) -> String {
            switch value.kind {
            case .none: return "none"
            case .nil: return "nil"
            case .boolean: return "\(value.boolean)"
            case .integer: return "int \(value.integer)"
            case .number: return "float \(value.number)"
            case .string: return "'\(String(decoding: value.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0), as: UTF8.self))'"
            case .null: return "null"
            case .other: return "other"
            case .table:
                var entries: [String] = []
                _ = value.forEachEntry { key, item in entries.append("\(describe(key))=\(describe(item))") }
                let items = (1...max(1, value.length)).compactMap { position in value.withItem(position) { describe($0) } }
                return "{\(entries.sorted().joined(separator: ", "))} #\(value.length) items \(items.joined(separator: " "))\(value.isEmptyTable ? " empty" : "")\(value.isMarkedArray ? " marked" : "")"
            }
        }
        struct Stop: Error {}
        let describeFunction = LuaFunction(name: "describe") { (call: inout LuaCall) -> [LuaValue] in
            let before = call.argumentCount
            let text = describe(call.stackValue(at: 1))
            // A walk that stops by throwing leaves the stack as it was.
            let stopped: Bool
            do {
                _ = try call.stackValue(at: 1).forEachEntry { (_, _) throws(Stop) in throw Stop() }
                stopped = false
            } catch {
                stopped = true
            }
            return [.string(LuaString(text)), .integer(Int64(call.argumentCount - before)), .boolean(stopped)]
        }
        let readFunction = LuaFunction(name: "read") { (call: inout LuaCall) -> [LuaValue] in
            var budget: Int? = Int(try call.value(at: 3).integerValue ?? Int64.max)
            do {
                let value = try call.stackValue(at: 1).read(root: "x", depth: Int(try call.value(at: 2).integerValue ?? 0), budget: &budget)
                return [value, .integer(Int64(budget ?? -1))]
            } catch {
                return [.nil, .string(LuaString("\(error)"))]
            }
        }
        return LuaModule(name: "v", functions: [describeFunction, readFunction])
    }

    @Test func kindsScalarsAndTablesReadWhereTheyLie() async {
        let outcome = await Lua.run("""
            local a = { v.describe({ id = 'INC-1', n = 2, f = 2.5, t = true }) }
            local b = { v.describe({ 'x', 'y' }) }
            local c = { v.describe({}) }
            local d = { v.describe(print) }
            local e = { v.describe() }
            return a[1], a[2], a[3], b[1], c[1], c[3], d[1], e[1]
            """, modules: { [Self.reader()] })
        #expect(outcome.error == nil)
        #expect(outcome.results == [
            "{'f'=float 2.5, 'id'='INC-1', 'n'=int 2, 't'=true} #0 items nil", 0, true,
            "{int 1='x', int 2='y'} #2 items 'x' 'y'", "{} #0 items nil empty", false, "other", "none",
        ])
    }

    @Test func aValueReadAsALuaValueCountsItsDepthAndMemoryFromWhereItLies() async {
        let outcome = await Lua.run("""
            local t = { a = { b = { 'c' } } }
            local value, left = v.read(t, 0, 10000)
            local _, deep = v.read(t, 62, 10000)
            local _, poor = v.read(t, 0, 100)
            return value.a.b[1], left, deep, poor
            """, modules: { [Self.reader()] })
        #expect(outcome.error?.message.contains("memory") == true, "the budget ran out, so the limit tripped: \(String(describing: outcome.error))")
        let counted = await Lua.run("""
            local t = { a = { b = { 'c' } } }
            local value, left = v.read(t, 0, 10000)
            local _, deep = v.read(t, 62, 10000)
            return value.a.b[1], left, deep
            """, modules: { [Self.reader()] })
        // Four values of 48 bytes, the keys `a` and `b` and the string `c`: 195 bytes.
        #expect(counted.results == ["c", .integer(10000 - 195), "x.a.b: tables nested deeper than 64 levels"])
    }
}
