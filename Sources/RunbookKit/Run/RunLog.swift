import DevRevAPI
import Foundation
import Logging

/// A run's log on standard error: the script's `log.*` lines and the client's own (retries,
/// rate-limit waits, bulk progress) in one format, each naming the time, the script and the run,
/// so many runs appended to one file by cron can be told apart.
///
/// Text: `2026-11-29T05:52:30Z escalate.lua[20261129T055230-ab12cd] warn: INC-9 has no owner id=INC-9`.
/// JSON (`--output json`): one object per line with `time`, `level`, `message`, `run_id`,
/// `script`, the fields, and `source` (`devrev`) for the client's lines.
struct RunLog: Sendable {
    let runID: String
    let script: String
    let threshold: LogLevel
    let json: Bool
    let write: @Sendable (String) -> Void
    /// Also receives every line written, as data (`runbook test` keeps them for assertions).
    var record: (@Sendable (Record) -> Void)?

    /// A log line as data.
    struct Record: Sendable {
        var level: LogLevel
        var message: String
        var fields: [String: JSONValue]
        /// `devrev` for the client's lines; nil for the script's.
        var source: String?
    }

    func emit(_ level: LogLevel, _ message: String, fields: [String: JSONValue] = [:], source: String? = nil, time: Date = Date()) {
        guard level >= threshold else { return }
        write(line(level, message, fields: fields, source: source, time: time))
        record?(Record(level: level, message: message, fields: fields, source: source))
    }

    func line(_ level: LogLevel, _ message: String, fields: [String: JSONValue], source: String?, time: Date = Date()) -> String {
        let stamp = RFC3339.format(unixSeconds: Int64(time.timeIntervalSince1970.rounded(.down)))
        if json {
            var object = fields
            object["level"] = .string(level.rawValue)
            object["message"] = .string(message)
            object["time"] = .string(stamp)
            object["run_id"] = .string(runID)
            object["script"] = .string(script)
            if let source { object["source"] = .string(source) }
            return ((try? String(decoding: JSONWriter.bytes(.object(object)), as: UTF8.self)) ?? "{}") + "\n"
        }
        var line = "\(stamp) \(Self.escaped(script))[\(runID)] \(level.rawValue): \(source.map { "\($0): " } ?? "")\(Self.escaped(message))"
        for key in fields.keys.sorted() {
            guard let value = fields[key] else { continue }
            let rendered: String
            if case .string(let text) = value { rendered = text } else {
                rendered = (try? String(decoding: JSONWriter.bytes(value), as: UTF8.self)) ?? "?"
            }
            line += " \(Self.escaped(key))=\(Self.escaped(rendered))"
        }
        return line + "\n"
    }

    /// Control characters escaped (`\n`, `\u{1B}`), so text from an incident cannot forge a line
    /// of its own or drive a terminal.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where isControl(scalar): result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    /// A swift-log logger writing through this log (the client's), at the run's level.
    func logger(label: String, source: String) -> Logger {
        var logger = Logger(label: label) { _ in RunLogHandler(log: self, source: source) }
        logger.logLevel = switch threshold {
        case .debug: .debug
        case .info: .info
        case .warn: .warning
        case .error: .error
        }
        return logger
    }
}

/// swift-log's side of `RunLog`.
struct RunLogHandler: LogHandler {
    let log: RunLog
    let source: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level: LogLevel = switch event.level {
        case .trace, .debug: .debug
        case .info, .notice: .info
        case .warning: .warn
        case .error, .critical: .error
        }
        var fields: [String: JSONValue] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            fields[key] = .string("\(value)")
        }
        log.emit(level, "\(event.message)", fields: fields, source: source)
    }
}
