import LuaRuntime

/// `runbook check`: compiles scripts without running them.
public enum ScriptChecker {
    /// Checks every script (it compiles, its declarations parse, it reads no global that nothing
    /// defines); reports each problem on standard error and each success on standard output.
    /// Returns 0 when all pass, 65 when any does not, 64 when one cannot be read.
    public static func check(_ paths: [String], output: RunnerOutput = .process) async -> ExitStatus {
        await LuaThread.run {
            var status = ExitStatus.success
            for path in paths {
                do throws(LuaScriptError) {
                    let source = try LuaRuntime.read(file: path)
                    let runtime = try LuaRuntime(options: LuaRuntimeOptions())
                    try runtime.check(source: source, chunkName: path)
                    do throws(ScriptDeclarations.Failure) {
                        _ = try ScriptDeclarations.parse(source, path: path)
                    } catch {
                        throw LuaScriptError(kind: .syntax, message: error.description)
                    }
                    let findings = GlobalLint.findings(in: source)
                    if !findings.isEmpty {
                        throw LuaScriptError(
                            kind: .syntax,
                            message: findings.map { "\(path):\($0.line): reads the undefined global '\($0.name)'" }.joined(separator: "\n"))
                    }
                    var line = "\(path): ok\n"
                    line.withUTF8 { output.standardOutput(UnsafeRawBufferPointer($0)) }
                } catch {
                    output.standardError("\(error.kind == .unreadable ? "runbook: " : "")\(error.message)\n")
                    let failure = ScriptRunner.exitStatus(for: error)
                    if status == .success || failure == .usage { status = failure }
                }
            }
            return status
        }
    }
}
