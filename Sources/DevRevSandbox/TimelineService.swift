import DevRevAPI
import Foundation

/// `timeline-entries.create`, `.get`, `.list` and `.delete` for comments on incidents, with
/// DevRev's rules: `external_ref` unique within an object's timeline (409 otherwise), labels and
/// lengths as the schema bounds them, ephemeral entries gone after `expires_at`.
struct TimelineService: Sendable {
    let store: SandboxStore
    let clock: @Sendable () -> Date

    static let operations: Set<String> = [
        "timeline-entries.create", "timeline-entries.get", "timeline-entries.list", "timeline-entries.delete",
    ]

    func handle(operation: String, body: [UInt8]) throws(SandboxFailure) -> (status: Int, body: any Encodable) {
        let now = clock()
        switch operation {
        case "timeline-entries.create":
            let request = try RequestDecoder.decode(TimelineEntriesCreateRequest.self, from: body)
            let make = try commentMaker(request, now: now)
            let comment = try store.addComment(make)
            return (201, JSONValue.object(["timeline_entry": comment.entry]))
        case "timeline-entries.get":
            let request = try RequestDecoder.decode(TimelineEntriesGetRequest.self, from: body)
            let live = store.comments().filter { $0.isLive(at: now) }
            let found: StoredComment?
            if let reference = request.externalRef {
                try Self.check(reference, field: "external_ref", length: 1...512)
                // `id` names the timeline: the object itself or any entry on it.
                let object = store.find(request.id)?.incident.id ?? store.comments().first { $0.id == request.id }?.object
                found = live.first { $0.object == object && $0.externalRef == reference }
            } else {
                found = live.first { $0.id == request.id }
            }
            guard let found else { throw .notFound("timeline entry \(request.id) does not exist") }
            return (200, JSONValue.object(["timeline_entry": found.entry]))
        case "timeline-entries.list":
            let request = try RequestDecoder.decode(TimelineEntriesListRequest.self, from: body)
            guard let incident = store.find(request.object)?.incident, let object = incident.id else {
                throw .notFound("object \(request.object) does not exist")
            }
            for (index, label) in (request.labels ?? []).enumerated() {
                try Self.check(label, field: "labels[\(index)]", length: 1...64)
            }
            let collections = try (request.collections ?? []).enumerated().map { index, value throws(SandboxFailure) in
                guard case .unknown(let raw) = value else { return value.rawValue }
                throw .invalidEnumValue(field: "collections[\(index)]", value: raw, allowed: TimelineEntriesCollection.allCases.map(\.rawValue))
            }
            let visibilities = try (request.visibility ?? []).enumerated().map { index, value throws(SandboxFailure) in
                guard case .unknown(let raw) = value else { return value.rawValue }
                throw .invalidEnumValue(field: "visibility[\(index)]", value: raw, allowed: TimelineEntryVisibility.allCases.map(\.rawValue))
            }
            let matching = store.comments().filter { comment in
                comment.object == object && comment.isLive(at: now)
                    // Comments are discussions; a list of events only holds none of them.
                    && (collections.isEmpty || collections.contains("discussions"))
                    && (request.labels.map { !Set($0).isDisjoint(with: comment.labels) } ?? true)
                    && (visibilities.isEmpty || visibilities.contains(comment.visibility))
            }
            let page = try Page(cursor: request.cursor, mode: request.mode, limit: request.limit, count: matching.count)
            var response: [String: JSONValue] = ["timeline_entries": .array(matching[page.range].map(\.entry))]
            if let next = page.next { response["next_cursor"] = .string(next) }
            if let previous = page.previous { response["prev_cursor"] = .string(previous) }
            return (200, JSONValue.object(response))
        case "timeline-entries.delete":
            let request = try RequestDecoder.decode(TimelineEntriesDeleteRequest.self, from: body)
            try store.deleteComment(request.id)
            return (200, JSONValue.object([:]))
        default:
            throw .notFound("route not found")
        }
    }

    /// Checks a create request and returns what builds its comment from a sequence number (called
    /// under the store's lock, so it reads nothing from the store).
    private func commentMaker(_ request: TimelineEntriesCreateRequest, now: Date) throws(SandboxFailure) -> (Int64) -> StoredComment {
        guard case .timelineComment = request.type else {
            throw .invalidEnumValue(field: "type", value: request.type.rawValue, allowed: ["timeline_comment"])
        }
        let unsupported: [(String, Bool)] = [
            ("artifacts", request.artifacts != nil), ("link_previews", request.linkPreviews != nil),
            ("snap_kit_body", request.snapKitBody != nil), ("snap_widget_body", request.snapWidgetBody != nil),
        ]
        if let field = unsupported.first(where: { $0.1 })?.0 {
            throw .badRequest("\(field): the sandbox stores text comments only")
        }
        guard let incident = store.find(request.object)?.incident, let object = incident.id, let objectDisplayID = incident.displayId else {
            // 400, not 404: the operation documents no 404.
            throw .invalidID(field: "object", message: "object: no incident '\(request.object)'")
        }
        switch request.bodyType ?? .text {
        case .text: break
        case .unknown(let raw):
            throw .invalidEnumValue(field: "body_type", value: raw, allowed: TimelineCommentBodyType.allCases.map(\.rawValue))
        default:
            throw .badRequest("body_type: the sandbox stores text comments only")
        }
        guard let body = request.body, !body.isEmpty else { throw .missingRequiredField(field: "body") }
        if let reference = request.externalRef { try Self.check(reference, field: "external_ref", length: 1...512) }
        let labels = request.labels ?? []
        guard labels.count <= 16 else { throw .badRequest("labels: at most 16 labels, got \(labels.count)") }
        for (index, label) in labels.enumerated() { try Self.check(label, field: "labels[\(index)]", length: 1...64) }
        for (index, value) in (request.collections ?? []).enumerated() {
            if case .unknown(let raw) = value {
                throw .invalidEnumValue(field: "collections[\(index)]", value: raw, allowed: TimelineEntriesCollection.allCases.map(\.rawValue))
            }
        }
        let visibility = request.visibility ?? .external
        if case .unknown(let raw) = visibility {
            throw .invalidEnumValue(field: "visibility", value: raw, allowed: TimelineEntryVisibility.allCases.map(\.rawValue))
        }
        let builder = IncidentBuilder(tenant: store.tenant)
        for (index, reference) in (request.privateTo ?? []).enumerated() {
            _ = try builder.user(reference, field: "private_to[\(index)]")
        }
        var expiresAt: Date?
        if let text = request.expiresAt {
            guard let date = RFC3339.parse(text) else { throw .badRequest("expires_at: '\(text)' is not an RFC 3339 date-time") }
            guard date >= now.addingTimeInterval(60) else { throw .badRequest("expires_at: must be at least a minute from now") }
            expiresAt = date
        }
        let timestamp = RFC3339.format(now)
        let author = try Self.json(builder.currentUser)
        return { seq in
            StoredComment.make(
                seq: seq, incident: (object, objectDisplayID), body: body, author: author, created: timestamp, labels: labels,
                externalRef: request.externalRef, visibility: visibility.rawValue, expiresAt: expiresAt)
        }
    }

    private static func check(_ text: String, field: String, length: ClosedRange<Int>) throws(SandboxFailure) {
        guard length.contains(text.count) else {
            throw .badRequest("\(field): must be \(length.lowerBound) to \(length.upperBound) characters, got \(text.count)")
        }
    }

    static func json(_ value: some Encodable) throws(SandboxFailure) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(JSONWriter.encode(value)))
        } catch {
            throw .internalError("cannot encode \(value): \(error)")
        }
    }
}
