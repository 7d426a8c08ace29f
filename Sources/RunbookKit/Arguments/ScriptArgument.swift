/// One `--arg KEY=VALUE` of the command line.
public struct ScriptArgument: Sendable, Hashable {
    public var key: String
    public var value: String

    public struct Invalid: Error, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "invalid --arg '\(text)': \(reason)" }
    }

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Parses `KEY=VALUE`; the key is a Lua-style name, the value anything (it may hold '=').
    public init(parsing text: String) throws(Invalid) {
        guard let equals = text.firstIndex(of: "=") else {
            throw Invalid(text: text, reason: "expected KEY=VALUE")
        }
        let key = String(text[..<equals])
        guard let first = key.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
            key.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) })
        else {
            throw Invalid(text: text, reason: "the key must be a name of letters, digits and '_', not starting with a digit")
        }
        self.key = key
        self.value = String(text[text.index(after: equals)...])
    }
}
