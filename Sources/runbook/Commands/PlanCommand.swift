import ArgumentParser
import RunbookKit

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Dry-run a script and write the changes it would make to a plan file.",
        discussion: "Takes the options of run but --dry-run and --max-changes: a plan never sends anything. Apply it later with: runbook apply PLAN"
    )

    @OptionGroup var script: ScriptRunOptions

    @Option(name: .customShort("o"), help: ArgumentHelp("The plan file to write; - writes it to standard output (the script's print goes to standard error).", valueName: "PLAN"))
    var planFile: String

    func validate() throws {
        if planFile == "-", script.output == .json {
            throw ValidationError("-o - and --output json would both write to standard output; write the plan to a file")
        }
        if let problem = ScriptRunner.problem(writingPlanTo: planFile) { throw ValidationError(problem) }
    }

    func run() async throws {
        var options = script.makeOptions()
        options.planOutput = planFile
        SignalWatcher.install()
        let status = await ScriptRunner.run(options, watchdog: true)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
