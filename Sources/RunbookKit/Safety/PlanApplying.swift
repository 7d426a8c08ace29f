import DevRevAPI
import Foundation
import LuaRuntime

/// `runbook apply PLAN`: sends exactly the changes of a plan, without running the script again,
/// skipping (and reporting) every incident modified since it was planned.
public enum PlanApplying {
    /// `options.scriptPath` is the plan file; connection, lock and journal options apply as for `run`.
    public static func apply(_ options: RunOptions, output: RunnerOutput = .process) async -> ExitStatus {
        let plan: PlanFile
        do {
            plan = try PlanFile.read(options.scriptPath)
        } catch let error as PlanError {
            output.standardError("runbook: \(error)\n")
            return .dataError
        } catch {
            output.standardError("runbook: cannot read the plan \(options.scriptPath): \(error.localizedDescription)\n")
            return .usage
        }
        let session: RunSession
        do throws(RunSession.Failure) {
            session = try await RunSession.open(options, lockScript: plan.script)
        } catch {
            output.standardError("runbook: \(error)\n")
            return error.status
        }
        // The connection blocks its thread on each call: a VM thread, as for a script.
        let status = await LuaThread.run { () -> ExitStatus in
            let journal: AuditJournal
            do throws(RunSession.Failure) {
                journal = try session.openJournal(options, facts: .init(
                    runID: ScriptRunner.makeRunID(), user: AuditJournal.currentUser(), host: AuditJournal.hostName(),
                    script: plan.script, scriptSHA256: plan.scriptSHA256, arguments: plan.arguments), output: output)
            } catch {
                output.standardError("runbook: \(error)\n")
                return error.status
            }
            let connection = DevRevConnection(settings: session.connection, deadline: nil, journal: journal)
            defer { connection.shutdown() }
            do throws(ScriptFailure) {
                let outcome = try PlanApplier.apply(plan.changes, connection: connection) { output.write($0 + "\n") }
                output.write("applied \(outcome.applied.count) of \(plan.changes.count) planned changes, skipped \(outcome.skipped.count)\n")
                return .success
            } catch {
                output.standardError("runbook: \(error)\n")
                return error.exitStatus
            }
        }
        await session.close()
        return status
    }
}
