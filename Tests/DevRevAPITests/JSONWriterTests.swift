import DevRevAPI
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
