import DevRevAPI
import Foundation

/// `assert.plan(result, "golden/NAME.plan.json")`: a run's plan against a committed plan file,
/// the format `runbook plan -o` writes. `runbook test --update` writes the file instead.
enum GoldenPlan {
    /// Nil when the plan matches (or was written); else why not.
    static func check(_ report: RunReport, path: String, directory: String, update: Bool, now: Int64) -> String? {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            return "assert.plan: '\(path)' must be a path inside the test file's directory (relative, without ..)"
        }
        guard let plan = report.plan else {
            return "assert.plan: the run made no plan; run it with dry_run = true (or max_changes)"
        }
        let file = TestDiscovery.join(directory, path)
        if update {
            return write(plan, of: report, to: file, now: now)
        }
        guard FileManager.default.fileExists(atPath: file) else {
            return "the golden plan \(file) does not exist; write it with: runbook test --update"
        }
        let golden: PlanFile
        do {
            golden = try PlanFile.read(file)
        } catch {
            return "the golden plan \(error)"
        }
        let expected = golden.changes.map(TestCaseContext.json)
        let actual = plan.map { placeholder(for: report.runID, in: TestCaseContext.json($0)) }
        guard expected != actual else { return nil }
        var message = "the plan differs from the golden plan \(file) (runbook test --update rewrites it)\n"
        message += "golden, \(golden.changes.count) change\(golden.changes.count == 1 ? "" : "s"):\n"
        message += golden.changes.map { "  " + $0.summary }.joined(separator: "\n")
        message += "\nplanned, \(plan.count) change\(plan.count == 1 ? "" : "s"):\n"
        message += plan.map { "  " + $0.summary }.joined(separator: "\n")
        if let difference = firstDifference(.array(expected), .array(actual), path: "changes") {
            message += "\nfirst difference: \(difference)"
        }
        return message
    }

    /// Stands for the run's id in a golden plan: the one thing two runs of a case differ in
    /// (a comment's `external_ref` holds it).
    static let runIDPlaceholder = "{run_id}"

    /// `value` with the run's id replaced by the placeholder wherever a string holds it.
    static func placeholder(for runID: String, in value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text.replacingOccurrences(of: runID, with: runIDPlaceholder))
        case .array(let items): .array(items.map { placeholder(for: runID, in: $0) })
        case .object(let fields): .object(fields.mapValues { placeholder(for: runID, in: $0) })
        default: value
        }
    }

    private static func write(_ plan: [PlannedChange], of report: RunReport, to file: String, now: Int64) -> String? {
        let changes: [PlannedChange]
        do {
            let decoded = try JSONDecoder().decode(
                [PlannedChange].self, from: Data(JSONWriter.bytes(placeholder(for: report.runID, in: TestCaseContext.json(plan)))))
            changes = decoded
        } catch {
            return "cannot write the golden plan \(file): \(error)"
        }
        let golden = PlanFile(
            runID: runIDPlaceholder, script: report.scriptPath, scriptSHA256: report.scriptSHA256 ?? "", arguments: report.arguments,
            created: RFC3339.format(unixSeconds: now), target: RunTarget(baseURL: "sandbox", sandbox: true), changes: changes)
        do {
            let parent = (file as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try golden.write(to: file)
            return nil
        } catch {
            return "cannot write the golden plan \(file): \(error)"
        }
    }

    /// The first place two values differ, `changes[2].body.severity: expected 1, got 2`.
    static func firstDifference(_ expected: JSONValue, _ actual: JSONValue, path: String) -> String? {
        guard expected != actual else { return nil }
        switch (expected, actual) {
        case (.object(let left), .object(let right)):
            for key in Set(left.keys).union(right.keys).sorted() {
                if let found = firstDifference(left[key] ?? .null, right[key] ?? .null, path: "\(path).\(key)") { return found }
            }
        case (.array(let left), .array(let right)):
            for index in 0..<max(left.count, right.count) {
                let place = "\(path)[\(index + 1)]"
                guard index < left.count else { return "\(place): not in the golden plan" }
                guard index < right.count else { return "\(place): not planned" }
                if let found = firstDifference(left[index], right[index], path: place) { return found }
            }
        default:
            break
        }
        return "\(path): expected \(text(expected)), got \(text(actual))"
    }

    private static func text(_ value: JSONValue) -> String {
        (try? String(decoding: JSONWriter.bytes(value), as: UTF8.self)) ?? "?"
    }
}
