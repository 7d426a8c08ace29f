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

    @Flag(name: .customLong("allow-other-target"), help: "Apply a plan made for another base URL or org, or against the sandbox.")
    var allowOtherTarget = false

    @Option(help: "text, or json: a report on standard output (each change with what became of it); the progress lines go to standard error.")
    var output: OutputFormat = .text

    func run() async throws {
        var options = RunOptions(scriptPath: plan)
        connection.apply(to: &options)
        safety.apply(to: &options)
        options.allowOtherTarget = allowOtherTarget
        options.output = output
        SignalWatcher.install()
        let status = await PlanApplying.apply(options)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
