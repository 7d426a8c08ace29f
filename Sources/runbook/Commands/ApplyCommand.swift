import ArgumentParser
import RunbookKit

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Send exactly the changes of a plan, skipping incidents modified since it was planned."
    )

    @Argument(help: "The plan file written by runbook plan.")
    var plan: String

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var safety: LockAndJournalOptions

    func run() async throws {
        var options = RunOptions(scriptPath: plan)
        connection.apply(to: &options)
        safety.apply(to: &options)
        SignalWatcher.install()
        let status = await PlanApplying.apply(options)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
