import DevRevAPI
import DevRevSandbox
import Foundation
import LuaRuntime
import Synchronization

/// One case's world: its fixture, its sandbox (started at the first run or read), its clock, its
/// directory (the journal of its runs), and the runs it made. Lives on the case's VM thread.
final class TestCaseContext {
    let testFile: String
    let directory: String
    let workDirectory: String
    let deadline: ContinuousClock.Instant
    let updateGolden: Bool
    private(set) var fixture = TestFixture()
    private var sandbox: Sandbox?
    private let clock = CaseClock()
    private let token = SandboxConfiguration.generateToken()
    /// Each run's report, by its number in `result.run`.
    private(set) var runs: [RunReport] = []
    /// Golden plans `--update` wrote.
    private(set) var goldenWritten: [String] = []
    /// While the file itself runs (declaring its cases), nothing may start a sandbox.
    var collecting = true

    typealias Problem = TestFixture.Problem

    init(testFile: String, workDirectory: String, deadline: ContinuousClock.Instant, updateGolden: Bool) {
        self.testFile = testFile
        directory = LuaRuntime.directory(of: testFile)
        self.workDirectory = workDirectory
        self.deadline = deadline
        self.updateGolden = updateGolden
    }

    var journalPath: String { workDirectory + "/audit.jsonl" }

    /// Stops the sandbox; the case is over.
    func close() {
        guard let sandbox else { return }
        BlockingBridge.wait { await sandbox.stop() }
        self.sandbox = nil
    }

    // MARK: fixtures and the sandbox

    /// Refuses fixtures and runs outside a case: the file's own code runs once per case.
    func checkInCase(_ name: String) throws(Problem) {
        if collecting { throw Problem("\(name): call it inside a case (it) or a hook (before_each), not at the top of the file") }
    }

    func given(_ value: LuaValue) throws(Problem) {
        try checkInCase("given")
        guard sandbox == nil else {
            throw Problem("given: the case's sandbox is already serving (a run or a read started it); call given before them")
        }
        try fixture.add(value, directory: directory)
        clock.set(fixture.now)
    }

    /// The sandbox, started with the fixture on its first use.
    func startedSandbox() throws(Problem) -> Sandbox {
        if let sandbox { return sandbox }
        try checkInCase("sandbox")
        clock.set(fixture.now)
        let configuration = SandboxConfiguration(
            seed: fixture.tenant, token: token, rateLimit: fixture.rateLimit, clock: clock.date)
        let started = BlockingBridge.wait { () async -> Result<Sandbox, SandboxSetupError> in
            do throws(SandboxSetupError) {
                return .success(try await Sandbox.start(configuration))
            } catch {
                return .failure(error)
            }
        }
        switch started {
        case .success(let sandbox):
            self.sandbox = sandbox
            return sandbox
        case .failure(let error):
            throw Problem("the case's sandbox did not start: \(error)")
        }
    }

    var now: Int64 { clock.seconds }

    // MARK: running the script under test

    /// The script a test file tests when a run names none: `NAME.lua` beside `NAME_test.lua`, or
    /// one directory up from a `tests/` folder.
    func defaultScript() throws(Problem) -> String {
        let file = testFile.split(separator: "/").last.map(String.init) ?? testFile
        guard file.hasSuffix("_test.lua") else { throw Problem("run: name the script under test: run{ script = \"NAME.lua\" }") }
        let name = String(file.dropLast("_test.lua".count)) + ".lua"
        var candidates = [TestDiscovery.join(directory, name)]
        if directory == "tests" || directory.hasSuffix("/tests") {
            candidates.append(TestDiscovery.join(LuaRuntime.directory(of: directory), name))
        }
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw Problem("run: no script \(candidates.joined(separator: " or ")) for \(testFile); name it: run{ script = \"NAME.lua\" }")
    }

    func run(_ first: LuaValue, _ second: LuaValue) throws(Problem) -> LuaValue {
        try checkInCase("run")
        let request = try ScriptUnderTest(first, second, defaultScript: defaultScript, directory: directory, caseNow: clock.seconds)
        let sandbox = try startedSandbox()
        if let now = request.now { clock.set(now) }
        let remaining = deadline - ContinuousClock.now - .milliseconds(200)
        guard remaining > .zero else { throw Problem("run: the case has no time left for a run (see --timeout)") }
        let timeout = min(request.timeout ?? remaining, remaining)
        sandbox.reconfigure(
            rateLimit: request.rateLimit ?? fixture.rateLimit,
            faults: SandboxConfiguration.Faults(latency: request.latency, rules: request.rules))
        let mark = sandbox.changeCount
        let capture = RunCapture()
        let options = request.runOptions(endpoint: .init(baseURL: sandbox.baseURL, token: token), journal: journalPath,
                                         now: clock.seconds, timeout: timeout)
        let execution = BlockingBridge.wait { await ScriptRunner.execute(options, output: capture.output) }
        sandbox.reconfigure(rateLimit: fixture.rateLimit, faults: SandboxConfiguration.Faults())
        runs.append(execution.report)
        let report = execution.report
        let made = sandbox.changes(from: mark)
        let dryRun = report.mode == "dry_run"
        var result: [String: JSONValue] = [
            "run": .integer(Int64(runs.count)),
            "run_id": .string(report.runID),
            "mode": .string(report.mode),
            "exit_code": .integer(Int64(execution.status.rawValue)),
            "ok": .bool(execution.status == .success),
            "stdout": .string(capture.standardOutput),
            "stderr": .string(capture.standardError),
            "logs": .array(capture.logs.map(Self.logRecord)),
            "changes": .array(dryRun ? ChangeRecords.planned(report.plan ?? []) : ChangeRecords.made(made)),
            "comments": .array(dryRun ? ChangeRecords.plannedComments(report.plan ?? []) : ChangeRecords.comments(made)),
            "claims": .array(dryRun ? ChangeRecords.plannedClaims(report.plan ?? []) : ChangeRecords.claims(made)),
            "claimed_elsewhere": Self.json(report.claimedElsewhere ?? []),
            "calls": Self.json(report.calls),
            "journal": .array(journalRecords(runID: report.runID)),
        ]
        if let error = report.error { result["error"] = .string(error) }
        if let type = report.errorType { result["error_type"] = .string(type) }
        if let plan = report.plan { result["plan"] = Self.json(plan) }
        if let unchanged = report.unchanged { result["unchanged"] = .array(unchanged.map { .string($0) }) }
        return LuaJSON.lua(from: Self.withoutNulls(.object(result)))
    }

    private static func logRecord(_ record: RunLog.Record) -> JSONValue {
        var fields: [String: JSONValue] = ["level": .string(record.level.rawValue), "message": .string(record.message)]
        if !record.fields.isEmpty { fields["fields"] = .object(record.fields) }
        if let source = record.source { fields["source"] = .string(source) }
        return .object(fields)
    }

    /// This run's records of the case's journal, in order.
    private func journalRecords(runID: String) -> [JSONValue] {
        guard let data = FileManager.default.contents(atPath: journalPath) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let record = try? JSONParser().parse(Array(line)), case .object(let fields) = record,
                  fields["run_id"] == .string(runID) else { return nil }
            return record
        }
    }

    static func json(_ value: some Encodable) -> JSONValue {
        guard let bytes = try? JSONWriter.encode(value), let parsed = try? JSONParser().parse(bytes) else { return .array([]) }
        return parsed
    }

    /// JSON nulls left out: in a test, a field that is absent reads as nil.
    static func withoutNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let fields): .object(fields.compactMapValues { $0 == .null ? nil : withoutNulls($0) })
        case .array(let items): .array(items.map(withoutNulls))
        default: value
        }
    }

    // MARK: reading the sandbox

    func incident(_ reference: String) throws(Problem) -> LuaValue {
        guard let incident = try startedSandbox().incident(reference) else { return .nil }
        return LuaJSON.lua(from: Self.withoutNulls(Self.json(incident)))
    }

    func incidents() throws(Problem) -> LuaValue {
        .array(try startedSandbox().incidents().map { LuaJSON.lua(from: Self.withoutNulls(Self.json($0))) })
    }

    func comments(_ reference: String) throws(Problem) -> LuaValue {
        .array(try startedSandbox().comments(on: reference).filter { entry in
            guard case .object(let fields) = entry else { return true }
            return !IncidentClaims.isClaim(fields)
        }.map { LuaJSON.lua(from: Self.withoutNulls($0)) })
    }

    /// A date as the sandbox stores it, from an offset (`+2d`), RFC 3339 or Unix seconds, at the case's clock.
    func date(_ value: LuaValue) throws(Problem) -> String {
        guard let json = try? LuaJSON.json(from: value) else { throw Problem("sandbox.date: expected a time") }
        let seconds = try TestFixture.unixSeconds(json, relativeTo: clock.seconds, place: "sandbox.date")
        return RFC3339.format(Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    // MARK: golden plans

    func golden(run number: Int64, path: String) -> String? {
        guard number >= 1, number <= runs.count else { return "assert.plan: the first argument is what run returned" }
        let problem = GoldenPlan.check(runs[Int(number) - 1], path: path, directory: directory, update: updateGolden, now: clock.seconds)
        if updateGolden, problem == nil { goldenWritten.append(path) }
        return problem
    }
}

/// The frozen clock of a case, read by its sandbox from other threads.
final class CaseClock: Sendable {
    private let value = Mutex<Int64>(TestFixture.defaultNow)

    var seconds: Int64 { value.withLock { $0 } }

    func set(_ seconds: Int64) { value.withLock { $0 = seconds } }

    var date: @Sendable () -> Date { { Date(timeIntervalSince1970: TimeInterval(self.seconds)) } }
}
