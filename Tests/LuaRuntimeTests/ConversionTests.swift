import LuaRuntime
import Testing

@Suite("Lua to Swift and back")
struct ConversionTests {
    private func convert(_ expression: String) async -> LuaOutcome {
        await Lua.run("return t.echo(\(expression))", modules: { [Lua.testModule()] })
    }

    private func conversionError(_ expression: String) async -> String? {
        await convert(expression).error?.message
    }

    @Test func integersStayIntegersAndFloatsStayFloats() async {
        let outcome = await Lua.run("return 1, 1.0, 1.5, -0.0, math.maxinteger, math.mininteger")
        #expect(outcome.results == [.integer(1), .number(1.0), .number(1.5), .number(-0.0), .integer(.max), .integer(.min)])
    }

    @Test func integralFloatsAreAcceptedAsIntegers() {
        #expect(LuaValue.number(3.0).integerValue == 3)
        #expect(LuaValue.number(-2.0).integerValue == -2)
        #expect(LuaValue.number(3.5).integerValue == nil)
        #expect(LuaValue.number(9.3e18).integerValue == nil)
        #expect(LuaValue.string("3").integerValue == nil)
    }

    @Test func nanAndInfinityAreErrorsNamingThePath() async {
        #expect(await conversionError("{x = 0/0}")?.contains("argument #1.x: NaN is not allowed") == true)
        #expect(await conversionError("{1, math.huge}")?.contains("argument #1[2]: an infinite number is not allowed") == true)
    }

    @Test func stringsAreReadByLengthWithEmbeddedNul() async {
        let outcome = await convert(#""a\0b", "\xff\xfe""#)
        #expect(outcome.results == [.string(LuaString(bytes: [97, 0, 98])), .string(LuaString(bytes: [255, 254]))])
        #expect(outcome.results[1].stringValue == nil)
    }

    @Test func arraysObjectsAndEmptyTables() async {
        let outcome = await convert(#"{"a", "b"}, {x = 1, y = {z = true}}, {}, t.array(), t.null"#)
        #expect(
            outcome.results == [
                ["a", "b"],
                .object(["x": 1, "y": .object(["z": true])]),
                .emptyTable,
                .array([]),
                .null,
            ])
    }

    @Test func holesMixedKeysAndOtherKeysAreErrorsNamingThePath() async {
        #expect(await conversionError("{owned_by = {'a', nil, 'c'}}")?.contains("argument #1.owned_by: has a hole at [2]") == true)
        #expect(await conversionError("{[0] = 'a', [1] = 'b'}")?.contains("argument #1: has the index [0]; arrays start at [1]") == true)
        #expect(await conversionError("{'a', x = 1}")?.contains("argument #1: mixes array items ([1]) and named fields ('x')") == true)
        #expect(await conversionError("{[true] = 1}")?.contains("argument #1: has a key of type boolean") == true)
        #expect(await conversionError("{[1.5] = 1}")?.contains("non-integer number key 1.5") == true)
        #expect(await conversionError("{tags = {set = {{tag_id = print}}}}")?.contains("argument #1.tags.set[1].tag_id: a function value cannot be converted") == true)
        #expect(await conversionError(#"{["\xff"] = 1}"#)?.contains("argument #1: has a key that is not valid UTF-8") == true)
    }

    /// Arrays are read by index when their keys are exactly 1...#t; every other table with a
    /// length goes through the general reader, which names what is wrong.
    @Test func tablesWithALengthButOtherKeysAreNotReadAsArrays() async {
        // As many integer keys as the length, one of them past it.
        #expect(await conversionError("{[1] = 'a', [3] = 'c', [7] = 'g'}")?.contains("argument #1: has a hole at [2]") == true)
        #expect(await conversionError("{'a', 'b', [4] = 'd'}")?.contains("has a hole at [3]; arrays need every index from 1 to 4") == true)
        #expect(await conversionError("{'a', 'b', [-1] = 'z'}")?.contains("argument #1: has the index [-1]; arrays start at [1]") == true)
        #expect(await conversionError("{'a', 'b', x = 1}")?.contains("argument #1: mixes array items ([1]) and named fields ('x')") == true)
        #expect(await conversionError("{'a', {b = {1, 0/0}}}")?.contains("argument #1[2].b[2]: NaN is not allowed") == true)
        let outcome = await convert("{'a', {b = {1, 2.5}}, t.null, {}}")
        #expect(outcome.results == [["a", .object(["b": [1, 2.5]]), .null, .emptyTable]])
    }

    @Test func cyclesAreErrorsNotCrashes() async {
        let message = await Lua.run("local a = {}; a.self = a; return t.echo(a)", modules: { [Lua.testModule()] }).error?.message
        #expect(message?.contains("argument #1.self: the table contains itself (a cycle)") == true)
        // The same table twice, side by side, is not a cycle.
        let shared = await Lua.run("local s = {1}; return t.echo({s, s})", modules: { [Lua.testModule()] })
        #expect(shared.results == [[[1], [1]]])
    }

    @Test func nestingDeeperThan64LevelsIsAnError() async {
        let deep = await Lua.run(
            "local v = 1; for i = 1, 65 do v = {v} end; return t.echo(v)", modules: { [Lua.testModule()] })
        #expect(deep.error?.message.contains("tables nested deeper than 64 levels") == true)
        let fine = await Lua.run(
            "local v = 1; for i = 1, 64 do v = {v} end; return t.echo(v)", modules: { [Lua.testModule()] })
        #expect(fine.error == nil)
    }

    @Test func swiftValuesArriveWithLuaTypes() async {
        let values: [String: LuaValue] = [
                "int": 7, "float": 7.0, "text": "héllo", "list": ["a", 2], "object": .object(["k": "v"]),
                "empty": .array([]), "null": .null, "yes": true,
            ]
        let outcome = await Lua.run(
            """
            return math.type(v.int), math.type(v.float), v.text, #v.list, v.list[2], v.object.k,
                   #v.empty, v.null == v.null, type(v.null), v.yes
            """, modules: { [LuaModule(name: "v", values: values)] })
        #expect(outcome.results == ["integer", "float", "héllo", 2, 2, "v", 0, true, "userdata", true])
    }
}
