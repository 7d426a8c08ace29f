import DevRevAPI
import LuaRuntime

/// The binding's cost on its own: a runtime whose `bench.encode_update(table)` converts the table
/// exactly as `incident.update` does (conveniences, validation against the schema's request
/// shape) and encodes the JSON request body, returning its length. Nothing is sent.
public enum BindingBenchmark {
    /// Runs `script`; the exit status of the run.
    /// `os.getenv` answers for `N` (the scripts' iteration count) and nothing else.
    public static func run(script: String) async -> Int32 {
        await LuaThread.run { () -> Int32 in
            do throws(LuaScriptError) {
                let runtime = try LuaRuntime(options: LuaRuntimeOptions(allowedEnvironmentVariables: ["N"]), output: { bytes in FileDescriptorWriter.write(bytes, to: 1) })
                let converter = RequestConverter(function: "incident.update")
                let encode = LuaFunction(name: "encode_update") { call in
                    let table = try call.value(at: 1, named: "")
                    let body = try converter.convert(table, shape: RequestShapes.incidentsUpdateRequest)
                    return [.integer(Int64(try LuaJSON.encode(body).count))]
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
