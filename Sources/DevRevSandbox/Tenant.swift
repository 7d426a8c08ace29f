import DevRevAPI

/// The objects incidents refer to: dev users, parts, tags, stages. A seed file (`--seed FILE`)
/// holds a tenant and its incidents; without one the sandbox serves `Tenant.demo`.
public struct Tenant: Codable, Sendable, Hashable {
    public struct User: Codable, Sendable, Hashable {
        public var id: String
        public var displayId: String
        public var displayName: String
        public var fullName: String?
        public var email: String?

        enum CodingKeys: String, CodingKey {
            case id, email
            case displayId = "display_id"
            case displayName = "display_name"
            case fullName = "full_name"
        }
    }

    public struct Part: Codable, Sendable, Hashable {
        public var id: String
        public var displayId: String
        public var name: String
        /// product, capability, feature, enhancement, ...
        public var type: String
        /// Owners (user references); the tenant's current user when absent.
        public var ownedBy: [String]?

        enum CodingKeys: String, CodingKey {
            case id, name, type
            case displayId = "display_id"
            case ownedBy = "owned_by"
        }
    }

    public struct Tag: Codable, Sendable, Hashable {
        public var id: String
        public var displayId: String
        public var name: String

        enum CodingKeys: String, CodingKey {
            case id, name
            case displayId = "display_id"
        }
    }

    public struct StageDefinition: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        /// open, in_progress or closed; moving to a closed stage sets actual_close_date.
        public var state: String
    }

    /// An incident of a seed file. Dates are RFC 3339; references use display ids or ids.
    public struct SeedIncident: Codable, Sendable, Hashable {
        public var title: String
        public var body: String?
        public var severity: Int64?
        public var stage: String?
        public var ownedBy: [String]?
        public var createdBy: String?
        public var appliesToParts: [String]?
        public var tags: [String]?
        public var createdDate: String?
        public var identifiedDate: String?
        public var acknowledgedDate: String?
        public var mitigatedDate: String?
        public var targetCloseDate: String?

        public init(
            title: String, body: String? = nil, severity: Int64? = nil, stage: String? = nil, ownedBy: [String]? = nil,
            createdBy: String? = nil, appliesToParts: [String]? = nil, tags: [String]? = nil, createdDate: String? = nil,
            identifiedDate: String? = nil, acknowledgedDate: String? = nil, mitigatedDate: String? = nil, targetCloseDate: String? = nil
        ) {
            self.title = title
            self.body = body
            self.severity = severity
            self.stage = stage
            self.ownedBy = ownedBy
            self.createdBy = createdBy
            self.appliesToParts = appliesToParts
            self.tags = tags
            self.createdDate = createdDate
            self.identifiedDate = identifiedDate
            self.acknowledgedDate = acknowledgedDate
            self.mitigatedDate = mitigatedDate
            self.targetCloseDate = targetCloseDate
        }

        enum CodingKeys: String, CodingKey {
            case title, body, severity, stage, tags
            case ownedBy = "owned_by"
            case createdBy = "created_by"
            case appliesToParts = "applies_to_parts"
            case createdDate = "created_date"
            case identifiedDate = "identified_date"
            case acknowledgedDate = "acknowledged_date"
            case mitigatedDate = "mitigated_date"
            case targetCloseDate = "target_close_date"
        }
    }

    public var users: [User]
    public var parts: [Part]
    public var tags: [Tag]
    public var stages: [StageDefinition]
    /// The user the API token belongs to: author of every change.
    public var currentUser: String
    public var incidents: [SeedIncident]

    enum CodingKeys: String, CodingKey {
        case users, parts, tags, stages, incidents
        case currentUser = "current_user"
    }

    /// Severity ids and labels: 0 is Sev0 (the worst) ... 3 is Sev3.
    public static let severities: [(id: Int64, label: String)] = [(0, "Sev0"), (1, "Sev1"), (2, "Sev2"), (3, "Sev3")]

    func user(_ reference: String) -> User? {
        users.first { $0.id == reference || $0.displayId == reference }
    }

    func part(_ reference: String) -> Part? {
        parts.first { $0.id == reference || $0.displayId == reference }
    }

    func tag(_ reference: String) -> Tag? {
        tags.first { $0.id == reference || $0.displayId == reference || $0.name == reference }
    }

    func stage(_ reference: String) -> StageDefinition? {
        stages.first { $0.id == reference || $0.name == reference }
    }

    /// Checks that references resolve and names are unique.
    func validate() throws(SandboxSetupError) {
        guard user(currentUser) != nil else { throw .invalidSeed("current_user '\(currentUser)' is not one of the users") }
        guard !stages.isEmpty else { throw .invalidSeed("a tenant needs at least one stage") }
        for part in parts {
            for owner in part.ownedBy ?? [] where user(owner) == nil { throw .invalidSeed("part \(part.displayId): no user '\(owner)'") }
        }
        for stage in stages where !["open", "in_progress", "closed"].contains(stage.state) {
            throw .invalidSeed("stage '\(stage.name)' has state '\(stage.state)'; use open, in_progress or closed")
        }
        for (index, incident) in incidents.enumerated() {
            let place = "incidents[\(index + 1)]"
            for owner in incident.ownedBy ?? [] where user(owner) == nil { throw .invalidSeed("\(place).owned_by: no user '\(owner)'") }
            for part in incident.appliesToParts ?? [] where self.part(part) == nil { throw .invalidSeed("\(place).applies_to_parts: no part '\(part)'") }
            for tag in incident.tags ?? [] where self.tag(tag) == nil { throw .invalidSeed("\(place).tags: no tag '\(tag)'") }
            if let stage = incident.stage, self.stage(stage) == nil { throw .invalidSeed("\(place).stage: no stage '\(stage)'") }
            if let severity = incident.severity, !Self.severities.contains(where: { $0.id == severity }) {
                throw .invalidSeed("\(place).severity: \(severity) is not 0 to 3")
            }
            for date in [incident.createdDate, incident.identifiedDate, incident.acknowledgedDate, incident.mitigatedDate, incident.targetCloseDate] {
                if let date, RFC3339.parse(date) == nil { throw .invalidSeed("\(place): '\(date)' is not an RFC 3339 date-time") }
            }
        }
    }
}

/// Why a sandbox could not start.
public enum SandboxSetupError: Error, Sendable, CustomStringConvertible {
    case invalidSeed(String)
    case unreadableSeed(path: String, reason: String)
    case database(String)
    case bind(String)

    public var description: String {
        switch self {
        case .invalidSeed(let reason): "invalid seed: \(reason)"
        case .unreadableSeed(let path, let reason): "cannot read the seed file \(path): \(reason)"
        case .database(let reason): "sandbox database: \(reason)"
        case .bind(let reason): "cannot listen: \(reason)"
        }
    }
}
