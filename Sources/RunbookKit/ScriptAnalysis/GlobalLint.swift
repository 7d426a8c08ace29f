/// `runbook check`'s lint: reads of globals that nothing defines, which in a runbook are almost
/// always typos (`incidnet.update`, `runbook.arg.minutes`).
///
/// It works on tokens with Lua's block structure: locals (`local`, function parameters, loop
/// variables) are visible in their block; a name counts as defined when it is a known global (the
/// script environment's and the host's modules) or assigned anywhere in the file (`name = ...`,
/// `function name`). Fields (`a.b`, `a:b`), table keys (`{name = 1}`), labels and `goto` targets
/// are not reads.
struct GlobalLint {
    struct Finding: Equatable, CustomStringConvertible {
        var line: Int
        var name: String
        var description: String { "line \(line): reads the undefined global '\(name)'" }
    }

    /// Globals a runbook can read without defining them.
    static let knownGlobals: Set<String> = [
        "_G", "_VERSION", "_ENV", "assert", "collectgarbage", "error", "getmetatable", "ipairs", "load", "next", "pairs",
        "pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "require", "select", "setmetatable", "tonumber",
        "tostring", "type", "xpcall", "string", "table", "math", "utf8", "coroutine", "os", "debug",
        "incident", "devrev", "json", "log", "runbook",
    ]

    /// The globals of a test file (`NAME_test.lua`): Lua's, `json`, and the test API instead of
    /// the runbook's tables (a test reaches DevRev only through `run`).
    static let knownTestGlobals: Set<String> = knownGlobals.subtracting(["incident", "devrev", "log", "runbook"])
        .union(["describe", "it", "pending", "before_each", "after_each", "given", "run", "sandbox"])

    /// Whether `path` names a test file rather than a runbook.
    static func isTestFile(_ path: String) -> Bool { path.hasSuffix(TestDiscovery.suffix) }

    private static let keywords: Set<String> = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in", "local", "nil",
        "not", "or", "repeat", "return", "then", "true", "until", "while",
    ]

    enum Kind: Equatable { case name, keyword, symbol, literal }

    struct Token {
        var kind: Kind
        var text: String
        var line: Int
    }

    /// The modules `source` requires by a literal name (`require "util"`, `require("team.oncall")`),
    /// with the line of each.
    static func requiredModules(in source: [UInt8]) -> [(name: String, line: Int)] {
        let tokens = tokenize(source)
        var modules: [(name: String, line: Int)] = []
        for (index, token) in tokens.enumerated() where token.kind == .name && token.text == "require" {
            guard index == 0 || ![".", ":"].contains(tokens[index - 1].text) else { continue }
            var argument = index + 1
            if argument < tokens.count, tokens[argument].text == "(" { argument += 1 }
            guard argument < tokens.count, tokens[argument].kind == .literal, tokens[argument].text.count > 2,
                  tokens[argument].text.hasPrefix("\"") else { continue }
            modules.append((String(tokens[argument].text.dropFirst().dropLast()), token.line))
        }
        return modules
    }

    static func findings(in source: [UInt8], testFile: Bool = false) -> [Finding] {
        let known = testFile ? Self.knownTestGlobals : Self.knownGlobals
        let tokens = tokenize(source)
        let assigned = assignedGlobals(tokens)
        var scopes: [Set<String>] = [[]]
        var pending: [Set<String>] = []      // names to declare when the next block opens (for, function)
        var braces = 0
        var results: [Finding] = []
        var index = 0
        func previous(_ offset: Int = 1) -> Token? { index - offset >= 0 ? tokens[index - offset] : nil }
        func next(_ offset: Int = 1) -> Token? { index + offset < tokens.count ? tokens[index + offset] : nil }
        func isLocal(_ name: String) -> Bool { scopes.contains { $0.contains(name) } }
        func declare(_ name: String) { scopes[scopes.count - 1].insert(name) }
        func open(with names: Set<String> = []) { scopes.append(names) }
        func close() { if scopes.count > 1 { scopes.removeLast() } }

        while index < tokens.count {
            let token = tokens[index]
            switch (token.kind, token.text) {
            case (.keyword, "local"):
                if next()?.text == "function", let name = next(2), name.kind == .name {
                    declare(name.text)
                    index += 1   // on to `function`, which opens the body's scope
                    continue
                }
                // local a, b <const> = ...: the names become visible after the statement; close enough to declare now.
                var cursor = index + 1
                while cursor < tokens.count, tokens[cursor].kind == .name {
                    declare(tokens[cursor].text)
                    cursor += 1
                    if cursor < tokens.count, tokens[cursor].text == "<" { cursor += 3 }   // <const>, <close>
                    guard cursor < tokens.count, tokens[cursor].text == "," else { break }
                    cursor += 1
                }
                index = cursor
                continue
            case (.keyword, "function"):
                // function a.b:c(params) ... end / function(params) ... end
                var cursor = index + 1
                var parameters: Set<String> = []
                if cursor < tokens.count, tokens[cursor].kind == .name {
                    let head = tokens[cursor].text
                    if !isLocal(head), !known.contains(head), !assigned.contains(head) {
                        results.append(Finding(line: tokens[cursor].line, name: head))
                    }
                    cursor += 1
                    while cursor + 1 < tokens.count, tokens[cursor].text == "." || tokens[cursor].text == ":" {
                        if tokens[cursor].text == ":" { parameters.insert("self") }
                        cursor += 2
                    }
                }
                if cursor < tokens.count, tokens[cursor].text == "(" {
                    cursor += 1
                    while cursor < tokens.count, tokens[cursor].text != ")" {
                        if tokens[cursor].kind == .name { parameters.insert(tokens[cursor].text) }
                        cursor += 1
                    }
                    cursor += 1
                }
                open(with: parameters)
                index = cursor
                continue
            case (.keyword, "for"):
                var cursor = index + 1
                var names: Set<String> = []
                while cursor < tokens.count, tokens[cursor].text != "=", tokens[cursor].text != "in" {
                    if tokens[cursor].kind == .name { names.insert(tokens[cursor].text) }
                    cursor += 1
                }
                pending.append(names)
                index = cursor
                continue
            case (.keyword, "do"):
                open(with: pending.popLast() ?? [])
            case (.keyword, "then"), (.keyword, "repeat"):
                open()
            case (.keyword, "elseif"):
                close()
            case (.keyword, "else"):
                close()
                open()
            case (.keyword, "end"):
                close()
            case (.keyword, "until"):
                // The condition still sees the block's locals: keep them (in the enclosing scope).
                if scopes.count > 1, let block = scopes.popLast() { scopes[scopes.count - 1].formUnion(block) }
            case (.keyword, "while"):
                pending.append([])
            case (.symbol, "{"):
                braces += 1
            case (.symbol, "}"):
                braces -= 1
            case (.name, let name):
                let before = previous()?.text
                let isField = before == "." || before == ":" || before == "goto" || before == "::"
                let isKey = braces > 0 && next()?.text == "=" && (before == "{" || before == "," || before == ";")
                if !isField, !isKey, !isLocal(name), !known.contains(name), !assigned.contains(name) {
                    results.append(Finding(line: token.line, name: name))
                }
            default:
                break
            }
            index += 1
        }
        return results
    }

    /// Names assigned as globals somewhere: `name = ...`, `a, name = ...` (outside table
    /// constructors and not after `local`), `function name`.
    private static func assignedGlobals(_ tokens: [Token]) -> Set<String> {
        var names: Set<String> = []
        var braces = 0
        for (index, token) in tokens.enumerated() {
            if token.text == "{" { braces += 1 }
            if token.text == "}" { braces -= 1 }
            guard token.kind == .name else { continue }
            let before = index > 0 ? tokens[index - 1].text : ""
            if before == "function", index > 1, tokens[index - 2].text != "local" { names.insert(token.text) }
            guard braces == 0, before != ".", before != ":" else { continue }
            // Walk a comma list of plain names to its '='.
            var cursor = index + 1
            while cursor + 1 < tokens.count, tokens[cursor].text == ",", tokens[cursor + 1].kind == .name { cursor += 2 }
            if cursor < tokens.count, tokens[cursor].text == "=" {
                var start = index
                while start >= 2, tokens[start - 1].text == ",", tokens[start - 2].kind == .name { start -= 2 }
                if start == 0 || tokens[start - 1].text != "local" { names.insert(token.text) }
            }
        }
        return names
    }

    // MARK: lexing

    static func tokenize(_ source: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var i = 0
        var line = 1
        let count = source.count
        func at(_ offset: Int) -> UInt8 { i + offset < count ? source[i + offset] : 0 }
        func isNameStart(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        /// The level of a long bracket at i ([[ or [==[), or nil.
        func longBracket() -> Int? {
            guard at(0) == UInt8(ascii: "[") else { return nil }
            var level = 0
            while at(1 + level) == UInt8(ascii: "=") { level += 1 }
            return at(1 + level) == UInt8(ascii: "[") ? level : nil
        }
        func skipLong(_ level: Int) {
            i += level + 2
            while i < count {
                if source[i] == 10 { line += 1 }
                if source[i] == UInt8(ascii: "]") {
                    var equals = 0
                    while at(1 + equals) == UInt8(ascii: "=") { equals += 1 }
                    if equals == level, at(1 + equals) == UInt8(ascii: "]") {
                        i += level + 2
                        return
                    }
                }
                i += 1
            }
        }
        if count > 1, source[0] == UInt8(ascii: "#") {
            while i < count, source[i] != 10 { i += 1 }
        }
        while i < count {
            let c = source[i]
            if c == 10 { line += 1; i += 1; continue }
            if c == 32 || c == 9 || c == 13 { i += 1; continue }
            if c == UInt8(ascii: "-"), at(1) == UInt8(ascii: "-") {
                i += 2
                if let level = longBracket() { skipLong(level) } else { while i < count, source[i] != 10 { i += 1 } }
                continue
            }
            if isNameStart(c) {
                let start = i
                while i < count, isNameStart(source[i]) || isDigit(source[i]) { i += 1 }
                let text = String(decoding: source[start..<i], as: UTF8.self)
                tokens.append(Token(kind: keywords.contains(text) ? .keyword : .name, text: text, line: line))
                continue
            }
            if isDigit(c) || (c == UInt8(ascii: ".") && isDigit(at(1))) {
                while i < count, isNameStart(source[i]) || isDigit(source[i]) || source[i] == UInt8(ascii: ".")
                    || ((source[i] == UInt8(ascii: "+") || source[i] == UInt8(ascii: "-"))
                        && (source[i - 1] | 0x20 == UInt8(ascii: "e") || source[i - 1] | 0x20 == UInt8(ascii: "p")))
                { i += 1 }
                tokens.append(Token(kind: .literal, text: "0", line: line))
                continue
            }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                let startLine = line
                let start = i
                i += 1
                while i < count, source[i] != c {
                    if source[i] == UInt8(ascii: "\\") {
                        if at(1) == 10 { line += 1 }
                        if at(1) == UInt8(ascii: "z") {
                            // `\z` skips the white space that follows, line breaks included.
                            i += 2
                            while i < count, source[i] == 32 || (9...13).contains(source[i]) {
                                if source[i] == 10 { line += 1 }
                                i += 1
                            }
                            continue
                        }
                        i += 1
                    } else if source[i] == 10 {
                        break
                    }
                    i += 1
                }
                // A string without escapes keeps its text (`require "name"`); others are just strings.
                let content = source[(start + 1)..<min(i, count)]
                i += 1
                let text = content.contains(UInt8(ascii: "\\")) ? "" : String(decoding: content, as: UTF8.self)
                tokens.append(Token(kind: .literal, text: "\"" + text + "\"", line: startLine))
                continue
            }
            if let level = longBracket() {
                let startLine = line
                skipLong(level)
                tokens.append(Token(kind: .literal, text: "\"\"", line: startLine))
                continue
            }
            // Symbols: the two- and three-character ones, else one character.
            var matched = false
            for symbol in ["...", "..", "::", "==", "~=", "<=", ">=", "//", "<<", ">>"] where source[i...].starts(with: Array(symbol.utf8)) {
                tokens.append(Token(kind: .symbol, text: symbol, line: line))
                i += symbol.utf8.count
                matched = true
                break
            }
            if !matched {
                tokens.append(Token(kind: .symbol, text: String(UnicodeScalar(c)), line: line))
                i += 1
            }
        }
        return tokens
    }
}
