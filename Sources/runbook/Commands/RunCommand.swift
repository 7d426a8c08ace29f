import ArgumentParser
import RunbookKit

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a script.",
        discussion: """
            The script sees its parameters in runbook.args; print writes to standard output.
            require searches the script's directory, then the ';'-separated directories of RUNBOOK_PATH.
            DevRev: DEVREV_TOKEN (or --token-file) and DEVREV_BASE_URL (or --base-url), or --sandbox.
            Exit codes:
            \(ExitStatus.helpTable)
            """
    )

    @OptionGroup var script: ScriptRunOptions

    @OptionGroup(title: "Monitoring") var monitoring: MonitoringOptions

    @Flag(name: .customLong("dry-run"), help: "Read as usual, plan every change with its diff, send none.")
    var dryRun = false

    @Option(name: .customLong("max-changes"), parsing: .unconditional, help: ArgumentHelp("Plan first; send the plan only if it has at most N changes (else exit 65).", valueName: "N"))
    var maxChanges: Int?

    func validate() throws {
        if let maxChanges {
            guard maxChanges >= 0 else { throw ValidationError("--max-changes must be 0 or more") }
            guard !dryRun else { throw ValidationError("--max-changes sends the plan; leave out --dry-run") }
        }
    }

    func run() async throws {
        var options = script.makeOptions()
        options.dryRun = dryRun
        options.maxChanges = maxChanges
        monitoring.apply(to: &options)
        SignalWatcher.install()
        let status = await ScriptRunner.run(options, watchdog: true)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
