import LuaRuntime

/// What one script run in a fresh VM produced.
struct LuaOutcome: Sendable {
    var results: [LuaValue] = []
    var error: LuaScriptError?
    var output = ""
    var memoryInUse = 0
    var registrySize = 0
    /// Time spent in `run`, measured on the VM thread.
    var elapsed: Duration = .zero

    var firstResult: LuaValue? { results.first }
}

/// Runs Lua in a fresh runtime on a VM thread of its own (as runbook does), never on a
/// cooperative-pool thread.
enum Lua {
    static func run(
        _ source: String,
        chunkName: String = "test.lua",
        options: LuaRuntimeOptions = LuaRuntimeOptions(),
        modules: @escaping @Sendable () -> [LuaModule] = { [] }
    ) async -> LuaOutcome {
        await LuaThread.run {
            var outcome = LuaOutcome()
            var printed: [UInt8] = []
            do throws(LuaScriptError) {
                let runtime = try LuaRuntime(options: options) { bytes in printed.append(contentsOf: bytes) }
                for module in modules() { runtime.register(module) }
                let clock = ContinuousClock()
                let start = clock.now
                defer { outcome.elapsed = clock.now - start }
                outcome.results = try runtime.run(source: Array(source.utf8), chunkName: chunkName)
                runtime.collectGarbage()
                outcome.memoryInUse = runtime.memoryInUse
                outcome.registrySize = runtime.registrySize
            } catch {
                outcome.error = error
            }
            outcome.output = String(decoding: printed, as: UTF8.self)
            return outcome
        }
    }

    /// A module `t` with `echo` (returns its arguments converted and pushed back), `null`
    /// (json.null), `array()` (an empty marked array) and `fail(message)` (throws in Swift).
    static func testModule() -> LuaModule {
        LuaModule(
            name: "t",
            functions: [
                LuaFunction(name: "echo") { call in try call.values() },
                LuaFunction(name: "array") { _ in [.array([])] },
                LuaFunction(name: "fail") { call in
                    throw TestFailure(message: try call.value(at: 1).stringValue ?? "failure")
                },
                LuaFunction(name: "raise") { call in
                    throw TestRaisable(kind: try call.value(at: 1).stringValue ?? "x")
                },
            ],
            values: ["null": .null]
        )
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

struct TestRaisable: LuaRaisableError {
    var kind: String
    var luaErrorValue: LuaValue { .object(["type": .string(LuaString(kind)), "status": 404]) }
    var luaErrorDescription: String { "\(kind) (404): it is not there" }
}
