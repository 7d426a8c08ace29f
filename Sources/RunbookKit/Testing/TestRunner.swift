import DevRevAPI
import Foundation
import LuaRuntime
import Synchronization

/// What `runbook test` was asked to do.
public struct TestRunOptions: Sendable {
    public var paths: [String]
    /// A regular expression a case's full name (`describe > it`) must match.
    public var filter: String?
    public var junitPath: String?
    public var output: OutputFormat = .text
    /// `--update`: golden plans are written instead of compared.
    public var update = false
    /// Each case's limit, its runs included.
    public var timeout: Duration = .seconds(30)
    /// Cases run at once.
    public var jobs: Int

    public init(paths: [String], filter: String? = nil, junitPath: String? = nil, jobs: Int? = nil) {
        self.paths = paths.isEmpty ? ["."] : paths
        self.filter = filter
        self.junitPath = junitPath
        self.jobs = max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}

/// How one case ended.
public struct TestCaseResult: Sendable {
    public enum Status: String, Sendable {
        case passed, failed, skipped
    }

    public var file: String
    public var name: String
    public var line: Int
    public var status: Status
    public var message: String?
    /// `file:line` of the failure.
    public var location: String?
    public var duration: Duration
    /// What the test file printed.
    public var output: String
    public var goldenWritten: [String]
}

/// One test file: its cases, or why it did not load.
public struct TestFileResult: Sendable {
    public var path: String
    public var loadFailure: String?
    public var cases: [TestCaseResult]
}

/// `runbook test`: finds `*_test.lua` files, runs every case in a VM and a sandbox of its own
/// (several at once, reported in file order), and exits 0 when all pass, 1 when one fails, 65
/// when a test file does not load.
public enum TestRunner {
    public static func run(_ options: TestRunOptions, output: RunnerOutput = .process) async -> ExitStatus {
        let started = ContinuousClock.now
        let files: [String]
        do throws(TestDiscovery.Failure) {
            files = try TestDiscovery.files(in: options.paths)
        } catch {
            output.standardError("runbook test: \(error)\n")
            return .usage
        }
        var filter: Regex<AnyRegexOutput>?
        if let pattern = options.filter {
            do {
                filter = try Regex(pattern)
            } catch {
                output.standardError("runbook test: --filter '\(pattern)' is not a regular expression: \(error)\n")
                return .usage
            }
        }
        let settings = TestFile.Settings(timeout: options.timeout, updateGolden: options.update)

        // Each file's cases, listed in a VM of its own.
        let listings = await boundedMap(files, width: options.jobs) { path in
            await LuaThread.run { () -> Result<(TestFile, [TestFile.Listed]), TestFile.Failure> in
                do throws(TestFile.Failure) {
                    let file = try TestFile(path: path)
                    return .success((file, try file.list(settings: settings)))
                } catch {
                    return .failure(error)
                }
            }
        }

        var fileResults: [TestFileResult] = []
        var work: [(file: TestFile, index: Int, listed: TestFile.Listed, slot: (Int, Int))] = []
        for (fileIndex, listing) in listings.enumerated() {
            switch listing {
            case .failure(let failure):
                let message = [failure.location, failure.message].compactMap { $0 }.joined(separator: ": ")
                fileResults.append(TestFileResult(path: files[fileIndex], loadFailure: message, cases: []))
            case .success(let (file, cases)):
                var result = TestFileResult(path: file.path, cases: [])
                for (caseIndex, listed) in cases.enumerated() {
                    if let filter, (try? filter.firstMatch(in: listed.name)) == nil { continue }
                    result.cases.append(TestCaseResult(
                        file: file.path, name: listed.name, line: listed.line, status: .skipped, duration: .zero, output: "", goldenWritten: []))
                    work.append((file, caseIndex + 1, listed, (fileIndex, result.cases.count - 1)))
                }
                fileResults.append(result)
            }
        }

        if let pattern = options.filter, work.isEmpty {
            output.standardError("runbook test: no case's name matches --filter '\(pattern)' (a case's name is 'describe > it')\n")
            return .usage
        }
        let reporter = ProgressReporter(files: fileResults, text: options.output == .text, output: output)
        var final = fileResults
        let outcomes = await boundedMap(work, width: options.jobs) { item in
            await runCase(item.file, index: item.index, listed: item.listed, settings: settings)
        } finished: { index, result in
            reporter.finished(result, at: work[index].slot)
        }
        for (item, result) in zip(work, outcomes) { final[item.slot.0].cases[item.slot.1] = result }
        reporter.flushAll()

        let elapsed = ContinuousClock.now - started
        let summary = TestSummary(files: final, duration: elapsed)
        var status: ExitStatus = summary.loadFailures > 0 ? .dataError : summary.failed > 0 ? .scriptError : .success
        if let path = options.junitPath {
            do {
                try Data(TestReports.junit(final, duration: elapsed).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                output.standardError("runbook test: cannot write the JUnit report \(path): \(error.localizedDescription)\n")
                status = .outputError
            }
        }
        switch options.output {
        case .text:
            output.write(summary.line + "\n")
            for path in summary.goldenWritten { output.write("golden plan written: \(path)\n") }
        case .json:
            output.write(TestReports.json(final, summary: summary) + "\n")
        }
        return status
    }

    /// `transform` of every item, at most `width` at once; the results in the items' order.
    /// `finished` hears of each as it ends.
    static func boundedMap<Item: Sendable, Output: Sendable>(
        _ items: [Item], width: Int, _ transform: @escaping @Sendable (Item) async -> Output,
        finished: (Int, Output) -> Void = { _, _ in }
    ) async -> [Output] {
        await withTaskGroup(of: (Int, Output).self) { group in
            var results = [Output?](repeating: nil, count: items.count)
            var next = 0
            func start() {
                guard next < items.count else { return }
                let (index, item) = (next, items[next])
                next += 1
                group.addTask { (index, await transform(item)) }
            }
            for _ in 0..<min(max(1, width), items.count) { start() }
            while let (index, output) = await group.next() {
                results[index] = output
                finished(index, output)
                start()
            }
            return results.compactMap { $0 }
        }
    }

    private static func runCase(_ file: TestFile, index: Int, listed: TestFile.Listed, settings: TestFile.Settings) async -> TestCaseResult {
        var result = TestCaseResult(file: file.path, name: listed.name, line: listed.line, status: .skipped, duration: .zero, output: "",
                                    goldenWritten: [])
        guard !listed.pending else { return result }
        let started = ContinuousClock.now
        let outcome = await LuaThread.run { file.run(case: index, named: listed.name, settings: settings) }
        result.duration = ContinuousClock.now - started
        result.status = outcome.failure == nil ? .passed : .failed
        result.message = outcome.failure?.message
        result.location = outcome.failure.map { $0.location ?? "\(file.path):\(listed.line)" }
        result.output = outcome.output
        result.goldenWritten = outcome.goldenWritten
        return result
    }
}

/// Prints each case's line as soon as every case before it has finished, so the output is in
/// file order whatever order the cases finish in.
final class ProgressReporter: Sendable {
    private let state: Mutex<(slots: [(Int, Int)], done: [Int: TestCaseResult], printed: Int, loadFailures: [Int: TestFileResult])>
    private let text: Bool
    private let output: RunnerOutput

    init(files: [TestFileResult], text: Bool, output: RunnerOutput) {
        var slots: [(Int, Int)] = []
        var failures: [Int: TestFileResult] = [:]
        for (fileIndex, file) in files.enumerated() {
            if file.loadFailure != nil {
                failures[slots.count] = file
                slots.append((fileIndex, -1))
            }
            for caseIndex in file.cases.indices { slots.append((fileIndex, caseIndex)) }
        }
        state = Mutex((slots, [:], 0, failures))
        self.text = text
        self.output = output
    }

    func finished(_ result: TestCaseResult, at slot: (Int, Int)) {
        state.withLock { state in
            if let position = state.slots.firstIndex(where: { $0 == slot }) { state.done[position] = result }
        }
        flush()
    }

    func flushAll() { flush() }

    private func flush() {
        guard text else { return }
        let lines = state.withLock { state -> String in
            var lines = ""
            while state.printed < state.slots.count {
                if let failure = state.loadFailures[state.printed] {
                    lines += "ERROR \(failure.path)\n" + TestReports.indented(failure.loadFailure ?? "") + "\n"
                } else if let result = state.done[state.printed] {
                    lines += TestReports.line(result)
                } else {
                    break
                }
                state.printed += 1
            }
            return lines
        }
        if !lines.isEmpty { output.write(lines) }
    }
}

/// The counts of a test run.
struct TestSummary {
    var passed = 0
    var failed = 0
    var skipped = 0
    var loadFailures = 0
    var files = 0
    var duration: Duration
    var goldenWritten: [String] = []

    init(files results: [TestFileResult], duration: Duration) {
        self.duration = duration
        files = results.count
        for file in results {
            if file.loadFailure != nil { loadFailures += 1 }
            for result in file.cases {
                switch result.status {
                case .passed: passed += 1
                case .failed: failed += 1
                case .skipped: skipped += 1
                }
                goldenWritten += result.goldenWritten.map { TestDiscovery.join(LuaRuntime.directory(of: result.file), $0) }
            }
        }
    }

    var line: String {
        var parts = ["\(passed) passed", "\(failed) failed"]
        if skipped > 0 { parts.append("\(skipped) pending") }
        if loadFailures > 0 { parts.append("\(loadFailures) file\(loadFailures == 1 ? "" : "s") did not load") }
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return parts.joined(separator: ", ") + " (\(files) file\(files == 1 ? "" : "s"), \(String(format: "%.2f", seconds))s)"
    }
}
