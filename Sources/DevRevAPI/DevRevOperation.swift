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

    /// Reads: operations whose name ends in .get, .list, .count or .group. Everything else changes
    /// something and is journaled.
    public var isRead: Bool {
        [".get", ".list", ".count", ".group"].contains { name.hasSuffix($0) }
    }

    public var description: String { name }
}
