import Foundation

/// Holds a successful response to the schema of its operation: every field the schema describes,
/// at every depth, must have its type (unknown fields are allowed, as DevRev adds fields). For
/// the operations of `incidents-openapi.yaml`; others have no published response schema here.
public enum ResponseSchema {
    /// Nil when `body` matches the response schema of `operation` (or it has none); else where
    /// and why it does not: `incident.stage.name: expected String`.
    public static func problem(in body: [UInt8], of operation: DevRevOperation) -> String? {
        do {
            switch operation.name {
            case DevRevOperation.createIncident.name: _ = try decode(IncidentsCreateResponse.self, body)
            case DevRevOperation.getIncident.name: _ = try decode(IncidentsGetResponse.self, body)
            case DevRevOperation.updateIncident.name: _ = try decode(IncidentsUpdateResponse.self, body)
            case DevRevOperation.listIncidents.name: _ = try decode(IncidentsListResponse.self, body)
            case DevRevOperation.groupIncidents.name: _ = try decode(IncidentsGroupResponse.self, body)
            case DevRevOperation.deleteIncident.name: _ = try decode(IncidentsDeleteResponse.self, body)
            default: return nil
            }
            return nil
        } catch {
            return DecodingErrorText.describe(error)
        }
    }

    private static func decode<Response: Decodable>(_ type: Response.Type, _ body: [UInt8]) throws -> Response {
        try JSONDecoder().decode(type, from: Data(body))
    }
}
