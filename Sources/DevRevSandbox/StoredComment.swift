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

    func isLive(at now: Date) -> Bool {
        expiresAt.map { $0 > now } ?? true
    }
}
