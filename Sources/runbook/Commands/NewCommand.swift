import ArgumentParser
import Foundation
import RunbookKit

struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Write a new runbook, NAME.lua, and its tests, NAME_test.lua, from a template; never over an existing file.",
        discussion: """
            Templates (each an example of examples/ with its tests): \
            \(RunbookTemplates.names.joined(separator: ", ")). The @name line names the new runbook; \
            change its @description, @param and @changes lines and its logic, and its tests with them, then \
            check both with: runbook test NAME_test.lua
            """
    )

    @Argument(help: "The runbook's name: letters, digits, '-' and '_'.")
    var name: String

    @Option(help: ArgumentHelp("The pattern to start from: \(RunbookTemplates.names.joined(separator: ", ")).", valueName: "TEMPLATE"))
    var template = "blank"

    @Option(help: ArgumentHelp("Where to write NAME.lua and NAME_test.lua.", valueName: "DIR"))
    var directory = "."

    func run() throws {
        do {
            let paths = try RunbookTemplates.create(name: name, template: template, directory: directory)
            print("wrote \(paths.script) and \(paths.test) (template \(template)); test it with: runbook test \(paths.test)")
            if let test = try? String(contentsOfFile: paths.test, encoding: .utf8), test.contains("assert.plan(") {
                print("its tests compare a dry run with a golden plan: runbook test \(paths.test) --update writes it")
            }
        } catch {
            FileDescriptorWriter.write("runbook: \(error)\n", to: 2)
            throw ExitCode(error.isUsage ? ExitStatus.usage.rawValue : ExitStatus.outputError.rawValue)
        }
    }
}
