import ArgumentParser
import RunbookKit

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print runbook's version and its Lua's.")

    func run() {
        print(RunbookVersion.description)
    }
}
