import DevRevAPI
import LuaRuntime

/// The binding's cost on its own: a runtime whose `bench.encode_update(table)` makes the request
/// body exactly as `incident.update` does in a run that sends (conveniences, validation against
/// the schema's request shape, the JSON bytes), returning its length. Nothing is sent.
public enum BindingBenchmark {
    /// Runs `script`; the exit status of the run.
    /// `os.getenv` answers for `N` (the scripts' iteration count) and nothing else.
    public static func run(script: String) async -> Int32 {
        await LuaThread.run { () -> Int32 in
            do throws(LuaScriptError) {
                let runtime = try LuaRuntime(options: LuaRuntimeOptions(allowedEnvironmentVariables: ["N"]), output: { bytes in FileDescriptorWriter.write(bytes, to: 1) })
                let converter = RequestConverter(function: "incident.update")
                let scratch = RequestWriter.Scratch()
                let encode = LuaFunction(name: "encode_update") { call, results in
                    let request = try converter.encode(call, at: 1, shape: RequestShapes.incidentsUpdateRequest, for: .updateIncident, asValue: false, scratch: scratch)
                    try results.pushInteger(Int64(request.bytes.count))
                }
                runtime.register(LuaModule(name: "bench", functions: [encode]))
                try runtime.run(file: script)
                return 0
            } catch {
                FileDescriptorWriter.write(error.message + "\n", to: 2)
                return 1
            }
        }
    }
}
