import DevRevAPI
import Foundation
import Testing

/// `ResponseSchema` checks a parsed response against `ResponseShapes`, generated with the models
/// from the same schema, instead of decoding the model a second time. These tests hold the two to
/// the same verdicts: on the sandbox's real answers, and on every way of breaking one of their
/// fields (each member replaced by each kind of JSON value), the shapes accept a body exactly
/// when `JSONDecoder` decodes the response model from it.
@Suite("Response shapes agree with the response models")
struct ResponseShapeAgreementTests {
    @Test func everyResponseModelHasItsShapeWithTheSameFields() {
        let shapes = Dictionary(uniqueKeysWithValues: ResponseShapes.objects.map { ($0.name, Set($0.fields.keys)) })
        for model in GeneratedModels.responseModels {
            #expect(shapes[model.schemaName] == Set(model.schemaFields), "\(model.schemaName)")
        }
    }

    /// The values a field is replaced with: one of each JSON kind (no float with an integral
    /// value: whether `5.0` decodes as an integer is the decoder's own choice).
    static let replacements: [JSONValue] = [
        .null, .bool(true), .integer(7), .integer(Int64(Int32.max) + 1), .number(1.5), .string("x"), .array([]), .array([.null]),
        .array([.string("x")]), .object([:]),
    ]

    /// Every member of `value` (at any depth) replaced by each of `replacements`, one at a time.
    static func variants(of value: JSONValue) -> [JSONValue] {
        var out: [JSONValue] = []
        switch value {
        case .object(let members):
            for (key, member) in members {
                for replacement in replacements { var copy = members; copy[key] = replacement; out.append(.object(copy)) }
                for inner in variants(of: member) { var copy = members; copy[key] = inner; out.append(.object(copy)) }
            }
        case .array(let items) where !items.isEmpty:
            // The first item stands for the rest (each item has the same shape).
            for replacement in replacements { var copy = items; copy[0] = replacement; out.append(.array(copy)) }
            for inner in variants(of: items[0]) { var copy = items; copy[0] = inner; out.append(.array(copy)) }
        default:
            break
        }
        return out
    }

    private func agree<Model: Decodable>(_ body: JSONValue, _ model: Model.Type, _ operation: DevRevOperation) throws -> Bool {
        let bytes = try JSONWriter.bytes(body)
        let decodes = (try? JSONDecoder().decode(model, from: Data(bytes))) != nil
        let accepted = ResponseSchema.problem(in: body, of: operation) == nil
        if decodes != accepted {
            Issue.record("\(operation.name): the model \(decodes ? "decodes" : "refuses") and the shapes \(accepted ? "accept" : "refuse") \(String(decoding: bytes, as: UTF8.self))")
        }
        return decodes == accepted
    }

    @Test func theShapesAcceptExactlyWhatTheModelsDecode() async throws {
        try await withSandbox { client, _ in
            let get = try JSONParser().parse(try await client.send(.getIncident, body: Array(#"{"id":"INC-1"}"#.utf8)).body)
            let list = try JSONParser().parse(try await client.send(.listIncidents, body: Array(#"{"limit":2}"#.utf8)).body)
            let group = try JSONParser().parse(try await client.send(.groupIncidents, body: Array(#"{"group_by":"severity","limit":2}"#.utf8)).body)
            var checked = 0
            for (body, model, operation) in [
                (get, IncidentsGetResponse.self as any Decodable.Type, DevRevOperation.getIncident),
                (list, IncidentsListResponse.self, .listIncidents), (group, IncidentsGroupResponse.self, .groupIncidents),
            ] {
                #expect(ResponseSchema.problem(in: body, of: operation) == nil, "the sandbox's own answer conforms")
                for variant in [body] + Self.variants(of: body) {
                    _ = try agree(variant, model, operation)
                    checked += 1
                }
            }
            #expect(checked > 1000, "\(checked) bodies")
        }
    }
}
