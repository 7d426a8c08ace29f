import ArgumentParser
import Foundation
import RunbookKit

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compile scripts without running them (no network, no execution).",
        discussion: """
            Also checks the leading declarations (@name, @description, @changes, @param; an unknown @tag is an \
            error), reads of undefined globals, and every module the script requires by name, as require finds it \
            (the script's directory, then RUNBOOK_PATH). Exit 0 when all pass, 65 when one has a problem, 64 when \
            a script cannot be read.
            """
    )

    @Argument(help: "The Lua scripts to check.")
    var scripts: [String]

    func validate() throws {
        if scripts.isEmpty { throw ValidationError("name at least one script") }
    }

    func run() async throws {
        let searchPaths = RunOptions.searchPaths(fromEnvironment: ProcessInfo.processInfo.environment["RUNBOOK_PATH"])
        let status = await ScriptChecker.check(scripts, searchPaths: searchPaths)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
