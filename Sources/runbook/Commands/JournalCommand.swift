import ArgumentParser
import RunbookKit

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "What runbook changed, when, by which run and script, and whether it worked (the audit journal).",
        subcommands: [JournalShowCommand.self, JournalVerifyCommand.self],
        defaultSubcommand: JournalShowCommand.self
    )
}

/// Which journal: the default one, the sandbox runs' one, or --audit-log.
struct JournalLocationOptions: ParsableArguments {
    @Option(name: .customLong("audit-log"), help: ArgumentHelp("The journal to read (default $XDG_STATE_HOME/runbook/audit.jsonl).", valueName: "PATH"))
    var auditLog: String?

    @Flag(help: "Read the journal of --sandbox runs (sandbox-audit.jsonl beside the default one).")
    var sandbox = false

    func validate() throws {
        if sandbox, auditLog != nil { throw ValidationError("--sandbox names the sandbox runs' journal: leave out --audit-log") }
        if auditLog == "-" { throw ValidationError("--audit-log -: a journal written to standard error cannot be read back; name its file") }
    }
}

struct JournalShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "List the changes in the journal (rotated files included), with their outcome, before and after.",
        discussion: """
            One line per change: time, outcome, incident, operation and answer, the fields before -> after \
            (before: as the run last read the incident), the script, the run id and the script's sha256. \
            ok: DevRev answered with success. error: it answered with an error, or the change was never sent. \
            unknown: sent, but the run stopped before the answer was recorded (a killed run): check those by hand.
            """
    )

    @OptionGroup var location: JournalLocationOptions

    @Option(help: ArgumentHelp("Only changes since this long ago (12h, 7d) or this RFC 3339 time.", valueName: "DURATION|TIME"))
    var since: String?

    @Option(help: ArgumentHelp("Only the changes of this script (its path, file name, or name without .lua).", valueName: "NAME"))
    var script: String?

    @Option(help: ArgumentHelp("Only the changes of this incident.", valueName: "ID"))
    var incident: String?

    @Option(help: ArgumentHelp("Only changes with this outcome: ok, error or unknown.", valueName: "OUTCOME"))
    var outcome: String?

    @Option(help: "text: a line per change and a summary; json: one report.")
    var output: OutputFormat = .text

    func validate() throws {
        if let outcome, !JournalQueryOptions.outcomes.contains(outcome) {
            throw ValidationError("--outcome is one of \(JournalQueryOptions.outcomes.joined(separator: ", "))")
        }
    }

    func run() throws {
        var options = JournalQueryOptions()
        options.path = location.auditLog
        options.sandbox = location.sandbox
        options.since = since
        options.script = script
        options.incident = incident
        options.outcome = outcome
        options.output = output
        let status = JournalQuery.run(options)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

struct JournalVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that every line of the journal is a record, in order within its run, each outcome after its intent.",
        discussion: "Exit 0 when the journal is sound, 65 when a line is torn or out of order, 64 when there is no journal."
    )

    @OptionGroup var location: JournalLocationOptions

    func run() throws {
        let status = JournalQuery.verify(path: location.auditLog, sandbox: location.sandbox)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
