import ArgumentParser
import RunbookKit

@main
struct Runbook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Run operators' Lua runbooks against DevRev's incidents API.",
        discussion: """
            Exit codes:
            \(ExitStatus.helpTable)
            """,
        version: RunbookVersion.description,
        subcommands: [RunCommand.self, PlanCommand.self, ApplyCommand.self, CheckCommand.self, TestCommand.self, JournalCommand.self, DescribeCommand.self, NewCommand.self, EditorSetupCommand.self, SandboxCommand.self, DoctorCommand.self, VersionCommand.self]
    )
}
