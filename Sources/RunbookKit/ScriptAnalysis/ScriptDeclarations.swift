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
    /// `@claim WINDOW`: claim each incident on DevRev before changing it (see `IncidentClaims`).
    var claimWindow: Duration?

    /// The tags runbook reads in the header.
    static let tags = ["name", "description", "changes", "param", "claim"]
    /// LuaLS annotation tags, which may share the header (`---@meta`, `---@diagnostic ...`) and
    /// are passed over. Any other `@tag` is an error: a misspelled `@changes` must not silently
    /// leave the script free to change any field.
    static let editorTags: Set<String> = [
        "meta", "diagnostic", "class", "field", "type", "alias", "module", "version", "see", "deprecated", "nodiscard",
        "async", "cast", "enum", "generic", "operator", "overload", "package", "private", "protected", "return",
        "source", "vararg", "as",
    ]

    /// Reads the leading comment block of a script's source. Every problem in it is reported at
    /// once, one line each.
    static func parse(_ source: [UInt8], path: String) throws(Failure) -> ScriptDeclarations {
        var declarations = ScriptDeclarations()
        var problems: [String] = []
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
            guard body.hasPrefix("@") else { continue }
            let tag = String(body.dropFirst().prefix { !$0.isWhitespace })
            let value = body.dropFirst(1 + tag.count).trimmingWhitespace()
            let place = "\(path):\(number)"
            switch tag {
            case "name", "description":
                guard !value.isEmpty else {
                    problems.append("\(place): @\(tag) needs a value")
                    continue
                }
                if tag == "name" { declarations.name = value } else { declarations.description = value }
            case "changes":
                let fields = value.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
                guard !fields.isEmpty else {
                    problems.append("\(place): @changes needs the fields the script may change (e.g. '@changes severity, stage')")
                    continue
                }
                for field in fields where !MutationScope.isDeclarable(field) {
                    problems.append("\(place): '\(field)' is not an incident field an update can change, "
                        + "create, delete, comment, devrev.call or an operation that changes data"
                        + didYouMean(field, among: Array(MutationScope.incidentNames)))
                }
                declarations.changes = (declarations.changes ?? []).union(fields.filter(MutationScope.isDeclarable))
            case "claim":
                do throws(IncidentClaims.InvalidWindow) {
                    declarations.claimWindow = try IncidentClaims.window(parsing: value)
                } catch {
                    problems.append("\(place): @claim \(error)")
                }
            case "param":
                do throws(Failure) {
                    declarations.parameters.append(try parameter(value, path: path, line: number))
                } catch {
                    problems.append(error.description)
                }
            case _ where editorTags.contains(tag):
                continue
            default:
                let suggestion = EditDistance.nearest(tag, among: tags).map { "; did you mean '@\($0)'?" } ?? ""
                problems.append("\(place): unknown declaration '@\(tag)'\(suggestion) (runbook reads @name, @description, @changes, @param and @claim)")
            }
        }
        var seen: Set<String> = []
        for parameter in declarations.parameters where !seen.insert(parameter.name).inserted {
            problems.append("\(path): parameter '\(parameter.name)' is declared twice")
        }
        guard problems.isEmpty else { throw Failure(description: problems.joined(separator: "\n"), inDeclaration: true) }
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
            let choices = typeWord.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
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
        var keys: Set<String> = []
        for argument in given where !keys.insert(argument.key).inserted {
            throw Failure(description: "--arg \(argument.key) is given more than once")
        }
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
            if argument.value.isEmpty, parameter.defaultValue == nil {
                throw Failure(description: "--arg \(argument.key) is empty; the script requires a value (\(parameter.type))")
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
        if let changes {
            text += "changes: \(changes.sorted().joined(separator: ", "))\n"
        } else {
            text += "changes: any field (no @changes declared)\n"
        }
        if let claimWindow {
            text += "claim: each incident, for a window of \(DurationArgument.format(claimWindow)), before changing it\n"
        }
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
            // Choices that are all integers (`0|1|2|3`) arrive as integers, all numbers as numbers.
            if values.allSatisfy({ Int64($0) != nil }), let integer = Int64(text) { return .integer(integer) }
            if values.allSatisfy({ Double($0)?.isFinite == true }), let number = Double(text) { return .number(number) }
            return .string(LuaString(text))
        }
    }
}
