import LuaRuntime

/// `runbook describe`: a script's declared description and parameters, without running it.
public enum ScriptDescriber {
    public static func describe(_ path: String, output: RunnerOutput = .process) -> ExitStatus {
        let source: [UInt8]
        do {
            source = try LuaRuntime.read(file: path)
        } catch {
            output.standardError("runbook: \(error.message)\n")
            return .usage
        }
        do {
            output.write(try ScriptDeclarations.parse(source, path: path).render(path: path))
            return .success
        } catch {
            output.standardError("runbook: \(error)\n")
            return .dataError
        }
    }
}
