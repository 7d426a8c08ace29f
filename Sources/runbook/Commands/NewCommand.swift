import ArgumentParser
import RunbookKit

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a new runbook, NAME.lua, from a template; never over an existing file.",
        discussion: """
            Templates (each an example of examples/, which the tests run against the sandbox): \
            \(RunbookTemplates.names.joined(separator: ", ")). The @name line names the new runbook; \
            change its @description, @param and @changes lines and its logic, then try it with: \
            runbook run NAME.lua --sandbox --dry-run
            """
    )

    @Argument(help: "The runbook's name: letters, digits, '-' and '_'.")
    var name: String

    @Option(help: ArgumentHelp("The pattern to start from: \(RunbookTemplates.names.joined(separator: ", ")).", valueName: "TEMPLATE"))
    var template = "blank"

    @Option(help: ArgumentHelp("Where to write NAME.lua.", valueName: "DIR"))
    var directory = "."

    func run() throws {
        do {
            let path = try RunbookTemplates.create(name: name, template: template, directory: directory)
            print("wrote \(path) (template \(template)); try it with: runbook run \(path) --sandbox --dry-run")
        } catch {
            FileDescriptorWriter.write("runbook: \(error)\n", to: 2)
            throw ExitCode(error.isUsage ? ExitStatus.usage.rawValue : ExitStatus.outputError.rawValue)
        }
    }
}
