import LuaRuntime

/// `runbook check`: compiles scripts without running them.
public enum ScriptChecker {
    /// Checks every script (it compiles, its declarations parse, it reads no global that nothing
    /// defines); reports each problem on standard error and each success on standard output.
    /// Returns 0 when all pass, 65 when any does not, 64 when one cannot be read.
    public static func check(_ paths: [String], output: RunnerOutput = .process) -> ExitStatus {
        LuaThread.runAndWait {
            var status = ExitStatus.success
            for path in paths {
                do throws(LuaScriptError) {
                    let source = try LuaRuntime.read(file: path)
                    let runtime = try LuaRuntime(options: LuaRuntimeOptions(hiddenEnvironmentVariables: SecretEnvironment.names))
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
