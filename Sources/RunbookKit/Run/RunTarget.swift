import DevRevAPI

/// Where a run's changes go: DevRev's base URL, whether it is runbook's own sandbox, and the org
/// and user the token acts for when it is a JWT that names them. Never the token. Carried by
/// plans, journal records and run reports, so a plan made against one target is not applied to
/// another by mistake and a journal reader can tell sandbox runs from production.
struct RunTarget: Codable, Sendable, Equatable {
    var baseURL: String
    var sandbox: Bool
    var org: String?
    var user: String?

    enum CodingKeys: String, CodingKey {
        case baseURL = "base_url", sandbox, org, user
    }

    init(baseURL: String, sandbox: Bool, org: String? = nil, user: String? = nil) {
        self.baseURL = baseURL
        self.sandbox = sandbox
        self.org = org
        self.user = user
    }

    init(settings: DevRevConnection.Settings, sandbox: Bool) {
        let claims = settings.token.flatMap { TokenClaims(token: $0.value) }
        self.init(baseURL: settings.baseURL.description, sandbox: sandbox, org: claims?.org, user: claims?.user)
    }

    /// Why a plan made for `self` should not be applied to `other`; nil when it is the same target.
    /// Two sandboxes are the same target (each run starts its own); an org known on both sides
    /// must match; the user may differ (a colleague applies the plan).
    func mismatch(applyingTo other: RunTarget) -> String? {
        if sandbox || other.sandbox {
            guard sandbox == other.sandbox else {
                return sandbox ? "the plan was made against the sandbox, not \(other.baseURL)" : "the plan was made for \(baseURL), not the sandbox"
            }
            return nil
        }
        if baseURL != other.baseURL { return "the plan was made for \(baseURL), not \(other.baseURL)" }
        if let org, let otherOrg = other.org, org != otherOrg { return "the plan was made for the org \(org), not \(otherOrg)" }
        return nil
    }

    /// The target as a journal record holds it.
    var json: JSONValue {
        var fields: [String: JSONValue] = ["base_url": .string(baseURL), "sandbox": .bool(sandbox)]
        if let org { fields["org"] = .string(org) }
        if let user { fields["user"] = .string(user) }
        return .object(fields)
    }
}
