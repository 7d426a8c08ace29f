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
                switch try call.value(at: 1) {
                case .string(let text): message = text.description
                case .nil: message = ""
                case let other: message = "\(LuaJSON.lua(from: (try? LuaJSON.json(from: other)) ?? .null))"
                }
                var fields: [String: JSONValue] = [:]
                switch try call.value(at: 2, named: "log fields") {
                case .object(let given):
                    for (key, value) in given {
                        do throws(LuaJSON.Failure) {
                            fields[key] = try LuaJSON.json(from: value)
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

    static func textLine(_ level: LogLevel, _ message: String, _ fields: [String: JSONValue]) -> String {
        var line = "\(level.rawValue): \(message)"
        for key in fields.keys.sorted() {
            guard let value = fields[key] else { continue }
            let rendered: String
            if case .string(let text) = value { rendered = text } else {
                rendered = (try? String(decoding: LuaJSON.encode(value), as: UTF8.self)) ?? "?"
            }
            line += " \(key)=\(rendered)"
        }
        return line + "\n"
    }

    static func jsonLine(_ level: LogLevel, _ message: String, _ fields: [String: JSONValue]) -> String {
        var object = fields
        object["level"] = .string(level.rawValue)
        object["message"] = .string(message)
        object["time"] = .string(Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        return ((try? String(decoding: LuaJSON.encode(.object(object)), as: UTF8.self)) ?? "{}") + "\n"
    }
}
