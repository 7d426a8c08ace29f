import ArgumentParser
import RunbookKit

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the token (present, not near expiry), that DevRev answers, and that the lock and journal directories are writable.",
        discussion: "Exit 0 when all is well (warnings included), 78 for configuration, 77 for a rejected token, 69 when DevRev does not answer."
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .customLong("audit-log"), help: ArgumentHelp("The audit journal to check.", valueName: "PATH"))
    var auditLog: String?

    @Option(help: "text, or json: the checks as one JSON object on standard output.")
    var output: OutputFormat = .text

    func run() async throws {
        var options = RunOptions(scriptPath: "")
        connection.apply(to: &options)
        options.auditLog = auditLog
        options.output = output
        let status = await Doctor.run(options)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
