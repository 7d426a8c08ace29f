/// Parses durations as operators write them: `90s`, `5m`, `1h30m`, `250ms`, `1.5s`, or a bare
/// number of seconds.
public enum DurationArgument {
    public struct Invalid: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "invalid duration '\(text)': use a number with a unit, e.g. 500ms, 90s, 5m, 1h30m"
        }
    }

    /// Durations are shorter than this (about 31 years), so every one converts to nanoseconds.
    static let maximumSeconds = 1e9

    public static func parse(_ text: String) throws(Invalid) -> Duration {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw Invalid(text: text) }
        if let seconds = Double(trimmed) {
            guard seconds.isFinite, seconds > 0, seconds < maximumSeconds else { throw Invalid(text: text) }
            return .nanoseconds(Int64(seconds * 1e9))
        }
        var total: Double = 0
        var number = ""
        var unit = ""
        var parts: [(Double, String)] = []
        func flush() throws(Invalid) {
            guard !number.isEmpty, let value = Double(number), !unit.isEmpty else { throw Invalid(text: text) }
            parts.append((value, unit))
            number = ""
            unit = ""
        }
        for character in trimmed {
            if character.isNumber || character == "." {
                if !unit.isEmpty { try flush() }
                number.append(character)
            } else if character.isLetter {
                unit.append(character)
            } else {
                throw Invalid(text: text)
            }
        }
        try flush()
        for (value, unit) in parts {
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m", "min": scale = 60
            case "h": scale = 3600
            default: throw Invalid(text: text)
            }
            total += value * scale
        }
        guard total.isFinite, total > 0, total < maximumSeconds else { throw Invalid(text: text) }
        return .nanoseconds(Int64(total * 1e9))
    }
}

extension DurationArgument {
    /// A duration as operators read it: `1s`, `1.5s`, `250ms`, `5m`, `1h30m`.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.wholeMilliseconds
        if milliseconds % 1000 != 0 {
            return milliseconds < 1000 ? "\(milliseconds)ms" : "\(Double(milliseconds) / 1000)s"
        }
        let total = milliseconds / 1000
        if total >= 3600, total % 60 == 0 {
            let minutes = (total % 3600) / 60
            return minutes == 0 ? "\(total / 3600)h" : "\(total / 3600)h\(minutes)m"
        }
        if total >= 60, total % 60 == 0 { return "\(total / 60)m" }
        return "\(total)s"
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

extension Duration {
    /// Whole milliseconds, rounded down: for reports, the journal and messages.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
