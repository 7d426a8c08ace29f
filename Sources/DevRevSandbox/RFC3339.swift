import Foundation

/// RFC 3339 date-times as DevRev writes them: `2023-01-01T12:00:00.000Z`.
enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let whole = Date.ISO8601FormatStyle()
        return (try? fractional.parse(text)) ?? (try? whole.parse(text)) ?? offsetDate(text)
    }

    /// Dates with a numeric offset (+02:00), which the styles above do not read.
    private static func offsetDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
