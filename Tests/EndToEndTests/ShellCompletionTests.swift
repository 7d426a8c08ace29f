import Foundation
import Testing

/// The completion scripts swift-argument-parser generates from runbook's own commands: each
/// parses in its shell (bash always; zsh and fish where installed) and completes every subcommand.
@Suite("Shell completions")
struct ShellCompletionTests {
    static let subcommands = ["run", "plan", "apply", "check", "describe", "sandbox", "doctor", "version"]

    /// Runs `shell -n file` (parse only); nil when the shell is not installed.
    private func parses(_ shell: String, _ script: String) throws -> (status: Int32, error: String)? {
        guard let path = ["/bin/\(shell)", "/usr/bin/\(shell)", "/usr/local/bin/\(shell)"].first(where: FileManager.default.isExecutableFile) else {
            return nil
        }
        let directory = try ScriptDirectory()
        let file = try directory.write("completion.\(shell)", script)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-n", file]
        let error = Pipe()
        process.standardError = error
        try process.run()
        let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func theCompletionScriptParsesAndKnowsEverySubcommand(shell: String) async throws {
        let generated = try await RunbookBinary.run(["--generate-completion-script", shell])
        #expect(generated.status == 0, "\(generated.standardError)")
        for subcommand in Self.subcommands {
            #expect(generated.standardOutput.contains(subcommand), "\(shell) completes \(subcommand)")
        }
        #expect(generated.standardOutput.contains("max-changes"), "and the options of run")
        let script = generated.standardOutput
        // Not installed is nil; failing to run an installed shell fails the test.
        let checked = try await offPool { Result { try parses(shell, script) } }.get()
        guard let (status, error) = checked else {
            #expect(shell != "bash", "bash is always there to check the bash completion")
            return
        }
        #expect(status == 0, "\(shell) -n: \(error)")
    }
}
