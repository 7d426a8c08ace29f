import DevRevAPI
import Foundation
import LuaRuntime

/// `runbook apply PLAN`: sends exactly the changes of a plan, without running the script again,
/// skipping (and reporting) every incident modified since it was planned.
public enum PlanApplying {
    /// `options.scriptPath` is the plan file; connection, lock and journal options apply as for `run`.
    public static func apply(_ options: RunOptions, output: RunnerOutput = .process) async -> ExitStatus {
        let runID = ScriptRunner.makeRunID()
        var report = RunReport(runID: runID, scriptPath: "", arguments: [:], mode: "apply")
        report.planFile = options.scriptPath
        let finish = { (status: ExitStatus, error: String?) -> ExitStatus in
            options.outputJSON ? report.deliver(status: status, error: error, output: output) : status
        }
        // With --output json, standard output is the report's alone.
        let reportOnStandardOutput = options.outputJSON
        let say: @Sendable (String) -> Void = { line in
            if reportOnStandardOutput { output.standardError(line + "\n") } else { output.write(line + "\n") }
        }
        let fail = { (message: String, status: ExitStatus) -> ExitStatus in
            output.standardError("runbook: \(message)\n")
            return finish(status, message)
        }
        let plan: PlanFile
        do {
            plan = try PlanFile.read(options.scriptPath)
        } catch let error as PlanError {
            return fail(error.description, .dataError)
        } catch {
            return fail("cannot read the plan \(options.scriptPath): \(error.localizedDescription)", .usage)
        }
        report.scriptPath = plan.script
        report.scriptSHA256 = plan.scriptSHA256
        report.arguments = plan.arguments
        report.plan = plan.changes
        let session: RunSession
        do throws(RunSession.Failure) {
            let log = RunLog(runID: runID, script: plan.script, threshold: options.logLevel, json: options.outputJSON, write: output.standardError)
            session = try await RunSession.open(options, lockScript: plan.script, log: log)
        } catch {
            return fail(error.description, error.status)
        }
        report.target = session.target
        if let planned = plan.target, let mismatch = planned.mismatch(applyingTo: session.target), !options.allowOtherTarget {
            await session.close()
            return fail("\(options.scriptPath): \(mismatch); nothing was sent (pass --allow-other-target to apply it there anyway)", .dataError)
        }
        // The connection blocks its thread on each call: a VM thread, as for a script.
        let (status, outcome, calls, message) = await LuaThread.run { () -> (ExitStatus, PlanApplier.Outcome?, [DevRevConnection.CallRecord], String?) in
            let journal: AuditJournal
            do throws(RunSession.Failure) {
                journal = try session.openJournal(options, facts: .init(
                    runID: runID, user: AuditJournal.currentUser(), host: AuditJournal.hostName(),
                    script: plan.script, scriptSHA256: plan.scriptSHA256, arguments: plan.arguments), output: output)
            } catch {
                output.standardError("runbook: \(error)\n")
                return (error.status, nil, [], error.description)
            }
            let connection = DevRevConnection(settings: session.connection, deadline: nil, journal: journal)
            defer { connection.shutdown() }
            let outcome = PlanApplier.apply(plan.changes, connection: connection, say: say)
            journal.flush()
            say(outcome.summary)
            var message: String?
            if let failure = outcome.failure {
                message = "\(failure.description); \(outcome.summary)"
                output.standardError("runbook: \(failure)\n")
            } else if outcome.status != .success {
                message = outcome.summary
            }
            return (outcome.status, outcome, connection.calls, message)
        }
        await session.close()
        report.applied = outcome
        report.calls = calls
        return finish(status, message)
    }
}
