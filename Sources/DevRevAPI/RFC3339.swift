import Foundation

/// RFC 3339 date-times (`2023-01-01T12:00:00.000Z`), with or without fractional seconds, in UTC
/// or with an offset: read strictly, by hand, and written in DevRev's own form.
public enum RFC3339 {
    /// RFC 3339's `date-time` exactly (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, years 0001 to
    /// 9999, real calendar days, hours to 23, offsets to ±23:59), nil for anything else: no
    /// lenient fallback, so what passes here is what DevRev accepts.
    public static func parse(_ text: String) -> Date? {
        var text = text
        text.makeContiguousUTF8()
        return text.utf8.withContiguousStorageIfAvailable { parse($0) } ?? nil
    }

    /// The Unix seconds RFC 3339 can write: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    public static let unixSecondsRange: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    /// The same instant in DevRev's form, in UTC with milliseconds (`2026-11-26T12:00:00.000Z`),
    /// for a valid date-time; nil otherwise. What the binding sends for a date a script gives as text.
    public static func normalize(_ text: String) -> String? {
        parse(text).map(format)
    }

    private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
        guard b.count >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<start + count {
                let digit = Int(b[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D, let day = digits(8, 2),
            b[10] == 0x54 || b[10] == 0x74, let hour = digits(11, 2), b[13] == 0x3A, let minute = digits(14, 2), b[16] == 0x3A,
            let second = digits(17, 2)
        else { return nil }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23, minute <= 59, second <= 59 else {
            return nil
        }
        var index = 19
        var fraction = 0.0
        if b[index] == 0x2E {
            index += 1
            var scale = 0.1
            let start = index
            while index < b.count, (0x30...0x39).contains(b[index]) {
                fraction += Double(b[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < b.count else { return nil }
        var offset = 0
        switch b[index] {
        case 0x5A, 0x7A:
            index += 1
        case 0x2B, 0x2D:
            guard index + 6 == b.count, let hours = digits(index + 1, 2), b[index + 3] == 0x3A, let minutes = digits(index + 4, 2),
                hours <= 23, minutes <= 59
            else { return nil }
            offset = (hours * 60 + minutes) * 60 * (b[index] == 0x2D ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == b.count else { return nil }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// With milliseconds: `2026-11-26T12:00:00.000Z`. Proleptic Gregorian, like the parser.
    public static func format(_ date: Date) -> String {
        let (seconds, milliseconds) = instant(date)
        return text(seconds, milliseconds: milliseconds)
    }

    /// Whole seconds: `2026-11-26T12:00:00Z`.
    public static func format(unixSeconds seconds: Int64) -> String {
        text(seconds, milliseconds: nil)
    }

    /// `format(unixSeconds:)`'s text, appended to `output` as UTF-8.
    public static func write(unixSeconds seconds: Int64, into output: inout [UInt8]) {
        write(seconds, milliseconds: nil, into: &output)
    }

    /// `normalize` of text given as UTF-8: its normalized form appended to `output`, or false (and
    /// nothing appended) when it is no date-time.
    public static func writeNormalized(utf8 text: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Bool {
        guard let date = parse(text.assumingMemoryBound(to: UInt8.self)) else { return false }
        let (seconds, milliseconds) = instant(date)
        write(seconds, milliseconds: milliseconds, into: &output)
        return true
    }

    /// What `format(_:)` writes of `date`: its Unix seconds and milliseconds (nil past the years
    /// a Double's milliseconds can hold, clamped to whole seconds at the edge).
    private static func instant(_ date: Date) -> (seconds: Int64, milliseconds: Int?) {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard milliseconds.magnitude < 1e17 else { return (milliseconds < 0 ? -253_402_300_800 : 253_402_300_799, nil) }
        let total = Int64(milliseconds)
        return (total.floorDivided(by: 1000), Int(total.floorModulo(1000)))
    }

    private struct Civil {
        var year: Int
        var month: Int
        var day: Int
        var second: Int
    }

    /// The calendar day and second of the day of Unix seconds (Howard Hinnant's civil_from_days).
    private static func civil(_ seconds: Int64) -> Civil {
        let days = seconds.floorDivided(by: 86_400)
        let second = Int(seconds.floorModulo(86_400))
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        return Civil(year: year, month: month, day: day, second: second)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` of Unix seconds, written digit by digit. A year outside 0 to
    /// 9999 is written with as many digits as it needs.
    private static func text(_ seconds: Int64, milliseconds: Int?) -> String {
        let day = civil(seconds)
        guard (0...9999).contains(day.year) else { return wideText(day, milliseconds: milliseconds) }
        return String(unsafeUninitializedCapacity: 24) { put(day, milliseconds: milliseconds, into: $0) }
    }

    private static func write(_ seconds: Int64, milliseconds: Int?, into output: inout [UInt8]) {
        let day = civil(seconds)
        guard (0...9999).contains(day.year) else {
            output += wideText(day, milliseconds: milliseconds).utf8
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            let count = put(day, milliseconds: milliseconds, into: buffer)
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// A year of four digits into `buffer` (24 bytes at least); the bytes written.
    private static func put(_ day: Civil, milliseconds: Int?, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var index = 0
        func put(_ value: Int, _ width: Int) {
            var rest = value
            for position in stride(from: index + width - 1, through: index, by: -1) {
                buffer[position] = UInt8(truncatingIfNeeded: 48 + rest % 10)
                rest /= 10
            }
            index += width
        }
        func put(_ character: Unicode.Scalar) {
            buffer[index] = UInt8(ascii: character)
            index += 1
        }
        let second = day.second
        put(day.year, 4); put("-"); put(day.month, 2); put("-"); put(day.day, 2); put("T")
        put(second / 3600, 2); put(":"); put(second / 60 % 60, 2); put(":"); put(second % 60, 2)
        if let milliseconds { put("."); put(milliseconds, 3) }
        put("Z")
        return index
    }

    private static func wideText(_ day: Civil, milliseconds: Int?) -> String {
        let second = day.second
        var text = "\(pad(day.year, 4))-\(pad(day.month, 2))-\(pad(day.day, 2))T\(pad(second / 3600, 2)):\(pad(second / 60 % 60, 2)):\(pad(second % 60, 2))"
        if let milliseconds { text += "." + pad(milliseconds, 3) }
        return text + "Z"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value.magnitude)
        return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    fileprivate func floorModulo(_ divisor: Int64) -> Int64 {
        self - floorDivided(by: divisor) * divisor
    }
}
