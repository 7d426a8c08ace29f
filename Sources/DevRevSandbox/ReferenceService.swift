import DevRevAPI

/// The reads of what incidents refer to, as DevRev serves them: `dev-users.get`, `parts.get`,
/// `stages.custom.get` and `tags.get`, each `{"id": ...}` (a DON, or a display id or name as the
/// sandbox also accepts for incidents) answered with the object, or 404 `not_found`. A planning
/// run uses them to check the references of a change before anything is sent.
struct ReferenceService: Sendable {
    let store: SandboxStore

    static let operations: Set<String> = ["dev-users.get", "parts.get", "stages.custom.get", "tags.get"]

    func handle(operation: String, body: [UInt8]) throws(SandboxFailure) -> (status: Int, body: any Encodable) {
        let id = try Self.id(in: body)
        let builder = IncidentBuilder(tenant: store.tenant)
        switch operation {
        case "dev-users.get":
            guard let user = store.tenant.user(id) else { throw .notFound("dev user \(id) does not exist") }
            return (200, JSONValue.object(["dev_user": Self.json(builder.userSummary(user))]))
        case "parts.get":
            guard (store.tenant.part(id)) != nil else { throw .notFound("part \(id) does not exist") }
            return (200, JSONValue.object(["part": Self.json(try builder.part(id, field: "id"))]))
        case "stages.custom.get":
            guard (store.tenant.stage(id)) != nil else { throw .notFound("stage \(id) does not exist") }
            let stage = try builder.stage(id, field: "id").0
            var fields: [String: JSONValue] = [:]
            if case .object(let summary) = Self.json(stage.stage) { fields = summary }
            fields["state"] = Self.json(stage.state)
            return (200, JSONValue.object(["custom_stage": .object(fields)]))
        default:
            guard let tag = store.tenant.tag(id) else { throw .notFound("tag \(id) does not exist") }
            return (200, JSONValue.object(["tag": .object([
                "id": .string(tag.id), "display_id": .string(tag.displayId), "name": .string(tag.name),
            ])]))
        }
    }

    /// The request's `id`: a JSON object with a non-empty string `id` and nothing else.
    private static func id(in body: [UInt8]) throws(SandboxFailure) -> String {
        guard case .object(let fields)? = try? JSONParser().parse(body) else { throw .badRequest("the body is not a JSON object") }
        guard case .string(let id)? = fields["id"], !id.isEmpty else { throw .badRequest("id: a non-empty string is required") }
        if let extra = fields.keys.first(where: { $0 != "id" }) { throw .badRequest("\(extra): unknown field") }
        return id
    }

    private static func json(_ value: some Encodable) -> JSONValue {
        (try? JSONParser().parse(JSONWriter.encode(value))) ?? .null
    }
}
