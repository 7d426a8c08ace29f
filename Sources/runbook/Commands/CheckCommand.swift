import ArgumentParser
import RunbookKit

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compile scripts without running them (no network, no execution).",
        discussion: "Exit 0 when every script compiles, 65 when one has a syntax error, 64 when one cannot be read."
    )

    @Argument(help: "The Lua scripts to check.")
    var scripts: [String]

    func validate() throws {
        if scripts.isEmpty { throw ValidationError("name at least one script") }
    }

    func run() async throws {
        let status = await ScriptChecker.check(scripts)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
