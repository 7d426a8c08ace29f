import ArgumentParser
import DevRevSandbox
import RunbookKit

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Serve a local DevRev-compatible incidents API on 127.0.0.1.",
        discussion: """
            Prints its base URL on the first line of standard output, then DEVREV_TOKEN=... when it
            generated the token. Point a run at it with --base-url (or DEVREV_BASE_URL) and the token.
            Serves the demo tenant unless --seed names a file; keeps data in memory unless --db names one.
            Runs until SIGINT or SIGTERM, then closes the database and exits 0.
            """
    )

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port: Int = 0

    @Option(name: .customLong("db"), help: ArgumentHelp("SQLite file that keeps the data across restarts.", valueName: "PATH"))
    var database: String?

    @Option(help: ArgumentHelp("JSON file with a tenant and its incidents (see docs/sandbox.md).", valueName: "FILE"))
    var seed: String?

    @Option(help: ArgumentHelp("The bearer token to accept (else DEVREV_TOKEN, else a generated one).", valueName: "T"))
    var token: String?

    @Option(name: .customLong("rate-limit"), help: ArgumentHelp("Requests allowed per window before 429.", valueName: "N"))
    var rateLimit: Int = 100_000

    @Option(name: .customLong("rate-window"), help: ArgumentHelp("Length of the rate-limit window.", valueName: "DURATION"))
    var rateWindow = DurationValue(.seconds(300))

    @Option(name: .customLong("fault-rate"), help: ArgumentHelp("Share of requests (0 to 1) that get a fault.", valueName: "R"))
    var faultRate: Double = 0

    @Option(help: ArgumentHelp("Faults to choose from, comma-separated: 500, 503, 429, drop, lost, malformed, off-schema.", valueName: "LIST"))
    var faults: String = "500,503,drop,malformed"

    @Option(name: .customLong("fault-operations"), help: ArgumentHelp("Only these operations get faults, comma-separated (e.g. timeline-entries.create).", valueName: "LIST"))
    var faultOperations: String?

    @Option(name: .customLong("fault-limit"), help: ArgumentHelp("At most N faults in all.", valueName: "N"))
    var faultLimit: Int?

    @Option(help: ArgumentHelp("Latency added to every answer, e.g. 20ms.", valueName: "DURATION"))
    var latency = DurationOrZeroValue(.zero)

    @Option(name: .customLong("fault-seed"), help: ArgumentHelp("Seed of the fault sequence, for reproducible runs.", valueName: "N"))
    var faultSeed: UInt64 = 1

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (0...1).contains(faultRate) else { throw ValidationError("--fault-rate must be between 0 and 1") }
        guard rateLimit >= 1 else { throw ValidationError("--rate-limit must be at least 1") }
        guard (faultLimit ?? 0) >= 0 else { throw ValidationError("--fault-limit must be at least 0") }
        _ = try faultKinds()
    }

    private func faultKinds() throws -> [SandboxConfiguration.Faults.Kind] {
        try faults.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { name in
            guard let kind = SandboxConfiguration.Faults.Kind(rawValue: name) else {
                throw ValidationError("--faults: unknown fault '\(name)'; use 500, 503, 429, drop, lost, malformed, off-schema")
            }
            return kind
        }
    }

    func run() async throws {
        var options = SandboxServeOptions()
        options.port = port
        options.databasePath = database
        options.seedPath = seed
        options.token = token
        options.rateLimit = SandboxConfiguration.RateLimit(quota: rateLimit, window: rateWindow.duration)
        let operations = faultOperations.map { list in
            Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        options.faults = SandboxConfiguration.Faults(
            rate: faultRate, kinds: try faultKinds(), latency: latency.duration, seed: faultSeed, operations: operations, limit: faultLimit)
        let status = await SandboxServing.serve(options)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
