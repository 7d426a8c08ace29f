import DevRevAPI
import DevRevSandbox
import Foundation
import LuaRuntime

/// What a case's `given{...}` calls describe: the tenant (the demo tenant's users, parts, tags
/// and stages without its incidents, or a seed file's), the case's incidents and their comments,
/// the frozen clock and the quota. Checked as each call comes, so a mistake names its line.
struct TestFixture {
    /// The case's clock, Unix seconds: `runbook.now()` in its runs, and what offsets such as `-45m` count from.
    var now: Int64
    var tenant: Tenant
    var rateLimit = SandboxConfiguration.RateLimit()

    /// Monday 5 January 2026, 12:00 UTC: the clock of a case that names none, so every run of a
    /// test sees the same time.
    static let defaultNow: Int64 = 1_767_614_400

    init() {
        now = Self.defaultNow
        tenant = Tenant.demo()
        tenant.incidents = []
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static let topLevelKeys = ["now", "seed", "current_user", "users", "parts", "tags", "stages", "incidents", "rate_limit"]
    static let incidentKeys = Tenant.SeedIncident.CodingKeys.allCases.map(\.rawValue)
    static let commentKeys = Tenant.SeedComment.CodingKeys.allCases.map(\.rawValue)
    static let userKeys = ["id", "display_id", "display_name", "full_name", "email"]
    static let partKeys = ["id", "display_id", "name", "type", "owned_by"]
    static let tagKeys = ["id", "display_id", "name"]
    static let stageKeys = ["id", "name", "state"]
    static let rateLimitKeys = ["quota", "window"]
    /// Fields that hold lists: an empty Lua table there is an empty list.
    static let listKeys: Set<String> = ["owned_by", "applies_to_parts", "tags", "labels", "comments", "incidents", "users", "parts", "stages"]
    static let dateKeys: Set<String> = [
        "created_date", "modified_date", "identified_date", "acknowledged_date", "mitigated_date", "target_close_date", "actual_close_date",
    ]

    /// Adds what one `given{...}` says; `directory` is the test file's, for `seed`.
    mutating func add(_ value: LuaValue, directory: String) throws(Problem) {
        guard case .object(let fields) = value else {
            if value == .emptyTable { return }
            throw Problem("given: the argument is a table of fixtures (got \(value.typeName))")
        }
        let json: JSONValue
        do throws(LuaJSON.Failure) {
            json = Self.normalized(try LuaJSON.json(from: value), key: nil)
        } catch {
            throw Problem("given: \(error)")
        }
        guard case .object(let object) = json else { return }
        try Self.checkKeys(object, allowed: Self.topLevelKeys, place: "given")
        var next = self
        if let seed = fields["seed"] {
            guard let path = seed.stringValue else { throw Problem("given: seed is the path of a seed file (a string)") }
            let resolved = TestDiscovery.join(directory, path)
            do throws(SandboxSetupError) {
                next.tenant = try SandboxServing.loadSeed(resolved)
                next.tenant.incidents += tenant.incidents
            } catch {
                throw Problem("given: \(error)")
            }
        }
        if let now = object["now"] {
            next.now = try Self.unixSeconds(now, relativeTo: self.now, place: "given: now")
        }
        if let user = object["current_user"] {
            guard case .string(let text) = user else { throw Problem("given: current_user is a user's display id or id") }
            next.tenant.currentUser = text
        }
        next.tenant.users = Self.merged(next.tenant.users, try Self.decodeList(object["users"], keys: Self.userKeys, place: "users", as: Tenant.User.self), by: \.displayId)
        next.tenant.parts = Self.merged(next.tenant.parts, try Self.decodeList(object["parts"], keys: Self.partKeys, place: "parts", as: Tenant.Part.self), by: \.displayId)
        next.tenant.tags = Self.merged(next.tenant.tags, try Self.decodeList(object["tags"], keys: Self.tagKeys, place: "tags", as: Tenant.Tag.self), by: \.name)
        next.tenant.stages = Self.merged(next.tenant.stages, try Self.decodeList(object["stages"], keys: Self.stageKeys, place: "stages", as: Tenant.StageDefinition.self), by: \.name)
        let first = next.tenant.incidents.count
        next.tenant.incidents += try Self.decodeIncidents(object["incidents"], firstIndex: first, now: next.now)
        if let limit = object["rate_limit"] {
            next.rateLimit = try Self.rateLimit(limit)
        }
        do throws(SandboxSetupError) {
            try next.tenant.validate()
        } catch {
            throw Problem("given: \(error)")
        }
        self = next
    }

    /// Unknown keys are refused with the nearest known one.
    static func checkKeys(_ object: [String: JSONValue], allowed: [String], place: String) throws(Problem) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            throw Problem("\(place): unknown field '\(key)'\(didYouMean(key, among: allowed)) (fields: \(allowed.joined(separator: ", ")))")
        }
    }

    /// Empty tables in list fields become empty lists; dates given as Unix seconds become RFC 3339.
    static func normalized(_ value: JSONValue, key: String?) -> JSONValue {
        switch value {
        case .object(let fields):
            if fields.isEmpty, let key, listKeys.contains(key) { return .array([]) }
            return .object(Dictionary(uniqueKeysWithValues: fields.map { ($0.key, key == "custom_fields" ? $0.value : normalized($0.value, key: $0.key)) }))
        case .array(let items):
            return .array(items.map { normalized($0, key: nil) })
        case .integer(let seconds) where key.map(dateKeys.contains) ?? false:
            return .string(RFC3339.format(unixSeconds: seconds))
        default:
            return value
        }
    }

    static func merged<Item>(_ base: [Item], _ added: [Item], by key: KeyPath<Item, String>) -> [Item] {
        var result = base
        for item in added {
            if let index = result.firstIndex(where: { $0[keyPath: key] == item[keyPath: key] }) {
                result[index] = item
            } else {
                result.append(item)
            }
        }
        return result
    }

    static func list(_ value: JSONValue?, place: String) throws(Problem) -> [JSONValue] {
        guard let value else { return [] }
        guard case .array(let items) = value else { throw Problem("given: \(place) is a list") }
        return items
    }

    /// Users, parts, tags or stages; an `id` left out is made from the display id or name.
    static func decodeList<Item: Decodable>(_ value: JSONValue?, keys: [String], place: String, as type: Item.Type) throws(Problem) -> [Item] {
        try list(value, place: place).enumerated().map { index, item throws(Problem) in
            let where_ = "given: \(place)[\(index + 1)]"
            guard case .object(var fields) = item else { throw Problem("\(where_) is a table") }
            try checkKeys(fields, allowed: keys, place: where_)
            if fields["id"] == nil, let name = Planner.text(fields["display_id"] ?? fields["name"]) {
                fields["id"] = .string("don:core:dvrv-us-1:devo/sandbox:\(place.dropLast())/\(name)")
            }
            return try decode(.object(fields), as: type, place: where_)
        }
    }

    static func decodeIncidents(_ value: JSONValue?, firstIndex: Int, now: Int64) throws(Problem) -> [Tenant.SeedIncident] {
        try list(value, place: "incidents").enumerated().map { index, item throws(Problem) in
            let place = "given: incidents[\(firstIndex + index + 1)]"
            guard case .object(let fields) = item else { throw Problem("\(place) is a table") }
            try checkKeys(fields, allowed: incidentKeys, place: place)
            for (offset, comment) in try list(fields["comments"], place: "incidents[\(firstIndex + index + 1)].comments").enumerated() {
                guard case .object(let commentFields) = comment else { throw Problem("\(place).comments[\(offset + 1)] is a table") }
                try checkKeys(commentFields, allowed: commentKeys, place: "\(place).comments[\(offset + 1)]")
            }
            return try decode(item, as: Tenant.SeedIncident.self, place: place)
        }
    }

    static func decode<Item: Decodable>(_ value: JSONValue, as type: Item.Type, place: String) throws(Problem) -> Item {
        do {
            return try JSONDecoder().decode(type, from: Data(JSONWriter.bytes(value)))
        } catch {
            let detail = DecodingErrorText.describe(error)
            throw Problem(detail.hasPrefix("the body") ? "\(place): \(detail.dropFirst("the body: ".count))" : "\(place).\(detail)")
        }
    }

    /// A time as Unix seconds: an integer, an RFC 3339 text, or an offset (`+1h`) from `base`.
    static func unixSeconds(_ value: JSONValue, relativeTo base: Int64, place: String) throws(Problem) -> Int64 {
        switch value {
        case .integer(let seconds):
            return seconds
        case .string(let text):
            let start = Date(timeIntervalSince1970: TimeInterval(base))
            guard let date = SeedDate.resolve(text, now: start) else {
                throw Problem("\(place): '\(text)' is not an RFC 3339 time, Unix seconds or an offset such as +1h")
            }
            return Int64(date.timeIntervalSince1970.rounded(.down))
        default:
            throw Problem("\(place): expected an RFC 3339 time, Unix seconds or an offset such as +1h")
        }
    }

    static func rateLimit(_ value: JSONValue) throws(Problem) -> SandboxConfiguration.RateLimit {
        guard case .object(let fields) = value else { throw Problem("rate_limit is a table: { quota = N, window = \"1m\" }") }
        try checkKeys(fields, allowed: rateLimitKeys, place: "rate_limit")
        guard case .integer(let quota)? = fields["quota"], quota > 0, quota <= Int.max else {
            throw Problem("rate_limit.quota: a positive integer, the requests a window allows")
        }
        var window = Duration.seconds(300)
        if let text = fields["window"] {
            guard let parsed = Planner.text(text).flatMap({ try? DurationArgument.parse($0) }), parsed > .zero else {
                throw Problem("rate_limit.window: a duration such as \"1m\"")
            }
            window = parsed
        }
        return .init(quota: Int(quota), window: window)
    }
}
