import DevRevAPI
import Foundation

/// `runbook doctor`: is this machine ready to run runbooks unattended? The token is present and
/// not near expiry, DevRev answers, and the lock and journal directories are writable.
public enum Doctor {
    /// A token expiring within this is reported as a warning.
    static let expiryWarning: TimeInterval = 7 * 86_400

    enum Level: String { case ok, warn, fail }

    struct Check {
        var level: Level
        var name: String
        var detail: String

        var json: JSONValue { .object(["level": .string(level.rawValue), "name": .string(name), "detail": .string(detail)]) }
    }

    /// Runs every check, prints one line each, and returns the first failure's exit status.
    public static func run(_ options: RunOptions, output: RunnerOutput = .process, now: Date = Date()) async -> ExitStatus {
        var checks: [Check] = []
        var status = ExitStatus.success
        func record(_ check: Check, failing: ExitStatus? = nil) {
            checks.append(check)
            if !options.outputJSON {
                output.write("\(check.level.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0))\(check.name): \(check.detail)\n")
            }
            if check.level == .fail, let failing, status == .success { status = failing }
        }

        var settings: DevRevConnection.Settings?
        do throws(RunSession.Failure) {
            let log = RunLog(runID: ScriptRunner.makeRunID(), script: "doctor", threshold: options.logLevel, json: options.outputJSON,
                             write: output.standardError)
            settings = try await RunSession.connect(options, log: log).0
        } catch {
            record(Check(level: .fail, name: "configuration", detail: error.description), failing: error.status)
        }

        if let settings {
            if let token = settings.token {
                var tokenLine = tokenCheck(token, now: now)
                tokenLine.detail = "from \(options.tokenFile.map { "--token-file \($0)" } ?? "DEVREV_TOKEN"); " + tokenLine.detail
                record(tokenLine, failing: .configuration)
                let (apiLine, failing) = await reachability(settings)
                record(apiLine, failing: failing)
            } else {
                record(Check(level: .fail, name: "token", detail: "no DevRev token: set DEVREV_TOKEN or pass --token-file"), failing: .configuration)
            }
        }
        record(writable(directory: RunLock.directory(), name: "lock directory"), failing: .configuration)
        let journal = options.auditLog ?? AuditJournal.defaultPath()
        record(writable(directory: (journal as NSString).deletingLastPathComponent, name: "journal directory"), failing: .configuration)
        guard options.outputJSON else { return status }
        var report: [String: JSONValue] = [
            "version": .string(RunbookVersion.number), "checks": .array(checks.map(\.json)),
            "outcome": .string(status == .success ? "success" : "error"), "exit_code": .integer(Int64(status.rawValue)),
        ]
        if let settings { report["target"] = RunTarget(settings: settings, sandbox: options.sandbox).json }
        let text = ((try? String(decoding: JSONWriter.bytes(.object(report)), as: UTF8.self)) ?? "{}") + "\n"
        guard output.report(text) else {
            output.standardError("runbook: cannot write the report to standard output: \(String(cString: strerror(errno)))\n")
            return .outputError
        }
        return status
    }

    /// PATs are JWTs with an `exp` claim; other tokens cannot be checked for expiry.
    static func tokenCheck(_ token: DevRevToken, now: Date) -> Check {
        guard let expiry = TokenClaims(token: token.value)?.expiry else {
            return Check(level: .ok, name: "token", detail: "present (not a JWT with an expiry: cannot tell when it expires)")
        }
        let day = expiry.formatted(Date.ISO8601FormatStyle().year().month().day())
        let left = expiry.timeIntervalSince(now)
        if left <= 0 {
            return Check(level: .fail, name: "token", detail: "expired on \(day); create a new personal access token")
        }
        let days = Int(left / 86_400)
        if left < expiryWarning {
            return Check(level: .warn, name: "token", detail: "expires in \(days) day\(days == 1 ? "" : "s") (\(day)); replace it before then")
        }
        return Check(level: .ok, name: "token", detail: "expires in \(days) days (\(day))")
    }

    /// One cheap read; on failure, the exit status its error class has.
    private static func reachability(_ settings: DevRevConnection.Settings) async -> (Check, ExitStatus) {
        let client: DevRevClient
        do throws(ScriptFailure) {
            client = try settings.makeClient()
        } catch {
            return (Check(level: .fail, name: "api", detail: "\(settings.baseURL): \(error)"), error.exitStatus)
        }
        let exchange = JournaledExchange(client: client, journal: nil, deadline: ContinuousClock.now + .seconds(20))
        let outcome = await exchange.run(.listIncidents, bytes: Array(#"{"limit":1}"#.utf8), incident: nil)
        try? await client.shutdown()
        switch outcome.result {
        case .success:
            let detail = "\(settings.baseURL) answers incidents.list in \(outcome.record.durationMilliseconds) ms"
            return (Check(level: .ok, name: "api", detail: detail), .success)
        case .failure(let error):
            let status = error.exitStatus == .scriptError ? ExitStatus.unavailable : error.exitStatus
            return (Check(level: .fail, name: "api", detail: "\(settings.baseURL): \(error)"), status)
        }
    }

    private static func writable(directory: String, name: String) -> Check {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            return Check(level: .fail, name: name, detail: "cannot create \(directory)")
        }
        let probe = directory + "/.runbook-doctor-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data("ok".utf8)) else {
            return Check(level: .fail, name: name, detail: "\(directory) is not writable")
        }
        try? FileManager.default.removeItem(atPath: probe)
        return Check(level: .ok, name: name, detail: "\(directory) is writable")
    }
}
