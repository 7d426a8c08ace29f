import ArgumentParser
import RunbookKit

/// Where DevRev is: shared by run, plan, apply and doctor.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("base-url"), help: ArgumentHelp("DevRev API base URL (else DEVREV_BASE_URL, else https://api.devrev.ai).", valueName: "URL"))
    var baseURL: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("File holding the DevRev token, mode 0600 (else DEVREV_TOKEN).", valueName: "PATH"))
    var tokenFile: String?

    func apply(to options: inout RunOptions) {
        options.baseURL = baseURL
        options.tokenFile = tokenFile
    }
}

/// The lock and the journal: shared by run, plan and apply.
struct LockAndJournalOptions: ParsableArguments {
    @Option(name: .customLong("lock-wait"), help: ArgumentHelp(
        "Wait this long for another run of the script to finish, in seconds or e.g. 90s, 5m (else exit 75 at once).", valueName: "DURATION"))
    var lockWait: DurationOrZeroValue?

    @Flag(name: .customLong("no-lock"), help: "Run even if another run of the script is running.")
    var noLock = false

    @Option(name: .customLong("audit-log"), help: ArgumentHelp(
        "The audit journal (default $XDG_STATE_HOME/runbook/audit.jsonl); - writes it to standard error as JSON lines, unsynced.", valueName: "PATH"))
    var auditLog: String?

    @Option(name: .customLong("audit-log-max-size"), help: ArgumentHelp(
        "A journal this large when a run starts is renamed PATH.YYYYMMDDTHHMMSSZ (kept) and a new one begun.", valueName: "SIZE"))
    var auditLogMaxSize = ByteSizeValue(bytes: RunOptions.defaultJournalMaximumSize)

    func validate() throws {
        if noLock, lockWait != nil { throw ValidationError("--no-lock takes no lock: leave out --lock-wait") }
        if auditLogMaxSize.bytes < 1024 { throw ValidationError("--audit-log-max-size must be at least 1K") }
    }

    func apply(to options: inout RunOptions) {
        options.lockWait = lockWait.map(\.duration)
        options.noLock = noLock
        options.auditLog = auditLog
        options.journalMaximumSize = auditLogMaxSize.bytes
    }
}
