import DevRevAPI
import DevRevSandbox
import Foundation

/// The changes of a run as a test reads them: one record per field, `{operation = "update",
/// incident = "INC-1", field = "severity", before = "Sev2", after = "Sev1"}`, with references
/// shown by the name an operator uses (an enum by its label, a stage by its name, users and parts
/// by display id, tags by name). Made from what the sandbox committed, or from a dry run's plan.
enum ChangeRecords {
    /// Fields DevRev sets by itself on every write, left out of the records (they are in the
    /// incident's state for a test that wants them).
    static let derivedFields: Set<String> = ["modified_date", "modified_by", "actual_close_date"]

    /// What the sandbox committed, in order.
    static func made(_ changes: [SandboxChange]) -> [JSONValue] {
        var records: [JSONValue] = []
        for change in changes {
            switch change.operation {
            case .update:
                let before = object(change.before)
                let after = object(change.after)
                for field in Set(before.keys).union(after.keys).subtracting(derivedFields).sorted() where before[field] != after[field] {
                    records.append(record("update", change.incident, field: field, before: before[field], after: after[field]))
                }
            case .create:
                let after = object(change.after).filter { !["id", "display_id", "created_date", "created_by"].contains($0.key) && !derivedFields.contains($0.key) }
                records.append(record("create", change.incident, after: .object(after).mapFields(FieldChanges.simplified)))
            case .delete:
                records.append(record("delete", change.incident))
            case .comment, .deleteComment:
                guard case .object(let entry)? = change.comment, !IncidentClaims.isClaim(entry) else { continue }
                records.append(record(change.operation.rawValue, change.incident, after: entry["body"]))
            }
        }
        return records
    }

    /// What a dry run planned, in order.
    static func planned(_ changes: [PlannedChange]) -> [JSONValue] {
        var records: [JSONValue] = []
        for change in changes where !change.isClaim {
            let incident = change.incident ?? "new"
            switch change.operation {
            case DevRevOperation.updateIncident.name:
                for field in (change.fields ?? []).sorted(by: { $0.field < $1.field }) {
                    records.append(record("update", incident, field: field.field, before: field.before, after: field.after))
                }
            case DevRevOperation.createIncident.name:
                var after: [String: JSONValue] = [:]
                for field in change.fields ?? [] { after[field.field] = field.after.map { FieldChanges.simplified(field.field, $0) } }
                records.append(record("create", incident, after: .object(after)))
            case DevRevOperation.deleteIncident.name:
                records.append(record("delete", incident))
            case DevRevOperation.createTimelineEntry.name:
                guard case .object(let body) = change.body else { continue }
                records.append(record("comment", incident, after: body["body"]))
            default:
                records.append(record(change.operation, incident))
            }
        }
        return records
    }

    /// The comments a run posted: incident, body, labels, external_ref, visibility.
    static func comments(_ changes: [SandboxChange]) -> [JSONValue] {
        changes.compactMap { change in
            guard change.operation == .comment, case .object(let entry)? = change.comment, !IncidentClaims.isClaim(entry) else { return nil }
            return comment(incident: change.incident, entry)
        }
    }


    /// The claims a run took (planned, in a dry run), listed apart from its changes and comments:
    /// incident and reference.
    static func claims(_ changes: [SandboxChange]) -> [JSONValue] {
        changes.compactMap { change in
            guard change.operation == .comment, case .object(let entry)? = change.comment, IncidentClaims.isClaim(entry) else { return nil }
            return .object(["incident": .string(change.incident), "reference": entry["external_ref"] ?? .null])
        }
    }

    static func plannedClaims(_ changes: [PlannedChange]) -> [JSONValue] {
        changes.compactMap { change in
            guard change.isClaim, case .object(let body) = change.body else { return nil }
            return .object(["incident": .string(change.incident ?? ""), "reference": body["external_ref"] ?? .null])
        }
    }

    static func plannedComments(_ changes: [PlannedChange]) -> [JSONValue] {
        changes.compactMap { change in
            guard change.operation == DevRevOperation.createTimelineEntry.name, !change.isClaim, case .object(let body) = change.body else { return nil }
            return comment(incident: change.incident ?? Planner.text(body["object"]) ?? "", body)
        }
    }

    private static func comment(incident: String, _ fields: [String: JSONValue]) -> JSONValue {
        var record: [String: JSONValue] = ["incident": .string(incident)]
        for key in ["body", "labels", "external_ref", "visibility"] { record[key] = fields[key] }
        return .object(record)
    }

    private static func record(_ operation: String, _ incident: String, field: String? = nil, before: JSONValue? = nil, after: JSONValue? = nil) -> JSONValue {
        var record: [String: JSONValue] = ["operation": .string(operation), "incident": .string(incident)]
        if let field {
            record["field"] = .string(field)
            if let before, before != .null { record["before"] = FieldChanges.simplified(field, before) }
            if let after, after != .null { record["after"] = FieldChanges.simplified(field, after) }
        } else if let after {
            record["after"] = after
        }
        return .object(record)
    }

    /// The incident's fields as JSON, by name.
    static func object(_ incident: Incident?) -> [String: JSONValue] {
        guard let incident, case .object(let fields) = TestCaseContext.json(incident) else { return [:] }
        return fields
    }
}

private extension JSONValue {
    /// Each field of an object through `transform`; other values as they are.
    func mapFields(_ transform: (String, JSONValue) -> JSONValue) -> JSONValue {
        guard case .object(let fields) = self else { return self }
        return .object(Dictionary(uniqueKeysWithValues: fields.map { ($0.key, transform($0.key, $0.value)) }))
    }
}
