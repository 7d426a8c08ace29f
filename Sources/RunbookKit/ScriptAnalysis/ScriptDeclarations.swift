import DevRevAPI
import LuaRuntime

/// What a script declares about itself in its leading `---` comment block, read without running it:
///
///     --- @name escalate-unacknowledged
///     --- @description Escalate incidents nobody acknowledged.
///     --- @changes severity, stage
///     --- @param minutes integer = 30  minutes without acknowledgement
///     --- @param severity integer = 2  severity to escalate (1 to 3)
///     --- @param team string            the owning team (required: no default)
///     --- @param mode fast|slow = fast
///     --- @param wait duration = 5m     becomes seconds in runbook.args
///
/// A script that declares parameters gets them typed in `runbook.args`, and a run with an unknown,
/// missing or mistyped `--arg` stops before the script starts (exit 64). A script that declares
/// `@changes` may update only those incident fields (and create, delete or comment only if it
/// lists `create`, `delete` or `comment`); `devrev.call` mutations need `devrev.call` or the
/// operation's name (`works.update`) there, declared or not (see `MutationScope`).
struct ScriptDeclarations: Sendable {
    enum ParameterType: Sendable, Equatable, CustomStringConvertible {
        case string, integer, number, boolean, duration
        case choice([String])

        var description: String {
            switch self {
            case .string: "string"
            case .integer: "integer"
            case .number: "number"
            case .boolean: "boolean"
            case .duration: "duration"
            case .choice(let values): values.joined(separator: "|")
            }
        }
    }

    struct Parameter: Sendable {
        var name: String
        var type: ParameterType
        var defaultValue: String?
        var help: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// The script's declarations are malformed (rather than the command line's --arg).
        var inDeclaration = false
    }

    var name: String?
    var description: String?
    var parameters: [Parameter] = []
    /// What the script may change (see `MutationScope`); nil: undeclared.
    var changes: Set<String>?

    /// Reads the leading comment block of a script's source.
    static func parse(_ source: [UInt8], path: String) throws(Failure) -> ScriptDeclarations {
        var declarations = ScriptDeclarations()
        let text = String(decoding: source, as: UTF8.self)
        var number = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = rawLine.trimmingWhitespace()
            if number == 1, line.hasPrefix("#!") { continue }
            if line.isEmpty { continue }
            guard line.hasPrefix("--") else { break }
            guard line.hasPrefix("---") else { continue }
            let body = line.dropFirst(3).trimmingWhitespace()
            if body.hasPrefix("@name ") {
                declarations.name = body.dropFirst("@name ".count).trimmingWhitespace()
            } else if body.hasPrefix("@changes ") {
                let fields = body.dropFirst("@changes ".count).split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
                for field in fields where !MutationScope.isDeclarable(field) {
                    var message = "\(path):\(number): '\(field)' is not an incident field an update can change, "
                        + "create, delete, comment, devrev.call or an operation that changes data"
                    message += didYouMean(field, among: Array(MutationScope.incidentNames))
                    throw Failure(description: message, inDeclaration: true)
                }
                declarations.changes = (declarations.changes ?? []).union(fields)
            } else if body.hasPrefix("@description ") {
                declarations.description = body.dropFirst("@description ".count).trimmingWhitespace()
            } else if body.hasPrefix("@param ") {
                declarations.parameters.append(try parameter(body.dropFirst("@param ".count).trimmingWhitespace(), path: path, line: number))
            }
        }
        var seen: Set<String> = []
        for parameter in declarations.parameters where !seen.insert(parameter.name).inserted {
            throw Failure(description: "\(path): parameter '\(parameter.name)' is declared twice", inDeclaration: true)
        }
        return declarations
    }

    private static func parameter(_ text: String, path: String, line: Int) throws(Failure) -> Parameter {
        let place = "\(path):\(line)"
        var words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard words.count >= 2 else { throw Failure(description: "\(place): expected '@param NAME TYPE [= DEFAULT] [help]'", inDeclaration: true) }
        let name = words.removeFirst()
        guard (try? ScriptArgument(parsing: "\(name)=x")) != nil else {
            throw Failure(description: "\(place): '\(name)' is not a parameter name (letters, digits, '_')", inDeclaration: true)
        }
        let typeWord = words.removeFirst()
        let type: ParameterType
        switch typeWord {
        case "string": type = .string
        case "integer": type = .integer
        case "number": type = .number
        case "boolean": type = .boolean
        case "duration": type = .duration
        default:
            let choices = typeWord.split(separator: "|").map(String.init)
            guard choices.count >= 2, choices.allSatisfy({ !$0.isEmpty }) else {
                throw Failure(description: "\(place): unknown type '\(typeWord)'; use string, integer, number, boolean, duration or a|b|c", inDeclaration: true)
            }
            type = .choice(choices)
        }
        var defaultValue: String?
        if words.first == "=" {
            words.removeFirst()
            guard !words.isEmpty else { throw Failure(description: "\(place): '=' without a default value", inDeclaration: true) }
            defaultValue = words.removeFirst()
        }
        let parameter = Parameter(name: name, type: type, defaultValue: defaultValue, help: words.joined(separator: " "))
        if let defaultValue {
            do {
                _ = try parameter.convert(defaultValue)
            } catch {
                throw Failure(description: "\(place): the default of '\(name)' is not valid: \(error)", inDeclaration: true)
            }
        }
        return parameter
    }

    /// `runbook.args` for these `--arg`s: typed, defaults filled in. Without declarations, every
    /// argument is a string, as given.
    func arguments(for given: [ScriptArgument]) throws(Failure) -> [String: LuaValue] {
        guard !parameters.isEmpty else {
            var plain: [String: LuaValue] = [:]
            for argument in given { plain[argument.key] = .string(LuaString(argument.value)) }
            return plain
        }
        var values: [String: LuaValue] = [:]
        for argument in given {
            guard let parameter = parameters.first(where: { $0.name == argument.key }) else {
                var message = "unknown parameter '\(argument.key)'"
                let names = parameters.map(\.name)
                message += didYouMean(argument.key, among: names)
                throw Failure(description: message + " (the script declares: \(names.joined(separator: ", ")))")
            }
            values[argument.key] = try parameter.convert(argument.value)
        }
        for parameter in parameters where values[parameter.name] == nil {
            guard let defaultValue = parameter.defaultValue else {
                throw Failure(description: "missing --arg \(parameter.name)=<\(parameter.type)>\(parameter.help.isEmpty ? "" : ": \(parameter.help)")")
            }
            values[parameter.name] = try parameter.convert(defaultValue)
        }
        return values
    }

    /// `runbook describe`'s text.
    func render(path: String) -> String {
        var text = "\(name ?? path)\(name == nil ? "" : " (\(path))")\n"
        if let description { text += "  \(description)\n" }
        if let changes { text += "changes: \(changes.sorted().joined(separator: ", "))\n" }
        if parameters.isEmpty {
            text += "  no declared parameters: every --arg reaches runbook.args as a string\n"
        } else {
            text += "parameters:\n"
            let width = parameters.map(\.name.count).max() ?? 0
            for parameter in parameters {
                let name = parameter.name + String(repeating: " ", count: width - parameter.name.count)
                let requirement = parameter.defaultValue.map { "default \($0)" } ?? "required"
                text += "  \(name)  \(parameter.type)  \(requirement)\(parameter.help.isEmpty ? "" : "  \(parameter.help)")\n"
            }
        }
        return text
    }
}

extension ScriptDeclarations.Parameter {
    func convert(_ text: String) throws(ScriptDeclarations.Failure) -> LuaValue {
        func fail(_ expected: String) -> ScriptDeclarations.Failure {
            ScriptDeclarations.Failure(description: "--arg \(name)=\(text): expected \(expected)")
        }
        switch type {
        case .string: return .string(LuaString(text))
        case .integer:
            guard let value = Int64(text) else { throw fail("an integer") }
            return .integer(value)
        case .number:
            guard let value = Double(text), value.isFinite else { throw fail("a number") }
            return .number(value)
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "1": return .boolean(true)
            case "false", "no", "0": return .boolean(false)
            default: throw fail("true or false")
            }
        case .duration:
            guard let duration = try? DurationArgument.parse(text) else { throw fail("a duration such as 90s, 5m or 1h30m") }
            let (seconds, attoseconds) = duration.components
            return attoseconds == 0 ? .integer(seconds) : .number(Double(seconds) + Double(attoseconds) / 1e18)
        case .choice(let values):
            guard values.contains(text) else { throw fail("one of \(values.joined(separator: ", "))") }
            return .string(LuaString(text))
        }
    }
}
