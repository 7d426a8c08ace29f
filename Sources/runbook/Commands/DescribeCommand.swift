import ArgumentParser
import RunbookKit

struct DescribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Print a script's declared description and parameters (its leading --- @description / @param lines)."
    )

    @Argument(help: "The Lua script to describe.")
    var script: String

    func run() throws {
        let status = ScriptDescriber.describe(script)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
