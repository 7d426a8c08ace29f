/// One of the API's POST operations.
public struct DevRevOperation: Sendable, Hashable, CustomStringConvertible {
    /// e.g. "incidents.update"; the request goes to `POST /incidents.update`.
    public let name: String
    /// Whether repeating it after an unknown outcome (a 500, a timeout) is harmless.
    public let isIdempotent: Bool

    public init(name: String, isIdempotent: Bool) {
        self.name = name
        self.isIdempotent = isIdempotent
    }

    public static let createIncident = DevRevOperation(name: "incidents.create", isIdempotent: false)
    public static let getIncident = DevRevOperation(name: "incidents.get", isIdempotent: true)
    public static let listIncidents = DevRevOperation(name: "incidents.list", isIdempotent: true)
    public static let updateIncident = DevRevOperation(name: "incidents.update", isIdempotent: true)
    public static let deleteIncident = DevRevOperation(name: "incidents.delete", isIdempotent: true)
    public static let groupIncidents = DevRevOperation(name: "incidents.group", isIdempotent: true)

    public static let createTimelineEntry = DevRevOperation(name: "timeline-entries.create", isIdempotent: false)
    /// A create whose `external_ref` makes a repeat harmless: the server refuses a second entry
    /// with the same reference (409), so it may be retried like an update.
    public static let createTimelineEntryWithExternalRef = DevRevOperation(name: "timeline-entries.create", isIdempotent: true)
    public static let getTimelineEntry = DevRevOperation(name: "timeline-entries.get", isIdempotent: true)
    public static let listTimelineEntries = DevRevOperation(name: "timeline-entries.list", isIdempotent: true)
    public static let deleteTimelineEntry = DevRevOperation(name: "timeline-entries.delete", isIdempotent: true)

    /// Any operation by name (`works.update`, `tags.create`), for callers without a typed binding:
    /// reads, updates and deletes are safe to repeat; anything else (a create, an action such as
    /// `works.export`) is not. Nil when the name is not an operation (`group.verb`, letters, digits,
    /// `-` and `_`).
    public init?(named name: String) {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, name.utf8.count <= 128,
            parts.allSatisfy({ part in !part.isEmpty && part.utf8.allSatisfy { Self.nameBytes.contains($0) } })
        else { return nil }
        self.name = name
        isIdempotent = Self.isRead(name) || [".update", ".delete"].contains { name.hasSuffix($0) }
    }

    /// DevRev's reads whose names do not end in a read verb: the operations its public and beta
    /// OpenAPI documents (2025-10) also serve as GET, the API's mark of an operation that changes
    /// nothing. Every other GET operation ends in .get, .list, .count or .group.
    static let publishedReads: Set<String> = [
        "accounts.export", "airdrop.sync-units.history", "artifacts.locate", "auth-tokens.info", "conversations.export",
        "dev-users.self", "keyrings.authorize", "org-schedules.evaluate", "rev-users.scan", "search.core", "search.hybrid",
        "snap-ins.resources", "works.export",
    ]

    private static func isRead(_ name: String) -> Bool {
        [".get", ".list", ".count", ".group"].contains { name.hasSuffix($0) } || publishedReads.contains(name)
    }

    private static let nameBytes: Set<UInt8> = Set("abcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Reads: operations whose name ends in .get, .list, .count or .group, and the other operations
    /// DevRev publishes as reads (`dev-users.self`, `works.export`, `search.core`, ...). Everything
    /// else changes something and is journaled.
    public var isRead: Bool { Self.isRead(name) }

    public var description: String { name }
}
