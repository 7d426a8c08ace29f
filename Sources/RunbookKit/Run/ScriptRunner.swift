import DevRevAPI
import Foundation
import LuaRuntime

/// Runs one script for `runbook run`, and maps how it ended to an exit status.
public enum ScriptRunner {
    /// How long past `--timeout` the process may go on before the watchdog ends it. The VM's hook
    /// stops Lua code at the deadline; this catches work that never returns to Lua.
    public static let watchdogGrace: Duration = .seconds(1)

    /// A longer `--timeout` counts as this (a century): the deadline never overflows the clock.
    static let longestTimeout: Duration = .seconds(100 * 365 * 86_400)

    /// Why a plan cannot be written to `path` (`runbook plan -o`), checked before the script runs.
    public static func problem(writingPlanTo path: String) -> String? {
        PlanFile.problem(writingTo: path)
    }

    public static func run(_ options: RunOptions, output: RunnerOutput = .process, watchdog: Bool = false) async -> ExitStatus {
        let monitor = RunMonitor(options: options)
        guard !monitor.isEmpty else { return await execute(options, output: output, watchdog: watchdog).status }
        return await monitor.around(scriptPath: options.scriptPath, output: output) {
            await execute(options, output: output, watchdog: watchdog)
        }
    }

    /// How a run ended, with its report (delivered on standard output with `--output json`).
    struct Execution: Sendable {
        var status: ExitStatus
        var report: RunReport
    }

    static func execute(_ options: RunOptions, output: RunnerOutput = .process, watchdog: Bool = false) async -> Execution {
        let runID = Self.makeRunID()
        let log = RunLog(runID: runID, script: options.scriptPath, threshold: options.logLevel, json: options.outputJSON,
                         write: output.standardError, record: output.logRecord)
        let mode = options.planOutput != nil ? "plan" : options.dryRun ? "dry_run" : options.maxChanges != nil ? "max_changes" : "run"
        var report = RunReport(runID: runID, scriptPath: options.scriptPath, arguments: options.argumentTable, mode: mode)
        let finish = { (status: ExitStatus, error: String?) -> Execution in
            let delivered = options.outputJSON ? report.deliver(status: status, error: error, output: output) : status
            if !options.outputJSON { report.finish(status: status, error: error) }
            return Execution(status: delivered, report: report)
        }

        let session: RunSession
        do throws(RunSession.Failure) {
            session = try await RunSession.open(options, lockScript: options.scriptPath, log: log)
        } catch {
            output.standardError("runbook: \(error)\n")
            return finish(error.status, error.description)
        }

        if watchdog, let timeout = options.timeout {
            Watchdog.exit(after: timeout + watchdogGrace, status: .timeout) {
                "runbook: the script ran past --timeout \(DurationArgument.format(timeout)) and did not return to Lua; stopped\n"
            }
        }
        report.target = session.target
        let deadline = options.timeout.map { ContinuousClock.now + min($0, Self.longestTimeout) }
        let result = await LuaThread.run {
            runOnThisThread(options, session: session, runID: runID, log: log, deadline: deadline, output: output)
        }
        await session.close()
        report.calls = result.calls
        report.scriptSHA256 = result.digest
        report.scriptName = result.scriptName
        report.plan = result.plan
        report.unchanged = result.unchanged
        report.applied = result.applied
        report.rateLimitWait = result.rateLimitWait
        report.errorType = result.errorType
        report.claimedElsewhere = result.claimedElsewhere
        return finish(result.status, result.message)
    }

    struct RunResult: Sendable {
        var status: ExitStatus
        var message: String?
        var calls: [DevRevConnection.CallRecord] = []
        var digest: String?
        /// The script's `@name`.
        var scriptName: String?
        /// The planned changes, for a run that planned.
        var plan: [PlannedChange]?
        /// Updates the plan left out: they would change nothing.
        var unchanged: [String]?
        /// How long the run's calls waited for DevRev's rate limit.
        var rateLimitWait: Duration = .zero
        /// What `--max-changes` sent of its plan.
        var applied: PlanApplier.Outcome?
        /// The error's own type (`not_found`, `validation`, `timeout`, ...) when the script failed.
        var errorType: String?
        /// Incidents skipped because another run holds their claim.
        var claimedElsewhere: [RunReport.ClaimedElsewhere]?
    }

    static func runOnThisThread(
        _ options: RunOptions, session: RunSession, runID: String, log: RunLog, deadline: ContinuousClock.Instant?, output: RunnerOutput
    ) -> RunResult {
        let source: [UInt8]
        do {
            source = try LuaRuntime.read(file: options.scriptPath)
        } catch {
            output.standardError("runbook: \(error.message)\n")
            return RunResult(status: .usage, message: error.message)
        }
        if let token = session.connection.token?.value, token.utf8.count >= 8, source.contains(token.utf8) {
            // The token file run as a script, say: it must not reach the VM, nor an error message.
            let message = "\(options.scriptPath) holds the DevRev token; it is not a script, and the token never enters one"
            output.standardError("runbook: \(message)\n")
            return RunResult(status: .dataError, message: message)
        }
        let digest = SHA256.hex(source)
        let args: [String: LuaValue]
        let declarations: ScriptDeclarations
        do throws(ScriptDeclarations.Failure) {
            declarations = try ScriptDeclarations.parse(source, path: options.scriptPath)
            args = try declarations.arguments(for: options.arguments)
        } catch {
            output.standardError("runbook: \(error)\n")
            // A declaration that does not parse is a bad script (65); a bad --arg, a bad command line (64).
            return RunResult(status: error.inDeclaration ? .dataError : .usage, message: error.description, digest: digest)
        }
        let journal: AuditJournal
        do throws(RunSession.Failure) {
            journal = try session.openJournal(options, facts: .init(
                runID: runID, user: AuditJournal.currentUser(), host: AuditJournal.hostName(), script: options.scriptPath,
                scriptSHA256: digest, arguments: options.argumentTable), output: output)
        } catch {
            output.standardError("runbook: \(error)\n")
            return RunResult(status: error.status, message: error.description, digest: digest, scriptName: declarations.name)
        }
        defer { journal.flush() }
        let planner = options.plans ? Planner(clock: RunClock(frozen: options.now)) : nil
        let claims = IncidentClaims(
            script: RunMetrics.scriptLabel(name: declarations.name, path: options.scriptPath), runID: runID, host: options.hostName ?? AuditJournal.hostName(),
            declaredWindow: declarations.claimWindow, startedAt: options.now ?? Int64(options.startedAt.timeIntervalSince1970.rounded(.down)),
            frozen: options.now != nil)
        let connection = DevRevConnection(settings: session.connection, deadline: deadline, journal: journal, planner: planner, claims: claims)
        defer { connection.shutdown() }
        // Standard output is the report's (--output json) or the plan's (plan -o -) alone.
        let standardOutputTaken = options.outputJSON || options.planOutput == "-"
        let say: (String) -> Void = { line in
            if standardOutputTaken { output.standardError(line + "\n") } else { output.write(line + "\n") }
        }
        /// The incidents another run's claim kept this run from changing, said once at the end
        /// and put in the report.
        func finished(_ result: RunResult) -> RunResult {
            guard !claims.lost.isEmpty else { return result }
            var result = result
            result.claimedElsewhere = claims.lost.map { .init(incident: $0.incident, holder: $0.holder) }
            let shown = claims.lost.prefix(10).map { "\($0.incident) (\($0.holder))" }.joined(separator: ", ")
            let count = claims.lost.count
            say("claimed elsewhere: \(count) incident\(count == 1 ? "" : "s") skipped, another run holds \(count == 1 ? "its" : "their") claim "
                + "for this window: \(shown)\(count > 10 ? ", …" : "")")
            return result
        }
        /// A journal that stopped accepting records ends the run with 78, whatever the script did
        /// with the error (it may have caught it), saying what the journal could not record.
        func journalBreakdown(_ result: RunResult) -> RunResult {
            // The run's last outcome goes to disk now, so a failure to flush it is reported too.
            journal.flush()
            guard let stopped = journal.stopped else { return result }
            var result = result
            let message = "the audit journal \(journal.path) stopped accepting records during the run (\(stopped.failure.reason)); "
                + "no change was sent after that"
            output.standardError("runbook: \(message). What the journal could not record:\n" + stopped.unrecorded.map { "  \($0)\n" }.joined())
            result.status = .configuration
            result.message = message
            result.errorType = "configuration"
            return result
        }
        let toStandardError: (UnsafeRawBufferPointer) -> Void = { bytes in output.standardError(String(decoding: bytes, as: UTF8.self)) }
        let held = options.maxChanges != nil && !standardOutputTaken ? HeldOutput() : nil
        let printTarget: (UnsafeRawBufferPointer) -> Void
        if standardOutputTaken {
            printTarget = toStandardError
        } else if let held {
            printTarget = { held.append($0) }
        } else {
            printTarget = output.standardOutput
        }
        /// The held planning output where it belongs once the run knows what it sent.
        func release(applied: Bool, nothingSent: Bool = true) {
            guard let held, !held.isEmpty else { return }
            if applied {
                output.write(held.text)
            } else {
                let why = nothingSent ? "none of its changes were sent" : "not all of its changes were sent"
                output.standardError("runbook: what the script printed while planning (\(why)):\n" + held.text)
            }
        }
        do throws(LuaScriptError) {
            var limits = runtimeOptions(for: options)
            limits.deadline = deadline
            let runtime = try LuaRuntime(options: limits, output: printTarget)
            SignalWatcher.watch(runtime.interruptHandle)
            defer { SignalWatcher.watch(nil) }
            let environment = ScriptEnvironment(
                args: args, clock: RunClock(frozen: options.now), runID: runID, dryRun: options.plans, log: log, connection: connection,
                scope: MutationScope(declared: declarations.changes))
            try environment.install(into: runtime)
            try runtime.run(source: source, file: options.scriptPath)
        } catch {
            var status = exitStatus(for: error)
            if let deadline, ContinuousClock.now >= deadline, case .object(let fields)? = error.value, fields["type"] == "timeout" {
                status = .timeout
            }
            release(applied: false)
            report(error, output: output)
            return finished(journalBreakdown(RunResult(status: status, message: error.message, calls: connection.calls, digest: digest, scriptName: declarations.name,
                                              rateLimitWait: connection.rateLimitWait, errorType: errorType(of: error, status: status))))
        }
        guard let planner else {
            return finished(journalBreakdown(RunResult(status: .success, calls: connection.calls, digest: digest, scriptName: declarations.name, rateLimitWait: connection.rateLimitWait)))
        }
        var result = RunResult(status: .success, calls: connection.calls, digest: digest, scriptName: declarations.name, plan: planner.changes,
                               unchanged: planner.unchanged, rateLimitWait: connection.rateLimitWait)
        let count = planner.countedChanges
        if !planner.unchanged.isEmpty {
            let list = planner.unchanged.count > 10 ? planner.unchanged.prefix(10).joined(separator: ", ") + ", …" : planner.unchanged.joined(separator: ", ")
            say("unchanged: \(planner.unchanged.count) would change nothing (\(list)); not counted, not sent")
        }
        if let path = options.planOutput {
            let plan = PlanFile(
                runID: runID, script: options.scriptPath, scriptSHA256: digest, arguments: options.argumentTable,
                created: RFC3339.format(Date()), target: session.target, changes: planner.changes)
            do {
                if path == "-" {
                    output.write(String(decoding: try JSONWriter.encode(plan, pretty: true), as: UTF8.self) + "\n")
                } else {
                    try plan.write(to: path)
                }
            } catch {
                output.standardError("runbook: \(error)\n")
                result.status = .usage
                result.message = "cannot write the plan \(path)"
                return finished(result)
            }
            say("plan: \(count) change\(count == 1 ? "" : "s") written to \(path == "-" ? "standard output" : path); nothing was sent")
            planner.changes.forEach { say("  " + $0.summary) }
        } else if let limit = options.maxChanges {
            guard count <= limit else {
                let message = "the run would make \(count) changes, more than --max-changes \(limit); nothing was sent"
                release(applied: false)
                output.standardError("runbook: \(message)\n")
                planner.changes.forEach { output.standardError("  " + $0.summary + "\n") }
                result.status = .budgetExceeded
                result.message = message
                return finished(result)
            }
            let live = DevRevConnection(settings: session.connection, deadline: deadline, journal: journal)
            defer { live.shutdown() }
            let outcome = PlanApplier.apply(planner.changes, connection: live, say: say)
            say(outcome.summary)
            release(applied: outcome.status == .success, nothingSent: outcome.count(.applied) == 0)
            result.applied = outcome
            result.status = outcome.status
            if let failure = outcome.failure {
                if let deadline, let timeout = options.timeout, ContinuousClock.now >= deadline {
                    // The deadline, not DevRev, stopped the apply phase.
                    let message = "timeout: the run ran past --timeout \(DurationArgument.format(timeout)) while sending its plan (\(failure)); \(outcome.summary)"
                    output.standardError("runbook: \(message)\n")
                    result.status = .timeout
                    result.message = message
                } else {
                    output.standardError("runbook: \(failure); \(outcome.summary)\n")
                    result.message = "\(failure.description); \(outcome.summary)"
                }
            } else if result.status != .success {
                result.message = outcome.summary
            }
            result.calls += live.calls
            result.rateLimitWait += live.rateLimitWait
            result = journalBreakdown(result)
        } else {
            say("dry run: \(count) change\(count == 1 ? "" : "s") planned, nothing sent")
            planner.changes.forEach { say("  " + $0.summary) }
        }
        return finished(result)
    }

    static func runtimeOptions(for options: RunOptions) -> LuaRuntimeOptions {
        LuaRuntimeOptions(
            timeout: options.timeout,
            memoryLimit: options.memoryLimit,
            searchPaths: options.searchPaths,
            allowedEnvironmentVariables: options.allowedEnvironment.filter { !SecretEnvironment.names.contains($0) },
            timeoutMessage: options.timeout.map { "timeout: the script ran past --timeout \(DurationArgument.format($0))" },
            memoryLimitMessage: "memory limit: the script used more than --memory-limit \(ByteSizeArgument.format(options.memoryLimit))"
        )
    }

    /// The type of a script's error: its error table's `type`, else what stopped it.
    static func errorType(of error: LuaScriptError, status: ExitStatus) -> String {
        if status == .timeout { return "timeout" }
        switch error.kind {
        case .unreadable: return "unreadable"
        case .syntax: return "syntax"
        case .timeout: return "timeout"
        case .memoryLimit: return "memory_limit"
        case .interrupted: return status.name
        case .errorHandling: return "runtime"
        case .runtime:
            guard case .object(let fields)? = error.value, let type = fields["type"]?.stringValue else { return "runtime" }
            return type
        }
    }

    public static func exitStatus(for error: LuaScriptError) -> ExitStatus {
        switch error.kind {
        case .unreadable: return .usage
        case .syntax: return .dataError
        case .timeout: return .timeout
        case .interrupted: return SignalWatcher.received ?? .interrupted
        case .memoryLimit, .errorHandling: return .scriptError
        case .runtime:
            guard case .object(let fields)? = error.value, let type = fields["type"]?.stringValue else { return .scriptError }
            let status = fields["status"]?.integerValue.map { Int($0) }
            return ScriptFailure.exitStatus(type: type, status: status)
        }
    }

    static func report(_ error: LuaScriptError, output: RunnerOutput) {
        var text = (error.kind == .unreadable ? "runbook: " : "") + error.message + "\n"
        if let traceback = error.traceback, !traceback.isEmpty, error.kind != .syntax {
            text += traceback + "\n"
        }
        output.standardError(text)
    }

    static func makeRunID() -> String {
        let stamp = Date().formatted(Date.ISO8601FormatStyle().year().month().day().time(includingFractionalSeconds: false))
            .replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
        let suffix = (0..<6).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined()
        return "\(stamp)-\(suffix)"
    }
}
