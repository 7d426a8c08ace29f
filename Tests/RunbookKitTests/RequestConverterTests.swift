import DevRevAPI
import LuaRuntime
@testable import RunbookKit
import Testing

@Suite("Lua tables to requests")
struct RequestConverterTests {
    private let update = RequestConverter(function: "incident.update")

    private func convert(_ value: LuaValue, shape: ObjectShape = RequestShapes.incidentsUpdateRequest) throws -> JSONValue {
        try update.convert(value, shape: shape)
    }

    private func failure(_ value: LuaValue, shape: ObjectShape = RequestShapes.incidentsUpdateRequest) -> ScriptFailure? {
        do {
            _ = try update.convert(value, shape: shape)
            return nil
        } catch {
            return error
        }
    }

    @Test func plainArraysBecomeSetWrappersAndStringsBecomeStages() throws {
        let body = try convert(.object([
            "id": "INC-42", "owned_by": ["DEVU-7"], "applies_to_parts": .emptyTable, "stage": "don:stage/3",
            "tags": [.object(["tag_id": "TAG-1"])],
        ]))
        #expect(body == .object([
            "id": "INC-42", "owned_by": .object(["set": .array(["DEVU-7"])]), "applies_to_parts": .object(["set": .array([])]),
            "stage": .object(["stage": "don:stage/3"]), "tags": .object(["set": .array([.object(["tag_id": "TAG-1"])])]),
        ]))
        // The API's own shapes pass unchanged.
        let explicit = try convert(.object(["id": "INC-42", "owned_by": .object(["set": ["DEVU-7"]]), "stage": .object(["stage": "s", "notes": "n"])]))
        #expect(explicit == .object(["id": "INC-42", "owned_by": .object(["set": .array(["DEVU-7"])]), "stage": .object(["stage": "s", "notes": "n"])]))
    }

    @Test func dateTimesFromUnixSecondsOrRFC3339() throws {
        let fromSeconds = try convert(.object(["id": "I", "target_close_date": .integer(1_795_694_400)]))
        #expect(fromSeconds == .object(["id": "I", "target_close_date": "2026-11-26T12:00:00Z"]))
        let fromFloat = try convert(.object(["id": "I", "target_close_date": .number(1_795_694_400)]))
        #expect(fromFloat == fromSeconds)
        let fromString = try convert(.object(["id": "I", "mitigated_date": "2026-11-26T12:00:00.000Z"]))
        #expect(fromString == .object(["id": "I", "mitigated_date": "2026-11-26T12:00:00.000Z"]))
        let withOffset = try convert(.object(["id": "I", "mitigated_date": "2026-11-26t14:00:00+02:00"]))
        #expect(withOffset == .object(["id": "I", "mitigated_date": "2026-11-26T12:00:00.000Z"]), "sent in DevRev's form, in UTC")
        #expect(failure(.object(["id": "I", "target_close_date": "tomorrow"]))?.field == "target_close_date")
        #expect(failure(.object(["id": "I", "target_close_date": "2026-02-30T00:00:00Z"]))?.field == "target_close_date")
        #expect(failure(.object(["id": "I", "target_close_date": "2026-11-26T24:00:00Z"]))?.field == "target_close_date")
        #expect(failure(.object(["id": "I", "target_close_date": .number(1.5)]))?.message.contains("whole Unix seconds") == true)
        #expect(failure(.object(["id": "I", "target_close_date": true]))?.field == "target_close_date")
    }

    @Test func integersIntegralFloatsAndRanges() throws {
        #expect(try convert(.object(["id": "I", "severity": .number(1.0)])) == .object(["id": "I", "severity": .integer(1)]))
        #expect(failure(.object(["id": "I", "severity": .number(1.5)]))?.message == "incident.update: severity: expected an integer, got number(1.5)")
        #expect(failure(.object(["id": "I", "severity": .number(1e19)]))?.message.contains("out of the int64 range") == true)
        #expect(failure(.object(["id": "I", "severity": "1"]))?.message == "incident.update: severity: expected integer, got string")
        let list = RequestConverter(function: "incident.list")
        #expect(throws: ScriptFailure.self) { try list.convert(.object(["limit": .integer(1 << 40)]), shape: RequestShapes.incidentsListRequest) }
    }

    @Test func unknownFieldsSuggestTheNearestName() {
        let typo = failure(.object(["id": "I", "titel": "x"]))
        #expect(typo?.type == "validation")
        #expect(typo?.field == "titel")
        #expect(typo?.message == "unknown field 'titel' in incident.update; did you mean 'title'?")
        let nested = failure(.object(["id": "I", "tags": .object(["set": [.object(["tagid": "T"])]])]))
        #expect(nested?.field == "tags.set[1].tagid")
        #expect(nested?.message.contains("did you mean 'tag_id'?") == true)
        let far = failure(.object(["id": "I", "zzzzzzzz": 1]))
        #expect(far?.message == "unknown field 'zzzzzzzz' in incident.update")
    }

    @Test func errorsNameTheFullPath() {
        let tag = failure(.object(["id": "I", "tags": .object(["set": [.object(["tag_id": "A"]), .object(["tag_id": 5])]])]))
        #expect(tag?.field == "tags.set[2].tag_id")
        #expect(tag?.message == "incident.update: tags.set[2].tag_id: expected string, got number")
        #expect(failure(.object(["severity": 1]))?.field == "id")
        #expect(failure(.object(["id": "I", "owned_by": .object(["x": "y"])]))?.field == "owned_by.x")
        #expect(failure(.object(["id": "I", "stage_validation_options": ["nope"]]))?.message.contains("'allow_invalid_transition'") == true)
        #expect(failure(.object(["id": "I", "title": .null]))?.message.contains("json.null is not accepted here") == true)
        #expect(failure(.object(["id": .string(LuaString(bytes: [0xff]))]))?.message.contains("not valid UTF-8") == true)
        #expect(failure(["a"])?.message.contains("got an array") == true)
    }

    @Test func dateFiltersGetTheirType() throws {
        let list = RequestConverter(function: "incident.list")
        let body = try list.convert(.object([
            "created_date": .object(["after": .integer(0)]), "mitigated_date": .object(["preset_type": "last_n_days", "days": 3]),
        ]), shape: RequestShapes.incidentsListRequest)
        #expect(body == .object([
            "created_date": .object(["after": "1970-01-01T00:00:00Z", "type": "range"]),
            "mitigated_date": .object(["preset_type": "last_n_days", "days": 3, "type": "preset"]),
        ]))
    }

    @Test func freeFormCustomFieldsKeepTheirValues() throws {
        let body = try convert(.object(["id": "I", "custom_fields": .object(["tnt__n": 3, "tnt__list": [1, 2], "tnt__null": .null])]))
        #expect(body == .object(["id": "I", "custom_fields": .object(["tnt__n": 3, "tnt__list": .array([1, 2]), "tnt__null": .null])]))
    }
}

@Suite("Errors, digests and JSON")
struct BindingSupportTests {
    @Test func errorTablesAndTheirExitCodes() {
        let failure = ScriptFailure(type: "not_found", status: 404, message: "incident INC-42 does not exist")
        #expect(failure.description == "not_found (404): incident INC-42 does not exist")
        #expect(failure.luaErrorValue == .object(["type": "not_found", "status": 404, "message": "incident INC-42 does not exist"]))
        #expect(ScriptFailure.exitStatus(type: "validation", status: nil) == .dataError)
        #expect(ScriptFailure.exitStatus(type: "unauthenticated", status: 401) == .notAllowed)
        #expect(ScriptFailure.exitStatus(type: "forbidden", status: 403) == .notAllowed)
        #expect(ScriptFailure.exitStatus(type: "too_many_requests", status: 429) == .temporaryFailure)
        #expect(ScriptFailure.exitStatus(type: "service_unavailable", status: 503) == .unavailable)
        #expect(ScriptFailure.exitStatus(type: "connection_refused", status: nil) == .unavailable)
        #expect(ScriptFailure.exitStatus(type: "configuration", status: nil) == .configuration)
        #expect(ScriptFailure.exitStatus(type: "not_found", status: 404) == .scriptError)
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1000)).count == 64)
    }

    @Test func jsonKeepsIntegersNullAndArrays() throws {
        let value: LuaValue = .object(["n": 1, "f": 1.5, "null": .null, "empty": .array([]), "obj": .emptyTable, "s": "é"])
        let bytes = try LuaJSON.encode(try LuaJSON.json(from: value))
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"empty":[],"f":1.5,"n":1,"null":null,"obj":{},"s":"é"}"#)
        #expect(LuaJSON.lua(from: try LuaJSON.decode(bytes)) == value)
        #expect(throws: LuaJSON.Failure.self) { try LuaJSON.json(from: .object(["bad": .string(LuaString(bytes: [0xC3]))])) }
    }
}
