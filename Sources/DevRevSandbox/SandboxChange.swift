import DevRevAPI

/// A write the sandbox committed, in the order it committed them: what a test compares with
/// what a run meant to do. Kept in memory for the sandbox's life; seeding records none.
public struct SandboxChange: Sendable {
    public enum Operation: String, Sendable {
        case create, update, delete, comment
        case deleteComment = "delete_comment"
    }

    public var operation: Operation
    /// The incident's display id.
    public var incident: String
    /// The incident before the write; nil for a create and for comments.
    public var before: Incident?
    /// The incident after the write; nil for a delete and for comments.
    public var after: Incident?
    /// The timeline entry a comment created or deleted.
    public var comment: JSONValue?
}
