import DevRevAPI
import DevRevSandbox
import Foundation

/// Runs the built `runbook` executable, as an operator would.
struct RunbookBinary {
    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
        var elapsed: Duration
    }

    /// The executable beside the test bundle (SwiftPM builds both into the same directory),
    /// or the path in RUNBOOK_BINARY.
    static var path: String {
        if let path = ProcessInfo.processInfo.environment["RUNBOOK_BINARY"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("runbook").path
    }

    /// The repository root, for the examples.
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs the binary and waits for it on a thread of its own, so the test's cooperative-pool
    /// thread is never blocked.
    /// `input`: what the binary reads on standard input (nothing by default). `executable`: run
    /// this instead (a shell that sets limits, then execs the binary).
    static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil, input: String? = nil, executable: String? = nil
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result {
                    try runAndWait(arguments, environment: environment, directory: directory, input: input, executable: executable)
                })
            }
        }
    }

    /// Runs the binary in `directory` against `sandbox` (`--base-url` added) with its token; the
    /// journal goes under `state` when given.
    static func run(_ arguments: [String], against sandbox: Sandbox, token: String, directory: ScriptDirectory, state: ScriptDirectory? = nil)
        async throws -> Result
    {
        var environment = ["DEVREV_TOKEN": token]
        if let state { environment["XDG_STATE_HOME"] = state.url.path }
        return try await run(arguments + ["--base-url", sandbox.baseURL], environment: environment, directory: directory.url)
    }

    private static func runAndWait(
        _ arguments: [String], environment: [String: String], directory: URL?, input: String?, executable: String?
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? path)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "DEVREV_TOKEN")
        merged.removeValue(forKey: "RUNBOOK_PATH")
        // Each run gets its own lock and journal directories unless the test names them, so
        // tests running the same example side by side do not contend for its lock.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("runbook-state-\(UUID().uuidString)").path
        merged["XDG_RUNTIME_DIR"] = scratch + "/run"
        merged["XDG_STATE_HOME"] = scratch + "/state"
        try? FileManager.default.createDirectory(atPath: scratch + "/run", withIntermediateDirectories: true)
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.currentDirectoryURL = directory ?? repository
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let inputPipe = input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        if let inputPipe, let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try inputPipe.fileHandleForWriting.close()
        }
        // Read both pipes while the process runs so neither can fill up and block it, each on a
        // thread of its own: a dispatch worker blocked for a whole run would be taken from the
        // pool that resumes every test's tasks, and tests polling for a child's progress (the
        // signal tests) would then notice it seconds late.
        let outputData = LockedData()
        let errorData = LockedData()
        let group = DispatchGroup()
        for (pipe, sink) in [(output, outputData), (error, errorData)] {
            group.enter()
            Thread.detachNewThread {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        process.waitUntilExit()
        group.wait()
        return Result(
            status: process.terminationStatus,
            standardOutput: String(decoding: outputData.get(), as: UTF8.self),
            standardError: String(decoding: errorData.get(), as: UTF8.self),
            elapsed: clock.now - start
        )
    }
}

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}

/// A temporary directory with scripts in it, removed when the value goes away.
final class ScriptDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("runbook-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ name: String, _ source: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try source.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }
}

/// Runs blocking work (waiting for a process, reading a pipe) on a thread of its own, so the
/// tests' cooperative-pool threads are never blocked: on two cores that would stall every test.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}

/// Starts an in-process sandbox and a client with its token; stops both afterwards.
func withTestSandbox(
    _ configuration: SandboxConfiguration, _ body: (Sandbox, DevRevClient) async throws -> Void
) async throws {
    let sandbox = try await Sandbox.start(configuration)
    let client = DevRevClient(configuration: DevRevConfiguration(
        baseURL: try BaseURL(sandbox.baseURL), token: try DevRevToken(configuration.token), retry: .init(maxAttempts: 1)))
    do {
        try await body(sandbox, client)
    } catch {
        try? await client.shutdown()
        await sandbox.stop()
        throw error
    }
    try await client.shutdown()
    await sandbox.stop()
}
