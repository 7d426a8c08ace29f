@testable import DevRevAPI
import Foundation
import Testing

@Suite("JSON writer")
struct JSONWriterTests {
    private func encoderBytes(_ value: JSONValue) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static let samples: [JSONValue] = [
        .object([
            "id": "INC-42", "severity": 1, "owned_by": .object(["set": .array(["DEVU-7"])]),
            "stage": .object(["stage": "acknowledged", "notes": "escalated: \"unacknowledged\"\n\tfor 30 min \\ ok / é ☃ 𝄞"]),
            "target_close_date": "2026-11-27T12:00:00Z", "custom_fields": .object(["ratio": .number(0.25), "flag": true, "none": .null]),
            "tags": .object(["set": .array([.object(["tag_id": "database", "value": "db-3"])])]),
            "body": .string("control \u{01}\u{1F}\u{08}\u{0C}\r end"), "empty": .object([:]), "list": .array([]),
            "numbers": .array([0, -1, .integer(Int64.max), .integer(Int64.min), .number(2.5), .number(-0.5), .number(1e-7)]),
        ]),
        .array([.string(""), .bool(false), .null]),
        .string("plain"),
    ]

    @Test(arguments: samples)
    func writesWhatJSONEncoderWrites(_ value: JSONValue) throws {
        let written = try JSONWriter.bytes(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(written)) == value)
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: try encoderBytes(value), as: UTF8.self))
    }

    @Test func integralDoublesAreWrittenAsJSONEncoderWritesThem() throws {
        for number in [2.0, -3.0, 0.0, 1e14] {
            #expect(try JSONWriter.bytes(.number(number)) == encoderBytes(.number(number)), "\(number)")
        }
    }

    @Test func refusesNonFiniteNumbers() {
        #expect(throws: JSONWriter.NonFiniteNumber.self) { try JSONWriter.bytes(.array([.number(.infinity)])) }
        #expect(throws: JSONWriter.NonFiniteNumber.self) { try JSONWriter.bytes(.number(.nan)) }
    }
}

@Suite("RFC 3339")
struct RFC3339Tests {
    @Test(arguments: [
        "2026-11-26T12:00:00Z", "2026-11-26T12:00:00.000Z", "2026-11-26t12:00:00.123456z", "2024-02-29T23:59:59+05:30",
        "1969-12-31T23:59:59-08:00", "2000-01-01T00:00:00.5Z", "2100-12-31T10:11:12Z",
    ])
    func theHandParserAgreesWithFoundation(_ text: String) throws {
        let strict = try #require(RFC3339.parse(text))
        let style = text.contains(".") ? Date.ISO8601FormatStyle(includingFractionalSeconds: true) : Date.ISO8601FormatStyle()
        let foundation = try style.parse(text.uppercased())
        #expect(abs(strict.timeIntervalSince(foundation)) < 0.001, "\(text)")
    }

    @Test(arguments: [
        "2026-11-26", "2026-11-26T12:00:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-11-26T24:00:00Z",
        "2026-11-26T12:60:00Z", "2026-11-26T12:00:00.Z", "2026-11-26T12:00:00+0530", "tomorrow", "2026-11-26T12:00:00Zjunk",
        // Foundation's lenient parsers took these; DevRev does not.
        "2026-02-30T00:00:00Z", "2026-11-26T12:00:00+25:00", "2026-11-26 12:00:00Z", "0000-01-01T00:00:00Z",
        "2026-11-26T12:00:00Z\u{0}junk", "20261126T120000Z", "+2026-11-26T12:00:00Z",
    ])
    func theHandParserRefusesWhatIsNotADateTime(_ text: String) {
        #expect(RFC3339.parse(text) == nil)
        #expect(RFC3339.normalize(text) == nil)
    }

    @Test func normalizedDatesAreUTCWithMilliseconds() {
        #expect(RFC3339.normalize("2026-11-26t14:30:00+02:30") == "2026-11-26T12:00:00.000Z")
        #expect(RFC3339.normalize("2026-11-26T12:00:00.25Z") == "2026-11-26T12:00:00.250Z")
        #expect(RFC3339.normalize("0001-01-01T00:00:00Z") == "0001-01-01T00:00:00.000Z", "proleptic Gregorian, not Julian")
        #expect(RFC3339.normalize("1582-10-10T00:00:00Z") == "1582-10-10T00:00:00.000Z")
        #expect(RFC3339.normalize("9999-12-31T23:59:59.999Z") == "9999-12-31T23:59:59.999Z")
        // An offset can carry the first day of year 1 back into year 0, which is written as it is.
        #expect(RFC3339.normalize("0001-01-01T00:00:00+01:00") == "0000-12-31T23:00:00.000Z")
    }

    @Test func formattingAgreesWithFoundationAcrossTheYears1600To9999() {
        var seconds: Int64 = -11_676_096_000  // 1600-01-01
        while seconds < RFC3339.unixSecondsRange.upperBound {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds) + 0.125)
            #expect(RFC3339.format(date) == date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            #expect(RFC3339.parse(RFC3339.format(unixSeconds: seconds)) == Date(timeIntervalSince1970: TimeInterval(seconds)))
            seconds += 527_040_013  // about 16.7 years and 13 s, so every field moves
        }
    }

    @Test func formattingAgreesWithFoundationInTheGregorianEra() {
        for seconds: Int64 in [0, -1, 86_399, 951_782_400, 1_795_694_400, 4_102_444_799, -2_208_988_800] {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds) + 0.25)
            #expect(RFC3339.format(date) == date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            #expect(RFC3339.format(unixSeconds: seconds) == Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(Date.ISO8601FormatStyle()))
        }
    }
}

@Suite("Byte scans")
struct ByteScanTests {
    /// Every byte value at every position of texts of 0 to 17 bytes (the word loop and the
    /// tail), beside neighbours that are the nearest bytes needing nothing; and integers against
    /// `String(_:)`.
    @Test func theWordAtATimeScansAnswerAsTheBytewiseOnesDo() {
        var wrong: [[UInt8]] = []
        var bytes: [UInt8] = []
        for length in 0...17 {
            for position in 0..<max(1, length) {
                for byte in UInt8.min...UInt8.max {
                    for neighbour: UInt8 in [0x20, 0x23, 0x5D, 0x7F] {
                        bytes.removeAll(keepingCapacity: true)
                        bytes.append(contentsOf: repeatElement(neighbour, count: length))
                        if length > 0 { bytes[position] = byte }
                        let escape = byte < 0x20 || byte == 0x22 || byte == 0x5C
                        let right = bytes.withUnsafeBytes { raw in
                            ByteScan.needsJSONEscape(raw) == (length > 0 && escape) && ByteScan.isASCII(raw) == (length == 0 || byte < 0x80)
                        }
                        if !right { wrong.append(bytes) }
                    }
                }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        for number: Int64 in [0, 1, -1, 9, 10, -10, 99, 100, 1_000_000_007, .max, .min, .max - 1, .min + 1] {
            var output: [UInt8] = []
            JSONWriter.write(integer: number, into: &output)
            #expect(String(decoding: output, as: UTF8.self) == String(number))
        }
    }
}
