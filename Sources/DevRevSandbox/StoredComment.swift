import DevRevAPI
import Foundation

/// A timeline comment as the sandbox keeps it: the entry as served, and what lookups need.
struct StoredComment: Codable, Sendable {
    var id: String
    /// The incident's id.
    var object: String
    var objectDisplayID: String
    var externalRef: String?
    var labels: [String]
    var visibility: String
    /// After this the entry is gone from every answer (DevRev deletes ephemeral entries).
    var expiresAt: Date?
    /// The `timeline_comment` as `timeline-entries.get` returns it.
    var entry: JSONValue

    enum CodingKeys: String, CodingKey {
        case id, object, labels, visibility, entry
        case objectDisplayID = "object_display_id"
        case externalRef = "external_ref"
        case expiresAt = "expires_at"
    }

    /// A comment on `incident` as DevRev serves it, numbered `seq`.
    static func make(
        seq: Int64, incident: (id: String, displayID: String), body: String, author: JSONValue, created: String,
        labels: [String], externalRef: String?, visibility: String, expiresAt: Date?
    ) -> StoredComment {
        let id = "\(incident.id):comment/\(seq)"
        var entry: [String: JSONValue] = [
            "type": "timeline_comment", "id": .string(id), "display_id": .string("COMMENT-\(seq)"),
            "object": .string(incident.id), "object_display_id": .string(incident.displayID), "object_type": "incident",
            "body": .string(body), "body_type": "text", "visibility": .string(visibility),
            "created_by": author, "created_date": .string(created), "modified_by": author, "modified_date": .string(created),
        ]
        if !labels.isEmpty { entry["labels"] = .array(labels.map { .string($0) }) }
        if let externalRef { entry["external_ref"] = .string(externalRef) }
        return StoredComment(
            id: id, object: incident.id, objectDisplayID: incident.displayID, externalRef: externalRef, labels: labels,
            visibility: visibility, expiresAt: expiresAt, entry: .object(entry))
    }

    func isLive(at now: Date) -> Bool {
        expiresAt.map { $0 > now } ?? true
    }
}
