import DevRevAPI
import Foundation
import LuaRuntime

/// `log.debug/info/warn/error(message, fields?)`: to standard error as text, or as JSON lines
/// with `--output json`; below `--log-level` nothing is written.
enum LogModule {
    enum Level: Int, Comparable, CaseIterable, Sendable {
        case debug, info, warn, error

        var name: String {
            switch self {
            case .debug: "debug"
            case .info: "info"
            case .warn: "warn"
            case .error: "error"
            }
        }

        init?(name: String) {
            guard let level = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = level
        }

        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    static func make(threshold: Level, json: Bool, write: @escaping @Sendable (String) -> Void) -> LuaModule {
        let functions = Level.allCases.map { level in
            LuaFunction(name: level.name) { call in
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
                            throw ScriptFailure.validation("log.\(level.name)", field: key, error.problem)
                        }
                    }
                case .nil, .emptyTable: break
                default: throw ScriptFailure.validation("log.\(level.name)", field: nil, "fields must be a table with named fields")
                }
                write(json ? jsonLine(level, message, fields) : textLine(level, message, fields))
                return []
            }
        }
        return LuaModule(name: "log", functions: functions)
    }

    static func textLine(_ level: Level, _ message: String, _ fields: [String: JSONValue]) -> String {
        var line = "\(level.name): \(message)"
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

    static func jsonLine(_ level: Level, _ message: String, _ fields: [String: JSONValue]) -> String {
        var object = fields
        object["level"] = .string(level.name)
        object["message"] = .string(message)
        object["time"] = .string(Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        return ((try? String(decoding: LuaJSON.encode(.object(object)), as: UTF8.self)) ?? "{}") + "\n"
    }
}
