import ArgumentParser
import RunbookKit

struct EditorSetupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "editor-setup",
        abstract: "Make a runbook folder known to the Lua Language Server and luacheck.",
        discussion: """
            Writes .runbook/runbook.lua (definitions of every function, request field and answer a script gets), \
            .luarc.json (Lua 5.4, with those definitions) and .luacheckrc (the runbook standard). Run it again \
            after upgrading runbook. A file runbook did not write is not replaced without --force (exit 64).
            """
    )

    @Argument(help: "The folder that holds the runbooks.")
    var directory = "."

    @Flag(help: "Replace files runbook did not write.")
    var force = false

    func run() async throws {
        do {
            for line in try await EditorSetup.run(directory: directory, force: force) { print(line) }
        } catch let failure as EditorSetup.Failure {
            FileDescriptorWriter.write("runbook: \(failure)\n", to: 2)
            throw ExitCode(ExitStatus.usage.rawValue)
        }
    }
}
