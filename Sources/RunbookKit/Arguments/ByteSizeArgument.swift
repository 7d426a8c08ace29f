/// Parses byte sizes: `256M`, `256MiB`, `1G`, `512k`, or a bare number of bytes. Units are binary.
public enum ByteSizeArgument {
    public struct Invalid: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "invalid size '\(text)': use a number with a unit, e.g. 64M, 512MiB, 1G"
        }
    }

    public static func parse(_ text: String) throws(Invalid) -> Int {
        let trimmed = text.trimmingWhitespace()
        let digits = trimmed.prefix { $0.isNumber }
        guard !digits.isEmpty, let value = Int(digits) else { throw Invalid(text: text) }
        let unit = trimmed.dropFirst(digits.count).lowercased()
        let scale: Int
        switch unit {
        case "", "b": scale = 1
        case "k", "kb", "kib": scale = 1 << 10
        case "m", "mb", "mib": scale = 1 << 20
        case "g", "gb", "gib": scale = 1 << 30
        default: throw Invalid(text: text)
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
        guard !overflow, bytes > 0 else { throw Invalid(text: text) }
        return bytes
    }

    /// A size as operators read it: `256MiB`, `1.5GiB`, `900KiB`, `12B`.
    public static func format(_ bytes: Int) -> String {
        let units: [(Int, String)] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (scale, name) in units where bytes >= scale {
            if bytes % scale == 0 { return "\(bytes / scale)\(name)" }
            // bytes / scale first: no overflow, whatever the size.
            let tenths = bytes / scale * 10 + ((bytes % scale) * 10 + scale / 2) / scale
            return "\(tenths / 10).\(tenths % 10)\(name)"
        }
        return "\(bytes)B"
    }
}
