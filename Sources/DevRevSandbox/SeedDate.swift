import DevRevAPI
import Foundation

/// A date in a seed: RFC 3339 (`2026-11-26T09:00:00Z`), `now`, or an offset from the sandbox's
/// now: a sign and one or more amounts with a unit, `s`, `m`, `h`, `d` or `w` (`-45m`, `+2h`,
/// `-1d12h`). Offsets let a seed say "reported 45 minutes ago" whenever it is loaded.
public enum SeedDate {
    /// The date `text` means at `now`; nil when it is neither form.
    public static func resolve(_ text: String, now: Date) -> Date? {
        if text == "now" { return now }
        guard let sign = text.first, sign == "-" || sign == "+" else { return RFC3339.parse(text) }
        guard let seconds = offset(text.dropFirst()) else { return nil }
        return now.addingTimeInterval(Double(sign == "-" ? -seconds : seconds))
    }

    /// `1d12h` in seconds; nil unless every amount has a unit and the total fits a century.
    static func offset(_ text: Substring) -> Int64? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        var total: Int64 = 0
        var digits = ""
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                guard digits.count <= 10 else { return nil }
            } else if let unit = units[character], let amount = Int64(digits) {
                total += amount * unit
                digits = ""
            } else {
                return nil
            }
        }
        guard digits.isEmpty, !text.isEmpty, total <= 100 * 366 * 86_400 else { return nil }
        return total
    }

    /// `resolve`, formatted as the sandbox stores dates.
    static func normalized(_ text: String?, now: Date) -> String? {
        text.flatMap { resolve($0, now: now) }.map(RFC3339.format)
    }
}
