import DevRevAPI
import Foundation

/// The audit journal read back: each change a run made or meant to make, its intent paired with
/// its outcome. `runbook journal` queries these; `runbook journal verify` checks the lines.
struct JournalEntry: Sendable {
    enum Outcome: String, Sendable {
        /// DevRev answered with success (or a retried comment met the one its lost attempt posted).
        case ok
        /// DevRev answered with an error, or the change was never sent (its deadline came first).
        case error
        /// Sent, with no outcome recorded: the run stopped (a kill, a crash) while it was in
        /// flight. Whether it happened must be checked by hand.
        case unknown
    }

    var time: String
    var runID: String
    var script: String
    var scriptSHA256: String
    var host: String
    var user: String
    var operation: String
    var incident: String?
    /// The request body as sent.
    var fields: JSONValue?
    var outcome: Outcome
    var status: Int?
    var error: String?
    var requestID: String?
    var note: String?
    /// An update's fields with their before and after.
    var changes: JSONValue?
    var notSent = false
    var file: String
    var line: Int
}

/// One line of a journal file: its record, or why it is not one.
struct JournalLine: Sendable {
    var file: String
    var number: Int
    var record: [String: JSONValue]?
    /// Set when the line is not a record.
    var problem: String?
}

enum JournalReading {
    static let requiredMembers = ["time", "run_id", "event", "operation"]

    /// The journal's files (rotated ones first), and every line of them, parsed.
    static func lines(of path: String) throws(JournalQueryFailure) -> (files: [String], lines: [JournalLine]) {
        let files = AuditJournal.files(of: path)
        guard !files.isEmpty else { throw JournalQueryFailure("no journal at \(path) (no run has written one yet, or see --audit-log)") }
        var lines: [JournalLine] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw JournalQueryFailure("cannot read \(file)")
            }
            let bytes = [UInt8](data)
            var number = 0
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                number += 1
                let text = Array(bytes[start..<end])
                let last = end == bytes.count
                lines.append(line(text, file: file, number: number, unterminated: last))
                start = end + 1
            }
        }
        return (files, lines)
    }

    private static func line(_ bytes: [UInt8], file: String, number: Int, unterminated: Bool) -> JournalLine {
        guard case .object(let record)? = try? JSONParser().parse(bytes) else {
            let problem = unterminated
                ? "an unfinished record at the end of the file (a run stopped while writing it)"
                : "not a JSON record: a torn record (a run stopped while writing it) that a later run started a new line after"
            return JournalLine(file: file, number: number, problem: problem)
        }
        if let missing = requiredMembers.first(where: { record[$0] == nil }) {
            return JournalLine(file: file, number: number, record: nil, problem: "not a runbook journal record (no \(missing))")
        }
        return JournalLine(file: file, number: number, record: record)
    }

    /// The changes of the journal, in order: each intent with its outcome, and each `not_sent`.
    static func entries(_ lines: [JournalLine]) -> [JournalEntry] {
        var entries: [JournalEntry] = []
        var pending: [String: [Int]] = [:]
        for line in lines {
            guard let record = line.record, let event = Planner.text(record["event"]) else { continue }
            let key = pairingKey(record)
            switch event {
            case "intent", "not_sent":
                var entry = JournalEntry(
                    time: Planner.text(record["time"]) ?? "", runID: Planner.text(record["run_id"]) ?? "",
                    script: Planner.text(record["script"]) ?? "", scriptSHA256: Planner.text(record["script_sha256"]) ?? "",
                    host: Planner.text(record["host"]) ?? "", user: Planner.text(record["user"]) ?? "",
                    operation: Planner.text(record["operation"]) ?? "", incident: Planner.text(record["incident"]),
                    fields: record["fields"], outcome: .unknown, file: line.file, line: line.number)
                if event == "not_sent" {
                    entry.outcome = .error
                    entry.notSent = true
                    entry.error = "not_sent"
                    entry.note = Planner.text(record["note"])
                    entries.append(entry)
                } else {
                    pending[key, default: []].append(entries.count)
                    entries.append(entry)
                }
            case "outcome":
                guard var queue = pending[key], !queue.isEmpty else { continue }
                let index = queue.removeFirst()
                pending[key] = queue
                let status = record["status"].flatMap { value -> Int? in
                    if case .integer(let number) = value { return Int(exactly: number) }
                    return nil
                }
                entries[index].status = status
                entries[index].error = Planner.text(record["error"])
                entries[index].requestID = Planner.text(record["request_id"])
                entries[index].note = Planner.text(record["note"])
                entries[index].changes = record["changes"]
                let done = status.map { (200..<300).contains($0) || ($0 == 409 && entries[index].note != nil) } ?? false
                entries[index].outcome = done && entries[index].error == nil ? .ok : .error
            default:
                continue
            }
        }
        return entries
    }

    /// Records of one change share their run, operation and incident.
    static func pairingKey(_ record: [String: JSONValue]) -> String {
        [record["run_id"], record["operation"], record["incident"]].map { Planner.text($0) ?? "" }.joined(separator: "\u{1F}")
    }
}

struct JournalQueryFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
