import Foundation

/// The run's idea of now (frozen by `--now`) and RFC 3339 conversions.
struct RunClock: Sendable {
    /// Unix seconds `runbook.now()` returns; nil follows the system clock.
    let frozen: Int64?

    func now() -> Int64 { frozen ?? Int64(Date().timeIntervalSince1970.rounded(.down)) }

    static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static func rfc3339(seconds: Int64) -> String {
        Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(Date.ISO8601FormatStyle())
    }
}
