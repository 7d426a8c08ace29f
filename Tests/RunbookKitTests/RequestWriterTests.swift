import DevRevAPI
import DevRevSandbox
import Foundation
import Logging
import LuaRuntime
@testable import RunbookKit
import Testing

/// Lua table expressions for a request shape, from a seed: mostly what the shape takes (with the
/// conveniences: plain arrays for set wrappers, strings for stages, Unix seconds and offsets for
/// dates, integral floats for integers), and now and then a mistake (a wrong type, json.null, an
/// unknown or integer key, invalid UTF-8, a number out of range, a missing required field).
struct RequestTableSource {
    var generator: SplitMix64
    /// One field in this many is a mistake.
    let mistakeOdds: Int

    init(seed: UInt64, mistakeOdds: Int) {
        generator = SplitMix64(seed: seed)
        self.mistakeOdds = mistakeOdds
    }

    mutating func next(_ bound: Int) -> Int { Int(generator.next() % UInt64(bound)) }
    mutating func pick(_ choices: [String]) -> String { choices[next(choices.count)] }
    mutating func mistake() -> Bool { next(mistakeOdds) == 0 }

    static let wrongValues = ["json.null", "true", "1.5", "'\\255\\254'", "{}", "json.array()", "{1, 2}", "{x = 1}", "0/0", "1/0", "print"]

    mutating func table(_ shape: ObjectShape, depth: Int = 0) -> String {
        if mistake() { return pick(["json.array()", "{1}", "{[1] = 1, id = 'INC-1'}", "{[2.5] = 1}", "{[true] = 1}", "{zzz_unknown = 1}", "'text'", "7"]) }
        // A required field is left out only as a mistake.
        var parts: [String] = []
        for field in shape.orderedFields where shape.required.contains(field.name) ? !mistake() : next(3) == 0 {
            parts.append("[\"\(field.name)\"] = \(value(field.shape, depth: depth + 1))")
        }
        parts.shuffle(using: &generator)
        return "{" + parts.joined(separator: ", ") + "}"
    }

    mutating func value(_ shape: RequestShape, depth: Int) -> String {
        let wrong = mistake()
        switch shape {
        case .string:
            if wrong { return pick(Self.wrongValues + ["'\\255'", "12"]) }
            return pick(["'INC-1'", "'DEVU-7'", "''", "'quote \\\" and backslash \\\\'", "'tab\\tnew\\nline\\1'", "'ünïcødé ✓'", "'a\\0b'", "'/slash/'"])
        case .dateTime:
            if wrong { return pick(Self.wrongValues + ["1795694400000", "'tomorrow'", "'2026-02-30T00:00:00Z'", "1.5", "-62135596801"]) }
            return pick(["'2026-11-26T12:00:00Z'", "'2026-11-26t14:00:00+02:00'", "'2026-11-26T12:00:00.123456Z'", "1795694400", "1795694400.0",
                         "0", "-62135596800", "253402300799"])
        case .int64:
            if wrong { return pick(Self.wrongValues + ["2^63", "1e19", "'1'", "0.5"]) }
            return pick(["1", "-1", "0", "3.0", "-0.0", "math.maxinteger", "math.mininteger", "2^53", "-2^63"])
        case .int32:
            if wrong { return pick(Self.wrongValues + ["2^31", "-2^31 - 1", "math.maxinteger"]) }
            return pick(["1", "2", "3.0", "2147483647", "-2147483648", "100"])
        case .number:
            if wrong { return pick(Self.wrongValues + ["'1'"]) }
            return pick(["1", "2.5", "3.0", "-0.0", "0.1", "1e15", "1e16", "1e300", "5e-324", "-7", "math.maxinteger"])
        case .boolean:
            if wrong { return pick(Self.wrongValues + ["1", "'true'"]) }
            return pick(["true", "false"])
        case .enumeration(let allowed):
            if wrong { return pick(Self.wrongValues + ["'bogus'", "'\(allowed[0].uppercased())'"]) }
            return "'\(allowed[next(allowed.count)])'"
        case .array(let item):
            if wrong { return pick(Self.wrongValues + ["{[2] = 1}", "{[0] = 1}", "{n = 1}", "{1, n = 1}"]) }
            if depth > 5 || next(6) == 0 { return pick(["{}", "json.array()"]) }
            return "{" + (0..<(1 + next(3))).map { _ in value(item, depth: depth + 1) }.joined(separator: ", ") + "}"
        case .object(let object):
            if wrong { return pick(Self.wrongValues + ["{zzz_unknown = 1}", "{[1] = 1}", "{[2.5] = 1}", "{[true] = 1}"]) }
            if depth > 5 { return "{}" }
            if object.isSetWrapper, case .array? = object.fields["set"], next(2) == 0 {
                return value(object.fields["set"] ?? .any, depth: depth)
            }
            if object.fields["stage"] != nil, object.fields.count <= 2, next(2) == 0 { return "'don:stage/\(next(9))'" }
            return table(object, depth: depth)
        case .freeform:
            if wrong { return pick(["'x'", "{1, 2}", "json.array()", "{['\\255'] = 1}", "{a = print}", "json.null"]) }
            return pick(["{}", "{ticket = 'T-1', count = 2, nested = {1, 2, {a = json.null}}}", "{['ünï'] = true, e = json.array()}"])
        case .any:
            if wrong { return pick(["print", "json.null", "{a = 0/0}"]) }
            return pick(["1", "'x'", "{a = 1}", "{1, 'b'}", "2.5"])
        }
    }
}

@Suite("Requests written straight from the Lua stack")
struct RequestWriterTests {
    static let shapes: [String: ObjectShape] = [
        "update": RequestShapes.incidentsUpdateRequest, "create": RequestShapes.incidentsCreateRequest,
        "list": RequestShapes.incidentsListRequest, "group": RequestShapes.incidentsGroupRequest,
    ]

    /// Runs `source` with `compare(table, shape)`, which writes the table both ways and says how
    /// they compare: `same`, `slow` (the writer gave up, the converter succeeded), `refused` (both
    /// refused it), or what differs. The script's result is returned.
    static func run(_ source: String, memoryLimit: Int = 256 << 20) async -> String {
        await LuaThread.run { () -> String in
            do throws(LuaScriptError) {
                let runtime = try LuaRuntime(options: LuaRuntimeOptions(timeout: .seconds(30), memoryLimit: memoryLimit))
                let settings = DevRevConnection.Settings(baseURL: try! BaseURL("http://127.0.0.1:9"), token: nil, logger: Logger(label: "writer"))
                let log = RunLog(runID: "writer", script: "writer.lua", threshold: .error, json: false, write: { _ in })
                try ScriptEnvironment(log: log, connection: DevRevConnection(settings: settings, deadline: nil, journal: nil)).install(into: runtime)
                let compare = LuaFunction(name: "compare") { call in
                    let shape = Self.shapes[try call.value(at: 2).stringValue ?? ""] ?? RequestShapes.incidentsUpdateRequest
                    let converter = RequestConverter(function: "incident.test")
                    var writer = RequestWriter(function: "incident.test", budget: call.memoryHeadroom)
                    let written = writer.write(call.stackValue(at: 1), shape: shape)
                    let slow: EncodedRequest
                    do {
                        slow = try EncodedRequest(try converter.convert(try call.argument(1, in: "incident.test"), shape: shape), for: .updateIncident)
                    } catch {
                        return [.string(LuaString(written == nil ? "refused" : "the writer accepted what the converter refuses: \(error)"))]
                    }
                    guard let written else { return ["slow"] }
                    if written.bytes != slow.bytes {
                        return [.string(LuaString("bytes differ:\n  writer    \(String(decoding: written.bytes, as: UTF8.self))\n  converter \(String(decoding: slow.bytes, as: UTF8.self))"))]
                    }
                    if written.fields != slow.fields || written.id != slow.id {
                        return [.string(LuaString("fields or id differ: \(written.fields) \(written.id ?? "-") / \(slow.fields) \(slow.id ?? "-")"))]
                    }
                    return ["same"]
                }
                // Whether the writer takes the table, and what it left of the memory headroom.
                let writes = LuaFunction(name: "writes") { call in
                    let shape = Self.shapes[try call.value(at: 2).stringValue ?? ""] ?? RequestShapes.incidentsUpdateRequest
                    var writer = RequestWriter(function: "incident.test", budget: call.memoryHeadroom)
                    let written = writer.write(call.stackValue(at: 1), shape: shape)
                    return [.boolean(written != nil), .integer(Int64(call.memoryHeadroom ?? -1))]
                }
                // update_many's list written item by item: how many it took ("no" when it gave
                // up), and whether each is the converter's bytes.
                let batch = LuaFunction(name: "batch") { call in
                    let budget = try call.value(at: 2).integerValue.map(Int.init) ?? call.memoryHeadroom
                    guard let written = BulkBindings.writtenUpdates(call.stackValue(at: 1), budget: budget, scratch: RequestWriter.Scratch()) else { return ["no"] }
                    var items: [LuaValue] = []
                    switch try call.value(at: 1) {
                    case .array(let given): items = given
                    case .emptyTable: break
                    default: return [.string(LuaString("\(written.count) of no list"))]
                    }
                    for (item, request) in zip(items, written) {
                        let slow = try EncodedRequest(try RequestConverter(function: "t").convert(item, shape: RequestShapes.incidentsUpdateRequest), for: .updateIncident)
                        guard slow.bytes == request.bytes, slow.fields == request.fields, slow.id == request.id else { return ["differs"] }
                    }
                    return [.string(LuaString("\(written.count)"))]
                }
                runtime.register(LuaModule(name: "writer", functions: [compare, writes, batch]))
                let results = try runtime.run(source: Array(source.utf8), chunkName: "=writer")
                return results.first?.stringValue ?? ""
            } catch {
                return "the VM stopped: \(error.message)"
            }
        }
    }

    /// The verdicts of `tables` (Lua expressions) against `shape`, in a table by verdict.
    static func verdicts(_ tables: [String], shape: String) async -> [String: [String]] {
        let calls = tables.map { "out[#out + 1] = writer.compare(\($0), '\(shape)') .. '\\t' .. \(LuaValueSource.quote($0))" }
        let output = await run("local out = {}\n" + calls.joined(separator: "\n") + "\nreturn table.concat(out, '\\n')")
        var verdicts: [String: [String]] = [:]
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            let parts = line.split(separator: "\t", maxSplits: 1)
            let verdict = parts.first.map(String.init) ?? ""
            verdicts[["same", "slow", "refused"].contains(verdict) ? verdict : "wrong", default: []].append(String(line))
        }
        return verdicts
    }

    @Test func theCommonRequestsAreWrittenInOnePassAsTheConverterWritesThem() async {
        let tables = [
            "{id = 'INC-1', severity = 1}",
            "{id = 'INC-42', severity = 1, owned_by = {set = {'DEVU-7'}}, stage = {stage = 'acknowledged', notes = 'escalated'}, target_close_date = '2026-11-27T12:00:00Z', title = 'Payments API latency above 2 s'}",
            "{id = 'INC-42', owned_by = {'DEVU-7', 'DEVU-8'}, applies_to_parts = {}, stage = 'don:stage/3', tags = {{tag_id = 'TAG-1', value = 'v'}}}",
            "{id = 'INC-42', target_close_date = 1795694400, mitigated_date = '2026-11-26t14:00:00+02:00', severity = 2.0}",
            "{id = 'INC-42', title = 'quote \" backslash \\\\ tab \\t nul \\0 ✓'}",
            "{id = 'INC-42', owned_by = json.array()}",
            "{id = 'INC-42', custom_fields = {ticket = 'T-1', nested = {1, 2, {a = json.null}}}}",
        ]
        let verdicts = await Self.verdicts(tables, shape: "update")
        #expect(verdicts["same"]?.count == tables.count, "\(verdicts)")
        let lists = ["{limit = 100, cursor = 'abc'}", "{severity = {1, 2}, stage = {'reported'}, created_date = {after = '2026-11-01T00:00:00Z'}}",
                     "{modified_date = {preset_type = 'last_n_days', days = 7}}", "{}"]
        let listVerdicts = await Self.verdicts(lists, shape: "list")
        #expect(listVerdicts["same"]?.count == lists.count, "\(listVerdicts)")
        let creates = ["{title = 'T', severity = 1, owned_by = {'DEVU-1'}, applies_to_parts = {'PROD-1'}}"]
        #expect(await Self.verdicts(creates, shape: "create")["same"]?.count == 1)
    }

    @Test func whatTheConverterRefusesTheWriterLeavesToIt() async {
        let tables = [
            "{}", "{id = 'INC-1', zzz = 1}", "{id = 'INC-1', [1] = 2}", "{id = 'INC-1', severity = 1.5}", "{id = 'INC-1', severity = json.null}",
            "{id = 'INC-1', severity = 2^63}", "{id = 'INC-1', title = '\\255'}", "{id = 'INC-1', target_close_date = 1795694400000}",
            "{id = 'INC-1', target_close_date = 'tomorrow'}", "{id = 'INC-1', owned_by = {[2] = 'DEVU-1'}}", "{id = 'INC-1', owned_by = {set = 'DEVU-1'}}",
            "{id = 'INC-1', stage = {stage = 'a', zzz = 1}}", "{id = 'INC-1', title = 0/0}", "{id = 'INC-1', title = print}",
            "json.array()", "{1, 2}", "{id = 'INC-1', custom_fields = 'x'}", "{id = 'INC-1', custom_fields = {['\\255'] = 1}}",
            "(function() local t = {id = 'INC-1'} t.custom_fields = {self = t} return t end)()",
        ]
        let verdicts = await Self.verdicts(tables, shape: "update")
        #expect(verdicts["refused"]?.count == tables.count, "\(verdicts)")
        #expect(await Self.verdicts(["{created_date = {days = 'x'}}", "{limit = 2^40}"], shape: "list")["refused"]?.count == 2)
    }

    @Test func generatedTablesAreWrittenAlikeOrLeftToTheConverter() async {
        let seed = ProcessInfo.processInfo.environment["RUNBOOK_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        for (offset, shape) in ["update", "create", "list", "group"].enumerated() {
            // Without mistakes, every table is one the writer takes; with one field in 40 wrong, many are refused.
            for odds in [1_000_000, 40] {
                var source = RequestTableSource(seed: seed &+ UInt64(offset * 2 + (odds == 40 ? 1 : 0)), mistakeOdds: odds)
                let tables = (0..<150).map { _ in source.table(Self.shapes[shape]!) }
                let verdicts = await Self.verdicts(tables, shape: shape)
                #expect(verdicts["wrong"] == nil, "seed \(seed), \(shape): \(verdicts["wrong"] ?? [])")
                if odds > 1000 {
                    let others = (verdicts["slow"] ?? []) + (verdicts["refused"] ?? [])
                    #expect(others.isEmpty, "seed \(seed), \(shape): \(others.prefix(3))")
                } else {
                    #expect((verdicts["refused"]?.count ?? 0) > 10 && (verdicts["same"]?.count ?? 0) > 10, "seed \(seed), \(shape): \(verdicts.mapValues(\.count))")
                }
            }
        }
    }

    @Test func updateManysListIsWrittenItemByItemOrLeftToTheConverter() async {
        let items = "{ id = 'INC-1', severity = 1 }, { id = 'INC-2', owned_by = {'DEVU-1'}, target_close_date = 1795694400 }"
        let output = await Self.run("""
            local lists = {
              { \(items) }, {}, json.array(), { \(items), { id = 'INC-3', zzz = 1 } }, { \(items), 'INC-3' },
              { [1] = { id = 'INC-1' }, [3] = { id = 'INC-3' } }, { [0] = { id = 'INC-0' }, [1] = { id = 'INC-1' } },
              { id = 'INC-1' }, { \(items), n = 2 },
            }
            local out = {}
            for _, list in ipairs(lists) do out[#out + 1] = writer.batch(list) end
            -- The list's budget is drawn on item after item: room for each item alone, not for both.
            out[#out + 1] = writer.batch({ { id = 'INC-1', title = string.rep('x', 600) }, { id = 'INC-2', title = string.rep('y', 600) } }, 1000)
            out[#out + 1] = writer.batch({ { id = 'INC-1', title = string.rep('x', 600) }, { id = 'INC-2', title = string.rep('y', 600) } }, 2000)
            return table.concat(out, " ")
            """)
        #expect(output == "2 0 0 no no no no no no no 2", "\(output)")
    }

    @Test func aTableTooLargeForTheMemoryLimitIsLeftToTheConverterWhichTripsIt() async {
        // 20 000 tags: what the converter would hold of them (48 bytes a value, plus the keys and
        // strings) is more than a 4 MiB limit leaves once the table is made, though the table fits.
        let source = """
            local tags = {}
            for i = 1, 20000 do tags[i] = { tag_id = "TAG-" .. i } end
            local request = { id = "INC-1", tags = tags }
            local written, headroom = writer.writes(request, "update")
            local answer = tostring(written) .. " " .. headroom
            local ok, err = pcall(incident.update, request)
            return answer .. " " .. tostring(ok)
            """
        let limited = await Self.run(source, memoryLimit: 4 << 20)
        #expect(limited.hasPrefix("the VM stopped:") && limited.contains("memory"), "the converter trips the limit: \(limited)")
        let probe = await Self.run(source.replacingOccurrences(of: "local ok, err = pcall(incident.update, request)\n", with: "local ok = 'skipped'\n"), memoryLimit: 4 << 20)
        #expect(probe.hasPrefix("false "), "the writer gives up without tripping it: \(probe)")
        let unlimited = await Self.run(source.replacingOccurrences(of: "local ok, err = pcall(incident.update, request)\n", with: "local ok = 'skipped'\n"))
        #expect(unlimited.hasPrefix("true "), "\(unlimited)")
    }
}
