import DevRevAPI
import Foundation

/// What `runbook journal` was asked.
public struct JournalQueryOptions: Sendable {
    /// `--audit-log`; else the default journal (of sandbox runs with `sandbox`).
    public var path: String?
    public var sandbox = false
    /// `--since`: a duration back from now (`12h`) or an RFC 3339 time.
    public var since: String?
    /// `--script`: the script's path as runs named it, its file name, or that without `.lua`.
    public var script: String?
    public var incident: String?
    public var outcome: String?
    public var output: OutputFormat = .text

    public init() {}

    public static let outcomes = ["ok", "error", "unknown"]
}

/// `runbook journal`: what runbook changed, when, by which run and script, and whether it worked.
public enum JournalQuery {
    public static func run(_ options: JournalQueryOptions, output: RunnerOutput = .process, now: Date = Date()) -> ExitStatus {
        let path = options.path ?? AuditJournal.defaultPath(sandbox: options.sandbox)
        let cutoff: String?
        do throws(JournalQueryFailure) {
            cutoff = try options.since.map { text throws(JournalQueryFailure) in try since(text, now: now) }
        } catch {
            output.standardError("runbook journal: \(error)\n")
            return .usage
        }
        let journal: (files: [String], lines: [JournalLine])
        do throws(JournalQueryFailure) {
            journal = try JournalReading.lines(of: path)
        } catch {
            output.standardError("runbook journal: \(error)\n")
            return .usage
        }
        let selected = JournalReading.entries(journal.lines).filter { entry in
            (cutoff.map { Self.instant(entry.time) >= Self.instant($0) } ?? true)
                && (options.script.map { matches(script: entry.script, $0) } ?? true)
                && (options.incident.map { entry.incident == $0 } ?? true)
                && (options.outcome.map { entry.outcome.rawValue == $0 } ?? true)
        }
        let counts = Dictionary(grouping: selected, by: \.outcome).mapValues(\.count)
        switch options.output {
        case .text:
            var text = selected.map(line).joined()
            let total = selected.count
            text += "\(total) change\(total == 1 ? "" : "s"): \(counts[.ok] ?? 0) ok, \(counts[.error] ?? 0) error, \(counts[.unknown] ?? 0) unknown\n"
            if (counts[.unknown] ?? 0) > 0 {
                text += "unknown: sent, but the run stopped before DevRev's answer was recorded; check those incidents by hand\n"
            }
            output.write(text)
        case .json:
            let report: JSONValue = .object([
                "journal": .array(journal.files.map { .string($0) }),
                "changes": .array(selected.map(json)),
                "summary": .object([
                    "changes": .integer(Int64(selected.count)), "ok": .integer(Int64(counts[.ok] ?? 0)),
                    "error": .integer(Int64(counts[.error] ?? 0)), "unknown": .integer(Int64(counts[.unknown] ?? 0)),
                ]),
            ])
            output.write(((try? String(decoding: JSONWriter.bytes(report), as: UTF8.self)) ?? "{}") + "\n")
        }
        return .success
    }

    /// The earliest time of `--since` as RFC 3339: `12h` back from `now`, or a time as given.
    static func since(_ text: String, now: Date) throws(JournalQueryFailure) -> String {
        if let duration = try? DurationArgument.parse(text) {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return RFC3339.format(now.addingTimeInterval(-seconds))
        }
        guard let date = RFC3339.parse(text) else {
            throw JournalQueryFailure("--since '\(text)' is neither a duration (12h, 7d) nor an RFC 3339 time (2026-11-28T18:00:00Z)")
        }
        return RFC3339.format(date)
    }

    private static func instant(_ text: String) -> Date { RFC3339.parse(text) ?? .distantPast }

    static func matches(script path: String, _ name: String) -> Bool {
        let file = (path as NSString).lastPathComponent
        return path == name || file == name || (file.hasSuffix(".lua") && String(file.dropLast(4)) == name)
    }

    /// `2026-11-29T02:00:01.123Z  ok       INC-3  incidents.update  severity Sev2 -> Sev1  escalate.lua  run …  sha256 e0d8c1a2`
    static func line(_ entry: JournalEntry) -> String {
        let outcome = entry.outcome.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
        var answer = ""
        switch entry.outcome {
        case .ok: answer = entry.status.map { " \($0)" } ?? ""
        case .error: answer = " " + (entry.notSent ? "not sent" : [entry.status.map(String.init), entry.error].compactMap { $0 }.joined(separator: " "))
        case .unknown: answer = " no answer recorded"
        }
        let sha = String(entry.scriptSHA256.prefix(12))
        return "\(entry.time)  \(outcome) \(entry.incident ?? "-")  \(entry.operation)\(answer)  \(what(entry))  "
            + "\(entry.script)  run \(entry.runID)  sha256 \(sha)\n"
    }

    /// What a change did: its fields' before and after, else what its request set.
    static func what(_ entry: JournalEntry) -> String {
        if case .array(let changes)? = entry.changes, !changes.isEmpty {
            return changes.compactMap { change -> String? in
                guard case .object(let fields) = change, let field = Planner.text(fields["field"]) else { return nil }
                let before = fields["before"].map(show) ?? "?"
                let after = fields["after"].map(show) ?? "?"
                return "\(field) \(before) -> \(after)"
            }.joined(separator: ", ")
        }
        guard case .object(let body)? = entry.fields else { return "" }
        if entry.operation.hasPrefix("timeline-entries."), let text = Planner.text(body["body"]) {
            return "comment " + show(.string(text.count > 60 ? String(text.prefix(60)) + "…" : text))
        }
        return body.keys.sorted().filter { $0 != "id" }.compactMap { key in body[key].map { "\(key)=\(show($0))" } }.joined(separator: ", ")
    }

    private static func show(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text.contains(" ") ? "\"\(text)\"" : text }
        return (try? String(decoding: JSONWriter.bytes(value), as: UTF8.self)) ?? "?"
    }

    static func json(_ entry: JournalEntry) -> JSONValue {
        var object: [String: JSONValue] = [
            "time": .string(entry.time), "run_id": .string(entry.runID), "script": .string(entry.script),
            "script_sha256": .string(entry.scriptSHA256), "host": .string(entry.host), "user": .string(entry.user),
            "operation": .string(entry.operation), "outcome": .string(entry.outcome.rawValue), "file": .string(entry.file),
            "line": .integer(Int64(entry.line)),
        ]
        if let incident = entry.incident { object["incident"] = .string(incident) }
        if let fields = entry.fields { object["fields"] = fields }
        if let status = entry.status { object["status"] = .integer(Int64(status)) }
        if let error = entry.error { object["error"] = .string(error) }
        if let requestID = entry.requestID { object["request_id"] = .string(requestID) }
        if let note = entry.note { object["note"] = .string(note) }
        if let changes = entry.changes { object["changes"] = changes }
        return .object(object)
    }

    // MARK: verify

    /// `runbook journal verify`: every line a record, no record out of order within its run, no
    /// outcome without its intent. 0 when the journal is sound, 65 when not.
    public static func verify(path given: String?, sandbox: Bool, output: RunnerOutput = .process) -> ExitStatus {
        let path = given ?? AuditJournal.defaultPath(sandbox: sandbox)
        let files: [String]
        let lines: [JournalLine]
        do throws(JournalQueryFailure) {
            (files, lines) = try JournalReading.lines(of: path)
        } catch {
            output.standardError("runbook journal verify: \(error)\n")
            return .usage
        }
        var problems: [String] = []
        var lastTime: [String: (time: Date, place: String)] = [:]
        var pending: [String: Int] = [:]
        var records = 0
        for line in lines {
            let place = "\(line.file):\(line.number)"
            guard let record = line.record else {
                problems.append("\(place): \(line.problem ?? "not a record")")
                continue
            }
            records += 1
            let run = Planner.text(record["run_id"]) ?? ""
            let time = RFC3339.parse(Planner.text(record["time"]) ?? "") ?? .distantPast
            if let previous = lastTime[run], time < previous.time {
                problems.append("\(place): out of order: earlier than its run's record at \(previous.place)")
            }
            lastTime[run] = (max(time, lastTime[run]?.time ?? time), place)
            let key = JournalReading.pairingKey(record)
            switch Planner.text(record["event"]) {
            case "intent": pending[key, default: 0] += 1
            case "outcome":
                if (pending[key] ?? 0) > 0 {
                    pending[key, default: 0] -= 1
                } else {
                    problems.append("\(place): an outcome of \(Planner.text(record["operation"]) ?? "?") \(Planner.text(record["incident"]) ?? "") with no intent before it in its run")
                }
            default: break
            }
        }
        let unknown = pending.values.reduce(0, +)
        var text = "\(files.joined(separator: ", ")): \(records) records, \(problems.count) problem\(problems.count == 1 ? "" : "s")"
        if unknown > 0 { text += ", \(unknown) change\(unknown == 1 ? "" : "s") without an outcome (see runbook journal --outcome unknown)" }
        output.write(text + "\n" + problems.map { "  \($0)\n" }.joined())
        return problems.isEmpty ? .success : .dataError
    }
}
