import DevRevAPI
import DevRevSandbox
import Foundation

/// What `runbook sandbox` was asked to serve.
public struct SandboxServeOptions: Sendable {
    public var port: Int = 0
    public var databasePath: String?
    public var seedPath: String?
    public var token: String?
    public var rateLimit = SandboxConfiguration.RateLimit()
    public var faults = SandboxConfiguration.Faults()

    public init() {}
}

/// `runbook sandbox`: serves a local DevRev-compatible incidents API until SIGINT or SIGTERM.
public enum SandboxServing {
    /// Starts the sandbox and prints its base URL as the first line of standard output (then
    /// `DEVREV_TOKEN=...` when it generated the token). Returns when a signal stops it.
    public static func serve(_ options: SandboxServeOptions, output: RunnerOutput = .process) async -> ExitStatus {
        SignalWatcher.install(stopAfterGrace: false)
        let configuration: SandboxConfiguration
        let generated: Bool
        do {
            (configuration, generated) = try makeConfiguration(options)
        } catch {
            output.standardError("runbook sandbox: \(error)\n")
            return .dataError
        }
        let sandbox: Sandbox
        do {
            sandbox = try await Sandbox.start(configuration)
        } catch {
            output.standardError("runbook sandbox: \(error)\n")
            if case .bind = error { return .unavailable }
            return .dataError
        }
        var lines = sandbox.baseURL + "\n"
        if generated { lines += "DEVREV_TOKEN=\(configuration.token)\n" }
        lines.withUTF8 { output.standardOutput(UnsafeRawBufferPointer($0)) }
        let tenant = configuration.seed.map { "the seed's \($0.incidents.count) incidents" } ?? "the demo tenant"
        let storage = configuration.databasePath.map { "database \($0)" } ?? "in memory"
        output.standardError("runbook sandbox: serving \(tenant) (\(storage)) on \(sandbox.baseURL); stop with Ctrl-C\n")

        _ = await SignalWatcher.nextSignal()
        await sandbox.stop()
        output.standardError("runbook sandbox: stopped\n")
        return .success
    }

    /// The tenant and incidents of a seed file (`--seed`, and `given{ seed = ... }` in tests).
    static func loadSeed(_ path: String) throws(SandboxSetupError) -> Tenant {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableSeed(path: path, reason: "\(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(Tenant.self, from: data)
        } catch {
            throw .invalidSeed("\(path): \(DecodingErrorText.describe(error))")
        }
    }

    static func makeConfiguration(_ options: SandboxServeOptions) throws -> (SandboxConfiguration, generated: Bool) {
        let seed = try options.seedPath.map { path throws(SandboxSetupError) in try loadSeed(path) }
        var token = options.token ?? ProcessInfo.processInfo.environment["DEVREV_TOKEN"]
        let generated = token == nil || token?.isEmpty == true
        if generated {
            token = SandboxConfiguration.generateToken()
        }
        return (
            SandboxConfiguration(port: options.port, databasePath: options.databasePath, seed: seed, token: token ?? "",
                                 rateLimit: options.rateLimit, faults: options.faults),
            generated
        )
    }
}
