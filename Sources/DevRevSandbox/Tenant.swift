import DevRevAPI
import Foundation

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

    /// A comment on a seed's incident. `created_by` defaults to the current user, `created_date`
    /// to the sandbox's now, `visibility` to `external`.
    public struct SeedComment: Codable, Sendable, Hashable {
        public var body: String
        public var createdBy: String?
        public var createdDate: String?
        public var labels: [String]?
        public var externalRef: String?
        public var visibility: String?

        public init(body: String, createdBy: String? = nil, createdDate: String? = nil, labels: [String]? = nil,
                    externalRef: String? = nil, visibility: String? = nil) {
            self.body = body
            self.createdBy = createdBy
            self.createdDate = createdDate
            self.labels = labels
            self.externalRef = externalRef
            self.visibility = visibility
        }

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case body, labels, visibility
            case createdBy = "created_by"
            case createdDate = "created_date"
            case externalRef = "external_ref"
        }
    }

    /// An incident of a seed file. Dates are RFC 3339 or offsets from the sandbox's now (`-45m`,
    /// see `SeedDate`); references use display ids or ids.
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
        /// Defaults to `created_date`.
        public var modifiedDate: String?
        /// Defaults to the mitigated (else created) date when the stage is closed.
        public var actualCloseDate: String?
        public var customFields: [String: JSONValue]?
        /// Enum ids, as in a create request.
        public var reportedBy: Int64?
        public var source: Int64?
        public var comments: [SeedComment]?

        public init(
            title: String, body: String? = nil, severity: Int64? = nil, stage: String? = nil, ownedBy: [String]? = nil,
            createdBy: String? = nil, appliesToParts: [String]? = nil, tags: [String]? = nil, createdDate: String? = nil,
            identifiedDate: String? = nil, acknowledgedDate: String? = nil, mitigatedDate: String? = nil, targetCloseDate: String? = nil,
            modifiedDate: String? = nil, actualCloseDate: String? = nil, customFields: [String: JSONValue]? = nil, reportedBy: Int64? = nil,
            source: Int64? = nil, comments: [SeedComment]? = nil
        ) {
            self.modifiedDate = modifiedDate
            self.actualCloseDate = actualCloseDate
            self.customFields = customFields
            self.reportedBy = reportedBy
            self.source = source
            self.comments = comments
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

        public enum CodingKeys: String, CodingKey, CaseIterable {
            case title, body, severity, stage, tags, source, comments
            case ownedBy = "owned_by"
            case createdBy = "created_by"
            case appliesToParts = "applies_to_parts"
            case createdDate = "created_date"
            case identifiedDate = "identified_date"
            case acknowledgedDate = "acknowledged_date"
            case mitigatedDate = "mitigated_date"
            case targetCloseDate = "target_close_date"
            case modifiedDate = "modified_date"
            case actualCloseDate = "actual_close_date"
            case customFields = "custom_fields"
            case reportedBy = "reported_by"
        }

        /// Every date the seed gives, with its field name.
        var dates: [(field: String, text: String?)] {
            [("created_date", createdDate), ("modified_date", modifiedDate), ("identified_date", identifiedDate),
             ("acknowledged_date", acknowledgedDate), ("mitigated_date", mitigatedDate), ("target_close_date", targetCloseDate),
             ("actual_close_date", actualCloseDate)]
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
    public func validate() throws(SandboxSetupError) {
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
            for (field, date) in incident.dates {
                if let date, SeedDate.resolve(date, now: Date()) == nil {
                    throw .invalidSeed("\(place).\(field): '\(date)' is not an RFC 3339 date-time or an offset such as -45m")
                }
            }
            try validate(incident.comments ?? [], of: place)
        }
    }

    private func validate(_ comments: [SeedComment], of place: String) throws(SandboxSetupError) {
        var references: Set<String> = []
        let visibilities = TimelineEntryVisibility.allCases.map(\.rawValue)
        for (index, comment) in comments.enumerated() {
            let place = "\(place).comments[\(index + 1)]"
            guard !comment.body.isEmpty else { throw .invalidSeed("\(place).body: must not be empty") }
            if let author = comment.createdBy, user(author) == nil { throw .invalidSeed("\(place).created_by: no user '\(author)'") }
            if let date = comment.createdDate, SeedDate.resolve(date, now: Date()) == nil {
                throw .invalidSeed("\(place).created_date: '\(date)' is not an RFC 3339 date-time or an offset such as -45m")
            }
            let labels = comment.labels ?? []
            guard labels.count <= 16 else { throw .invalidSeed("\(place).labels: at most 16 labels") }
            for label in labels where !(1...64).contains(label.count) {
                throw .invalidSeed("\(place).labels: '\(label)' must be 1 to 64 characters")
            }
            if let reference = comment.externalRef {
                guard (1...512).contains(reference.count) else { throw .invalidSeed("\(place).external_ref: must be 1 to 512 characters") }
                guard references.insert(reference).inserted else {
                    throw .invalidSeed("\(place).external_ref: '\(reference)' is already on this incident's timeline")
                }
            }
            if let visibility = comment.visibility, !visibilities.contains(visibility) {
                throw .invalidSeed("\(place).visibility: '\(visibility)' is not one of \(visibilities.joined(separator: ", "))")
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
