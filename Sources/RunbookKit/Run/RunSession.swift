import DevRevAPI
import DevRevSandbox
import Foundation
import Logging
import Synchronization

/// What `run`, `plan` and `apply` share around the work itself: where DevRev is (an in-process
/// sandbox with `--sandbox`), the script's lock, the audit journal, and the exit status of each
/// way setting them up can fail. Opened before the work, closed after it, whatever happened.
final class RunSession: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let status: ExitStatus
        let description: String
    }

    let connection: DevRevConnection.Settings
    /// Where the changes go, as plans, journal records and reports name it.
    let target: RunTarget
    private let sandbox: Sandbox?
    private let lock: Mutex<RunLock?>

    private init(connection: DevRevConnection.Settings, sandbox: Sandbox?, lock: RunLock?, isSandbox: Bool) {
        self.connection = connection
        self.target = RunTarget(settings: connection, sandbox: isSandbox)
        self.sandbox = sandbox
        self.lock = Mutex(lock)
    }

    /// Resolves the connection (78 when it cannot be: a bad base URL, an unreadable token file),
    /// starting the sandbox when asked, then takes the lock of `lockScript` unless `--no-lock`
    /// (75 when another run holds it; 130 or 143 when a signal ends the wait).
    static func open(_ options: RunOptions, lockScript: String, log: RunLog) async throws(Failure) -> RunSession {
        let (settings, sandbox) = try await connect(options, log: log)
        let isSandbox = sandbox != nil || options.sandboxEndpoint != nil
        guard !options.noLock else { return RunSession(connection: settings, sandbox: sandbox, lock: nil, isSandbox: isSandbox) }
        do throws(RunLock.Failure) {
            let lock = try await RunLock.acquire(script: lockScript, wait: options.lockWait)
            return RunSession(connection: settings, sandbox: sandbox, lock: lock, isSandbox: isSandbox)
        } catch {
            await sandbox?.stop()
            if case .stopped(_, let status) = error { throw Failure(status: status, description: error.description) }
            throw Failure(status: .temporaryFailure, description: error.description)
        }
    }

    /// Where DevRev is for these options: `--sandbox` starts one in this process; else the base URL
    /// and token from the options and the environment. The token may be missing: the first call
    /// fails then, so a script that never calls DevRev needs none.
    static func connect(_ options: RunOptions, log: RunLog) async throws(Failure) -> (DevRevConnection.Settings, Sandbox?) {
        let logger = log.logger(label: "runbook.devrev", source: "devrev")
        do {
            if let endpoint = options.sandboxEndpoint {
                var settings = DevRevConnection.Settings(baseURL: try BaseURL(endpoint.baseURL), token: try DevRevToken(endpoint.token), logger: logger)
                settings.retry = RunOptions.SandboxEndpoint.retry
                return (settings, nil)
            }
            if options.sandbox {
                let token = SandboxConfiguration.generateToken()
                let sandbox = try await Sandbox.start(SandboxConfiguration(token: token))
                do {
                    return (.init(baseURL: try BaseURL(sandbox.baseURL), token: try DevRevToken(token), logger: logger), sandbox)
                } catch {
                    await sandbox.stop()
                    throw error
                }
            }
            let environment = ProcessInfo.processInfo.environment
            let baseURL = try BaseURL(
                options.baseURL ?? environment["DEVREV_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? DevRevConfiguration.defaultBaseURL)
            var token: DevRevToken?
            if let path = options.tokenFile {
                token = try DevRevToken.fromFile(path)
            } else if let value = environment["DEVREV_TOKEN"] {
                token = try DevRevToken(value)
            }
            return (.init(baseURL: baseURL, token: token, logger: logger), nil)
        } catch {
            throw Failure(status: .configuration, description: "\(error)")
        }
    }

    /// Opens the audit journal for the run these facts describe (78 when it cannot be written),
    /// saying on standard error when it had to repair a torn last record.
    func openJournal(_ options: RunOptions, facts: AuditJournal.RunFacts, output: RunnerOutput) throws(Failure) -> AuditJournal {
        let journal: AuditJournal
        do throws(AuditJournal.Failure) {
            journal = try AuditJournal(
                path: options.auditLog ?? AuditJournal.defaultPath(sandbox: target.sandbox), facts: facts, target: target,
                isDefault: options.auditLog == nil, maximumSize: options.journalMaximumSize)
        } catch {
            throw Failure(status: .configuration, description: error.description)
        }
        if journal.repairedTornTail {
            output.standardError(
                "runbook: the audit journal \(journal.path) ended in an unfinished record (a run stopped while writing it); "
                    + "it stays as it is and this run's records start on a new line\n")
        }
        return journal
    }

    /// Stops the sandbox it started and releases the lock.
    func close() async {
        await sandbox?.stop()
        lock.withLock { $0 = nil }
    }
}
