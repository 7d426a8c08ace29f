#if canImport(Glibc)
import Glibc
#endif
import LuaRuntime
import RunbookKit
import Synchronization
import Testing

/// Collects what a run writes.
final class CapturedOutput: Sendable {
    private let standardOutput = Mutex<[UInt8]>([])
    private let standardError = Mutex<String>("")

    var output: RunnerOutput {
        RunnerOutput(
            standardOutput: { bytes in self.standardOutput.withLock { $0.append(contentsOf: bytes) } },
            standardError: { text in self.standardError.withLock { $0 += text } }
        )
    }

    var printed: String { standardOutput.withLock { String(decoding: $0, as: UTF8.self) } }
    var errors: String { standardError.withLock { $0 } }
}

@Suite("Script runner")
struct ScriptRunnerTests {
    private func script(_ source: String) throws -> String {
        let path = "/tmp/runbook-runner-\(UInt64.random(in: 0...UInt64.max)).lua"
        let file = try #require(fopen(path, "w"))
        fputs(source, file)
        fclose(file)
        return path
    }

    @Test func argumentsArriveAsStringsInRunbookArgs() async throws {
        let path = try script("print(runbook.args.service, type(runbook.args.count), runbook.args.count, runbook.args.missing)")
        let captured = CapturedOutput()
        let status = await ScriptRunner.run(
            RunOptions(scriptPath: path, arguments: [.init(key: "service", value: "checkout"), .init(key: "count", value: "3")]),
            output: captured.output)
        #expect(status == .success)
        #expect(captured.printed == "checkout\tstring\t3\tnil\n")
    }

    @Test func runbookArgsIsAnEmptyTableWithoutArguments() async throws {
        let path = try script("print(type(runbook.args), next(runbook.args))")
        let captured = CapturedOutput()
        #expect(await ScriptRunner.run(RunOptions(scriptPath: path), output: captured.output) == .success)
        #expect(captured.printed == "table\tnil\n")
    }

    @Test func exitStatusesFollowTheErrorKind() {
        #expect(ScriptRunner.exitStatus(for: LuaScriptError(kind: .syntax, message: "")) == .dataError)
        #expect(ScriptRunner.exitStatus(for: LuaScriptError(kind: .runtime, message: "")) == .scriptError)
        #expect(ScriptRunner.exitStatus(for: LuaScriptError(kind: .timeout, message: "")) == .timeout)
        #expect(ScriptRunner.exitStatus(for: LuaScriptError(kind: .memoryLimit, message: "")) == .scriptError)
        #expect(ScriptRunner.exitStatus(for: LuaScriptError(kind: .unreadable, message: "")) == .usage)
    }

    @Test func exitCodesAreTheDocumentedOnes() {
        #expect(ExitStatus.allCases.map(\.rawValue) == [0, 1, 64, 65, 69, 74, 75, 77, 78, 79, 80, 124, 130, 143])
    }
}
