import DevRevAPI
import Foundation
import LuaRuntime

/// `log.debug/info/warn/error(message, fields?)`: to standard error as text, or as JSON lines
/// with `--output json`; below `--log-level` nothing is written.
enum LogModule {
    static func make(threshold: LogLevel, json: Bool, write: @escaping @Sendable (String) -> Void) -> LuaModule {
        let functions = LogLevel.allCases.map { level in
            LuaFunction(name: level.rawValue) { call in
                guard level >= threshold else { return [] }
                let message: String
                switch try call.argument(1, named: "message", in: "log.\(level.rawValue)") {
                case .string(let text): message = text.description
                case .nil: message = ""
                case let other: message = "\(LuaJSON.lua(from: (try? LuaJSON.json(from: other)) ?? .null))"
                }
                var fields: [String: JSONValue] = [:]
                switch try call.argument(2, named: "fields", in: "log.\(level.rawValue)") {
                case .object(let given):
                    for (key, value) in given {
                        do throws(LuaJSON.Failure) {
                            fields[key] = try LuaJSON.json(from: Self.readable(value))
                        } catch {
                            throw ScriptFailure.validation("log.\(level.rawValue)", field: key, error.problem)
                        }
                    }
                case .nil, .emptyTable: break
                default: throw ScriptFailure.validation("log.\(level.rawValue)", field: nil, "fields must be a table with named fields")
                }
                write(json ? jsonLine(level, message, fields) : textLine(level, message, fields))
                return []
            }
        }
        return LuaModule(name: "log", functions: functions)
    }

    /// Strings as a log can show them: invalid UTF-8 is replaced (U+FFFD) in fields as it is in
    /// the message, instead of failing the call.
    static func readable(_ value: LuaValue) -> LuaValue {
        switch value {
        case .string(let text) where text.text == nil: .string(LuaString(text.description))
        case .array(let items): .array(items.map(readable))
        case .object(let fields): .object(fields.mapValues(readable))
        default: value
        }
    }

    /// One line per call: control characters in the message, keys and values are escaped (`\n`,
    /// `\u{1B}`), so text from an incident cannot forge a line of its own or drive a terminal.
    static func textLine(_ level: LogLevel, _ message: String, _ fields: [String: JSONValue]) -> String {
        var line = "\(level.rawValue): \(escaped(message))"
        for key in fields.keys.sorted() {
            guard let value = fields[key] else { continue }
            let rendered: String
            if case .string(let text) = value { rendered = text } else {
                rendered = (try? String(decoding: LuaJSON.encode(value), as: UTF8.self)) ?? "?"
            }
            line += " \(escaped(key))=\(escaped(rendered))"
        }
        return line + "\n"
    }

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

    static func jsonLine(_ level: LogLevel, _ message: String, _ fields: [String: JSONValue]) -> String {
        var object = fields
        object["level"] = .string(level.rawValue)
        object["message"] = .string(message)
        object["time"] = .string(RFC3339.format(Date()))
        return ((try? String(decoding: LuaJSON.encode(.object(object)), as: UTF8.self)) ?? "{}") + "\n"
    }
}
