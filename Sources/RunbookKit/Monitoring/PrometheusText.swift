import Foundation

/// Prometheus's text exposition format (version 0.0.4): `# HELP` and `# TYPE` once per family,
/// then its samples, label values escaped.
enum PrometheusText {
    /// The text of `samples`, each also labelled with `common` (the script, in a textfile; nothing
    /// in a push, whose grouping key carries it). Families keep `RunMetrics.Family`'s order.
    static func render(_ samples: [RunMetrics.Sample], common: [(String, String)]) -> String {
        var text = ""
        for family in RunMetrics.Family.allCases {
            let members = samples.filter { $0.family == family }
            guard !members.isEmpty else { continue }
            text += "# HELP \(family.rawValue) \(family.help)\n# TYPE \(family.rawValue) gauge\n"
            for sample in members {
                text += family.rawValue + labels(common + sample.labels) + " " + number(sample.value) + "\n"
            }
        }
        return text
    }

    static func labels(_ pairs: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return "" }
        return "{" + pairs.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// A label value: backslash, double quote and line feed escaped.
    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Integers without a fraction; others with millisecond precision at most.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.3f", value)
    }

    /// The value of `family`'s sample whose first label is `label` = `value`, in `text` as this
    /// type writes it; nil when there is none.
    static func value(of family: RunMetrics.Family, labelled label: String, _ value: String, in text: String) -> Double? {
        let prefix = family.rawValue + "{\(label)=\"\(escape(value))\""
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            guard let space = line.lastIndex(of: " ") else { continue }
            return Double(line[line.index(after: space)...])
        }
        return nil
    }
}
