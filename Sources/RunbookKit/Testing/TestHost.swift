import DevRevAPI
import LuaRuntime

/// The Swift functions of a test file's environment: `runbook.test.host` (behind `given`, `run`,
/// `assert.plan` and the prelude's bookkeeping) and the global `sandbox` table of reads.
enum TestHost {
    static func module(context: TestCaseContext) -> LuaModule {
        LuaModule(name: TestPrelude.hostModule, functions: [
            LuaFunction(name: "where") { call in
                let level = try call.value(at: 1).integerValue ?? 1
                guard let place = call.location(level: Int(clamping: level)) else { return [.nil, .nil] }
                return [.string(LuaString(place.chunk)), .integer(Int64(place.line))]
            },
            LuaFunction(name: "given") { call in
                try context.given(try call.value(at: 1, named: "given"))
                return []
            },
            LuaFunction(name: "run") { call in
                [try context.run(try call.value(at: 1, named: "run"), try call.value(at: 2, named: "run options"))]
            },
            LuaFunction(name: "golden") { call in
                guard let number = try call.value(at: 1).integerValue, let path = try call.value(at: 2).stringValue else {
                    return [.string("assert.plan: expected what run returned and a path")]
                }
                return [context.golden(run: number, path: path).map { .string(LuaString($0)) } ?? .nil]
            },
            LuaFunction(name: "unknown_assertion") { call in
                let name = try call.value(at: 1).stringValue ?? "?"
                var names: [String] = []
                if case .array(let items) = try call.value(at: 2) { names = items.compactMap(\.stringValue).sorted() }
                return [.string(LuaString("assert.\(name) does not exist\(didYouMean(name, among: names)) (assertions: \(names.joined(separator: ", ")))"))]
            },
        ], isGlobal: false)
    }

    static func sandboxModule(context: TestCaseContext) -> LuaModule {
        func reference(_ call: LuaCall, _ name: String) throws -> String {
            guard let text = try call.value(at: 1).stringValue else {
                throw TestFixture.Problem("sandbox.\(name): the argument is an incident's display id or id")
            }
            return text
        }
        return LuaModule(name: "sandbox", functions: [
            LuaFunction(name: "incident") { call in [try context.incident(try reference(call, "incident"))] },
            LuaFunction(name: "incidents") { _ in [try context.incidents()] },
            LuaFunction(name: "comments") { call in [try context.comments(try reference(call, "comments"))] },
            LuaFunction(name: "now") { _ in [.integer(context.now)] },
            LuaFunction(name: "date") { call in [.string(LuaString(try context.date(try call.value(at: 1))))] },
        ])
    }
}
