import DevRevAPI
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    private func parse(_ text: String, depth: Int = 64, budget: Int = .max) throws(JSONParseError) -> JSONValue {
        try JSONParser(maximumDepth: depth, byteBudget: budget).parse(Array(text.utf8))
    }

    private func problem(_ text: String, depth: Int = 64, budget: Int = .max) -> JSONParseError? {
        do throws(JSONParseError) {
            _ = try parse(text, depth: depth, budget: budget)
            return nil
        } catch {
            return error
        }
    }

    @Test func everyJSONTypeKeepsItsKind() throws {
        let value = try parse(#" {"n": null, "t": true, "f": false, "i": -12, "x": 1.5, "e": 1e2, "s": "a\"b", "a": [1, [], {}], "o": {}} "#)
        #expect(value == .object([
            "n": .null, "t": .bool(true), "f": .bool(false), "i": .integer(-12), "x": .number(1.5), "e": .number(100),
            "s": .string("a\"b"), "a": .array([.integer(1), .array([]), .object([:])]), "o": .object([:]),
        ]))
    }

    @Test func integersAtTheInt64EdgesStayIntegersAndBeyondBecomeFloats() throws {
        #expect(try parse("9223372036854775807") == .integer(.max))
        #expect(try parse("-9223372036854775808") == .integer(.min))
        #expect(try parse("9223372036854775808") == .number(9.223372036854775808e18))
        #expect(try parse("-0") == .integer(0))
        #expect(problem("1e400")?.problem == "the number 1e400 is too large")
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        #expect(try parse(#""\n\t\/\\\u00e9\ud83d\ude00\u0000""#) == .string("\n\t/\\é😀\u{0}"))
        #expect(try parse("\"é😀\"") == .string("é😀"))
        #expect(problem(#""\ud800""#)?.problem == "a \\u escape of a high surrogate is not followed by its low surrogate")
        #expect(problem(#""\udc00""#)?.problem == "a \\u escape of a lone low surrogate")
        #expect(problem(#""\x""#)?.problem == "an invalid escape '\\x'")
        #expect(problem("\"a\u{1}b\"")?.problem == "a control character (byte 0x1) must be escaped in a string")
    }

    @Test func invalidUTF8IsRefusedWithItsPosition() throws {
        let error = try #require(throws: JSONParseError.self) { try JSONParser().parse([0x5B, 0x22, 0xFF, 0x22, 0x5D]) }
        #expect(error.problem == "the string is not valid UTF-8")
        #expect(error.offset == 2)
    }

    @Test func errorsSayWhereTheTextStoppedBeingJSON() {
        let comma = problem("[1,2,]")
        #expect(comma?.problem == "a trailing comma before ']'")
        #expect(comma?.description == "a trailing comma before ']' at line 1, column 6 (byte 6)")
        #expect(problem(#"{"a":1,}"#)?.problem == "a trailing comma before '}'")
        let duplicate = problem("{\"a\": 1,\n \"a\": 2}")
        #expect(duplicate?.problem == #"the key "a" appears twice in one object"#)
        #expect(duplicate?.line == 2)
        #expect(duplicate?.column == 2)
        #expect(problem("[1] x")?.problem == "unexpected text after the JSON value")
        #expect(problem("")?.problem == "expected a value, found the end of the text")
        #expect(problem("[01]")?.problem == "a number cannot start with 0 followed by digits")
        #expect(problem("[tru]")?.problem == "expected a value, found 't'")
        #expect(problem("{'a': 1}")?.problem == "expected a key (a string in double quotes), found '''")
        #expect(problem(#""open"#)?.problem == "the string starting at byte 1 is not closed")
        #expect(problem("[1.]")?.problem == "expected a digit after '.', found ']'")
        #expect(problem("[NaN]")?.problem == "expected a value, found 'N'")
    }

    @Test func nestingIsLimitedWithAPosition() throws {
        let deepest = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(problem(deepest) == nil)
        let deeper = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(problem(deeper)?.problem == "nested deeper than 64 levels")
        #expect(problem(deeper)?.column == 65)
        #expect(problem(#"{"a":{"b":1}}"#, depth: 1)?.problem == "nested deeper than 1 levels")
    }

    @Test func theBudgetBoundsWhatTheResultMayTake() {
        let text = "[" + Array(repeating: "1", count: 1000).joined(separator: ",") + "]"
        #expect(problem(text, budget: 1001 * JSONParser.nodeCost) == nil)
        let over = problem(text, budget: 100 * JSONParser.nodeCost)
        #expect(over?.overBudget == true)
        #expect(problem(#"["\#(String(repeating: "x", count: 10_000))"]"#, budget: 5_000)?.overBudget == true)
    }
}

@Suite("Response schema")
struct ResponseSchemaTests {
    private func problem(_ body: String, _ operation: DevRevOperation = .getIncident) -> String? {
        ResponseSchema.problem(in: Array(body.utf8), of: operation)
    }

    @Test func everyFieldTheSchemaDescribesMustHaveItsType() {
        #expect(problem(#"{"incident":{"id":"don:1","display_id":"INC-1","stage":{"stage":{"name":"triage"}},"new_field":5}}"#) == nil)
        #expect(problem(#"{"incident":{"id":"don:1","stage":{"stage":{"name":7}}}}"#) == "incident.stage.stage.name: expected String")
        #expect(problem(#"{"incident":{"id":"don:1","owned_by":[{"type":"dev_user","id":5}]}}"#) == "incident.owned_by[0].id: expected String")
        #expect(problem(#"{"incidents":[{"id":"a","title":3}]}"#, .listIncidents) == "incidents[0].title: expected String")
        #expect(problem(#"{"incidents":[],"next_cursor":5}"#, .listIncidents) == "next_cursor: expected String")
        #expect(problem(#"{"anything":1}"#, .createTimelineEntry) == nil, "no response schema is published for comments")
    }
}
