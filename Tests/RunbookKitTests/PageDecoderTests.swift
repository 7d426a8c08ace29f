import DevRevAPI
import DevRevSandbox
import Foundation
import LuaRuntime
@testable import RunbookKit
import Testing

/// Pages of `incidents.list` decoded straight into Lua (`PageDecoder`) against the slow way
/// (`JSONParser`, the schema check, `ResponseShape.items`, `LuaJSON.push`): the same tables, the
/// same cursor, the same incidents remembered, or the decoder gives up and the slow way answers.
@Suite("Pages read straight into Lua")
struct PageDecoderTests {
    /// Decodes each page both ways and says how they compare: `same`, `slow` (the decoder gave
    /// up, the slow way decoded it), `refused` (both refused it), or what differs.
    static func verdicts(_ pages: [[UInt8]]) async -> [String: [String]] {
        await LuaThread.run { () -> [String: [String]] in
            var verdicts: [String: [String]] = [:]
            do throws(LuaScriptError) {
                let runtime = try LuaRuntime(options: LuaRuntimeOptions(timeout: .seconds(60)))
                let compare = LuaFunction(name: "page") { (call: inout LuaCall, results: inout LuaResults) in
                    guard case .string(let text) = try call.value(at: 1) else { return }
                    try results.pushString(verdict(text.bytes, call, &results))
                }
                runtime.register(LuaModule(name: "decoder", functions: [compare]))
                for page in pages {
                    let answer = try runtime.run(source: Array("return decoder.page(...)".utf8), chunkName: "=pages",
                                                 arguments: [.string(LuaString(bytes: page))])
                    let name = answer.first?.stringValue ?? "no verdict"
                    verdicts[["same", "slow", "refused"].contains(name) ? name : "wrong", default: []]
                        .append(name + ": " + String(decoding: page.prefix(400), as: UTF8.self))
                }
            } catch {
                verdicts["wrong", default: []].append("the VM stopped: \(error.message)")
            }
            return verdicts
        }
    }

    private static func verdict(_ page: [UInt8], _ call: LuaCall, _ results: inout LuaResults) throws -> String {
        let mark = results.mark
        var unlimited: Int?
        let fast = PageDecoder.pushIncidents(of: page, into: &results)
        var fastValue: LuaValue?
        if fast != nil { fastValue = try call.stackValue(at: call.argumentCount).read(root: "fast", depth: 0, budget: &unlimited) }
        results.discard(since: mark)
        var slow: (value: LuaValue, cursor: String?, incidents: [[String: JSONValue]])?
        do {
            let response = try JournaledExchange.decode(page, status: 200, of: .listIncidents).get()
            guard case .object(let object) = response else { throw ScriptFailure(type: "malformed_response", message: "not an object") }
            let items = try ResponseShape.items(in: object, key: "incidents", operation: "incident.list")
            try LuaJSON.push(.array(items), to: &results)
            let value = try call.stackValue(at: call.argumentCount).read(root: "slow", depth: 0, budget: &unlimited)
            results.discard(since: mark)
            let incidents = items.compactMap { item -> [String: JSONValue]? in if case .object(let fields) = item { fields } else { nil } }
            slow = (value, Planner.text(object["next_cursor"]), incidents)
        } catch {
            results.discard(since: mark)
        }
        switch (fast, slow) {
        case (nil, nil): return "refused"
        case (nil, _?): return "slow"
        case (let decoded?, nil): return "the decoder took what the slow way refuses (\(decoded.incidents.count) incidents)"
        case (let decoded?, let slow?):
            if fastValue != slow.value { return "the tables differ" }
            if decoded.nextCursor != slow.cursor { return "the cursors differ: \(decoded.nextCursor ?? "nil") / \(slow.cursor ?? "nil")" }
            let remembered = decoded.incidents.map { located -> [String: JSONValue]? in
                guard case .object(let fields)? = try? LuaJSON.decode(Array(page[located.range])) else { return nil }
                return fields
            }
            guard remembered == slow.incidents.map(Optional.some),
                  decoded.incidents.map(\.id) == slow.incidents.map({ Planner.text($0["id"]) ?? "" }),
                  decoded.incidents.map(\.displayID) == slow.incidents.map({ Planner.text($0["display_id"]) ?? "" })
            else { return "the incidents remembered differ" }
            return "same"
        }
    }

    /// Pages as the sandbox writes them: its demo tenant's incidents, 1 to 30 a page.
    static func sandboxPages() async throws -> [[UInt8]] {
        let sandbox = try await Sandbox.start(SandboxConfiguration(token: "pages"))
        let incidents = sandbox.incidents()
        await sandbox.stop()
        var pages: [[UInt8]] = []
        for size in [1, 2, 5, 30] {
            for start in stride(from: 0, to: incidents.count, by: size) {
                var page = Array(#"{"incidents":["#.utf8)
                for (offset, incident) in incidents[start..<min(start + size, incidents.count)].enumerated() {
                    if offset > 0 { page.append(UInt8(ascii: ",")) }
                    page += try JSONWriter.encode(incident)
                }
                page += Array("]".utf8)
                if start + size < incidents.count { page += Array(#","next_cursor":"cursor-\#(start + size)""#.utf8) }
                page += Array("}".utf8)
                pages.append(page)
            }
        }
        return pages
    }

    @Test func theSandboxsPagesAreDecodedInOnePassAsTheSlowWayDecodesThem() async throws {
        let pages = try await Self.sandboxPages()
        #expect(pages.count > 10)
        let verdicts = await Self.verdicts(pages)
        #expect(verdicts["same"]?.count == pages.count, "\(verdicts.mapValues { $0.prefix(2) })")
    }

    static let incident = #""id":"don:core:incident/1","display_id":"INC-1""#

    @Test func pagesTheDecoderTakes() async {
        let incident = Self.incident
        let pages = [
            #"{"incidents":[]}"#, "{}", #"{"incidents":[{\#(incident)}],"next_cursor":null}"#,
            #" { "incidents" : [ { "#, incident, #" , "title" : "a\"b\\c\n\u00e9\ud83d\ude00\/" } ] , "next_cursor" : "c" , "prev_cursor" : "p" } "#,
            #"{"incidents":[{\#(incident),"severity":{"id":2,"label":"Sev2","ordinal":2},"custom_fields":{"a":[1,null,{"b":[]}],"c":-0,"d":1.5e3,"e":9223372036854775807,"f":-9223372036854775808,"g":9223372036854775808}}]}"#,
            #"{"incidents":[{\#(incident),"unknown":{"x":{"x":{"x":[[[null]]]}}},"title":"ünï ✓","tags":[]}],"extra":{"nested":[1,2]}}"#,
            #"{"incidents":[{\#(incident),"title":null,"owned_by":null}]}"#,
        ]
        // The fourth page is written in pieces: put it together.
        let texts = [pages[0], pages[1], pages[2], pages[3] + pages[4] + pages[5], pages[6], pages[7], pages[8]]
        let verdicts = await Self.verdicts(texts.map { Array($0.utf8) })
        #expect(verdicts["same"]?.count == texts.count, "\(verdicts)")
    }

    @Test func pagesTheSlowWayRefusesTheDecoderLeavesToIt() async {
        let incident = Self.incident
        var pages = [
            "", "{", "[]", "null", #"{"incidents":[{\#(incident)}]} x"#, #"{"incidents":[{\#(incident)},]}"#, #"{"incidents":[{\#(incident),}]}"#,
            #"{"incidents":[{"id":"don:core:incident/1"}]}"#, #"{"incidents":[{"display_id":"INC-1","id":null}]}"#,
            #"{"incidents":[{"display_id":"INC-1","id":7}]}"#, #"{"incidents":null}"#, #"{"incidents":{}}"#, #"{"incidents":[null]}"#,
            #"{"incidents":[1]}"#, #"{"next_cursor":5}"#, #"{"incidents":[{\#(incident),"severity":"high"}]}"#,
            #"{"incidents":[{\#(incident),"severity":{"id":1.5}}]}"#, #"{"incidents":[{\#(incident),"title":"a\#u{01}b"}]}"#,
            #"{"incidents":[{\#(incident),"title":"\ud800"}]}"#, #"{"incidents":[{\#(incident),"title":"\x"}]}"#,
            #"{"incidents":[{\#(incident),"id":"again"}]}"#, #"{"incidents":[],"incidents":[]}"#,
            #"{"incidents":[{\#(incident),"x":{"a":1,"a":2}}]}"#, #"{"incidents":[{\#(incident),"custom_fields":{"big":1e400}}]}"#,
            #"{"incidents":[{\#(incident),"custom_fields":{"n":01}}]}"#, #"{"incidents":[{\#(incident),"tags":[null]}]}"#,
            #"{"incidents":[{\#(incident),"custom_fields":[1]}]}"#,
            #"{"incidents":[{\#(incident),"x":\#(String(repeating: "[", count: 70))\#(String(repeating: "]", count: 70))}]}"#,
        ].map { Array($0.utf8) }
        pages.append(Array(#"{"incidents":[{\#(incident),"title":""#.utf8) + [0xFF, 0xFE] + Array(#""}]}"#.utf8))
        let verdicts = await Self.verdicts(pages)
        #expect(verdicts["refused"]?.count == pages.count, "\(verdicts)")
    }

    /// Each key the schema does not name is compared with those before it: past 64 in one object
    /// the parser's dictionary reads the page instead, so that a hostile page of 100 000 keys does
    /// not take billions of comparisons.
    @Test func anObjectWithManyUnknownKeysIsLeftToTheParser() async {
        func page(keys: Int) -> [UInt8] {
            let members = (0..<keys).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
            return Array(#"{"incidents":[{\#(Self.incident),"custom_fields":{\#(members)}}]}"#.utf8)
        }
        let verdicts = await Self.verdicts([page(keys: 64), page(keys: 65)])
        #expect(verdicts["same"]?.count == 1 && verdicts["slow"]?.count == 1, "\(verdicts.mapValues(\.count))")
    }

    @Test func aKeyWithAnEscapeOrPastASCIIIsLeftToTheSlowWay() async {
        let verdicts = await Self.verdicts([
            Array(#"{"incidents":[{\#(Self.incident),"t\u0069tle":"x"}]}"#.utf8),
            Array(#"{"incidents":[{\#(Self.incident),"custom_fields":{"caf\#u{E9}":1}}]}"#.utf8),
        ])
        #expect(verdicts["slow"]?.count == 2, "\(verdicts)")
        // Two spellings of one key (é composed, and e with a combining accent) are one key to
        // the parser, which refuses the page; the decoder leaves it to the parser.
        let twice = await Self.verdicts([Array(#"{"incidents":[{\#(Self.incident),"custom_fields":{"caf\#u{E9}":1,"cafe\#u{301}":2}}]}"#.utf8)])
        #expect(twice["refused"]?.count == 1, "\(twice)")
    }

    /// The sandbox's pages with one edit each, from a seed: a byte deleted, doubled or replaced
    /// by one that matters to JSON (a quote, a backslash, a brace, a comma, a digit, a minus, a
    /// control or a high byte). Every verdict is one of the three; none is "wrong".
    @Test func editedPagesAreDecodedAlikeOrLeftToTheSlowWay() async throws {
        let seed = ProcessInfo.processInfo.environment["RUNBOOK_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        var generator = SplitMix64(seed: seed)
        let pages = try await Self.sandboxPages().filter { $0.count < 20_000 }
        let replacements: [UInt8] = Array(#""\{}[],:0-9.eE"#.utf8) + [0x01, 0x20, 0x7F, 0x80, 0xC3, 0xFF]
        var edited: [[UInt8]] = []
        for _ in 0..<400 {
            var page = pages[Int(generator.next() % UInt64(pages.count))]
            let position = Int(generator.next() % UInt64(page.count))
            switch generator.next() % 3 {
            case 0: page.remove(at: position)
            case 1: page.insert(page[position], at: position)
            default: page[position] = replacements[Int(generator.next() % UInt64(replacements.count))]
            }
            edited.append(page)
        }
        let verdicts = await Self.verdicts(edited)
        #expect(verdicts["wrong"] == nil, "seed \(seed): \(verdicts["wrong"]?.prefix(3) ?? [])")
        #expect((verdicts["same"]?.count ?? 0) > 50 && (verdicts["refused"]?.count ?? 0) > 50, "seed \(seed): \(verdicts.mapValues(\.count))")
    }
}
