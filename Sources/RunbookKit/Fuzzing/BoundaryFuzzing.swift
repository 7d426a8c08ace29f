import DevRevAPI
import LuaRuntime

/// What the libFuzzer target (fuzz/, `scripts/fuzz`) and the corpus replay of the tests feed
/// arbitrary bytes to: the two boundaries where bytes from outside meet the VM. An input whose
/// first byte is even is a response body, taken the way a DevRev answer is (the strict parser,
/// then each operation's response model, then the value pushed into a VM, walked and encoded
/// again); an odd one is Lua source, run through the C bridge with tight limits. Either may
/// fail in any way but a crash, a hang or a Swift trap.
public enum BoundaryFuzzing {
    /// Whether the input went all the way: an answer parsed, walked and encoded again; a script
    /// that ran to its end.
    @discardableResult
    public static func run(_ input: [UInt8]) -> Bool {
        guard let first = input.first else { return false }
        let rest = Array(input.dropFirst())
        return first % 2 == 0 ? response(rest) : script(rest)
    }

    static let operations: [DevRevOperation] = [
        .getIncident, .listIncidents, .updateIncident, .createIncident, .groupIncidents, .deleteIncident,
    ]

    /// A response body, as `JournaledExchange` takes DevRev's answers.
    static func response(_ body: [UInt8]) -> Bool {
        guard let value = try? LuaJSON.decode(body) else { return false }
        for operation in operations { _ = ResponseSchema.problem(in: body, of: operation) }
        guard let runtime = try? LuaRuntime(options: LuaRuntimeOptions(timeout: .seconds(2), memoryLimit: 64 << 20)) else { return false }
        runtime.register(JSONModule.make())
        runtime.register(LuaModule(name: "input", values: ["answer": LuaJSON.lua(from: value)]))
        return (try? runtime.run(source: Array(walker.utf8), chunkName: "=walk")) != nil
    }

    /// Lua source, with a limit on time and memory, and the json module.
    static func script(_ source: [UInt8]) -> Bool {
        guard let runtime = try? LuaRuntime(options: LuaRuntimeOptions(timeout: .milliseconds(200), memoryLimit: 16 << 20)) else { return false }
        runtime.register(JSONModule.make())
        return (try? runtime.run(source: source, chunkName: "=fuzz")) != nil
    }

    private static let walker = """
        local seen = 0
        local function walk(value, depth)
          seen = seen + 1
          if type(value) == "table" then
            for key, item in pairs(value) do walk(key, depth + 1) walk(item, depth + 1) end
            local _ = #value
          elseif type(value) == "string" then
            local _ = value:upper(), utf8.len(value)
          end
        end
        walk(input.answer, 0)
        return json.encode(input.answer), seen
        """
}
