import DevRevAPI
@testable import DevRevSandbox
import Foundation
import Testing

/// The timeline-entries operations of the sandbox, over HTTP on loopback.
@Suite("Sandbox timeline comments")
struct SandboxTimelineTests {
    private func json(_ client: DevRevClient, _ operation: DevRevOperation, _ body: String) async throws -> [String: JSONValue] {
        let exchange = try await client.send(operation, body: Array(body.utf8))
        guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: Data(exchange.body)) else { return [:] }
        return fields
    }

    private func entry(_ response: [String: JSONValue]) -> [String: JSONValue] {
        if case .object(let entry)? = response["timeline_entry"] { return entry }
        return [:]
    }

    @Test func createGetListAndDeleteAComment() async throws {
        try await withSandbox { client, _ in
            let created = try await json(client, .createTimelineEntry,
                #"{"type":"timeline_comment","object":"INC-4","body":"first","labels":["a"],"external_ref":"ref-1"}"#)
            let first = entry(created)
            #expect(first["type"] == "timeline_comment")
            #expect(first["object_display_id"] == "INC-4")
            #expect(first["body_type"] == "text")
            #expect(first["visibility"] == "external")
            guard case .string(let id)? = first["id"] else {
                Issue.record("no id in \(first)")
                return
            }
            _ = try await json(client, .createTimelineEntry, #"{"type":"timeline_comment","object":"INC-4","body":"second"}"#)
            let byID = try await json(client, .getTimelineEntry, #"{"id":"\#(id)"}"#)
            #expect(entry(byID)["body"] == "first")
            // With external_ref, id names the timeline: the incident.
            let byReference = try await json(client, .getTimelineEntry, #"{"id":"INC-4","external_ref":"ref-1"}"#)
            #expect(entry(byReference)["id"] == .string(id))

            let page1 = try await json(client, .listTimelineEntries, #"{"object":"INC-4","limit":1}"#)
            guard case .string(let cursor)? = page1["next_cursor"] else {
                Issue.record("no next_cursor in \(page1)")
                return
            }
            let page2 = try await json(client, .listTimelineEntries, #"{"object":"INC-4","limit":1,"cursor":"\#(cursor)"}"#)
            #expect(page2["next_cursor"] == nil)
            let labelled = try await json(client, .listTimelineEntries, #"{"object":"INC-4","labels":["a"]}"#)
            guard case .array(let items)? = labelled["timeline_entries"] else { return }
            #expect(items.count == 1)
            let events = try await json(client, .listTimelineEntries, #"{"object":"INC-4","collections":["events"]}"#)
            #expect(events["timeline_entries"] == .array([]))

            _ = try await json(client, .deleteTimelineEntry, #"{"id":"\#(id)"}"#)
            let gone = await rawError(client, .getTimelineEntry, #"{"id":"\#(id)"}"#)
            #expect(gone?.status == 404)
        }
    }

    @Test func anExternalRefIsUniqueWithinAnObjectsTimeline() async throws {
        try await withSandbox { client, _ in
            let body = #"{"type":"timeline_comment","object":"INC-1","body":"x","external_ref":"same"}"#
            _ = try await json(client, .createTimelineEntry, body)
            let again = await rawError(client, .createTimelineEntry, body)
            #expect(again?.status == 409)
            #expect(again?.type == .conflict)
            // The same reference on another incident's timeline is fine.
            _ = try await json(client, .createTimelineEntry, #"{"type":"timeline_comment","object":"INC-2","body":"x","external_ref":"same"}"#)
        }
    }

    @Test func badCreatesAreRefusedWithTheField() async throws {
        try await withSandbox { client, _ in
            let cases: [(String, DevRevErrorType, String?)] = [
                (#"{"type":"timeline_comment","object":"INC-999","body":"x"}"#, .invalidID, "object"),
                (#"{"type":"timeline_comment","object":"INC-1"}"#, .missingRequiredField, "body"),
                (#"{"type":"timeline_change_event","object":"INC-1","body":"x"}"#, .invalidEnumValue, "type"),
                (#"{"type":"timeline_comment","object":"INC-1","body":"x","external_ref":""}"#, .badRequest, nil),
                (#"{"type":"timeline_comment","object":"INC-1","body":"x","labels":[""]}"#, .badRequest, nil),
                (#"{"type":"timeline_comment","object":"INC-1","body":"x","expires_at":"2000-01-01T00:00:00Z"}"#, .badRequest, nil),
                (#"{"type":"timeline_comment","object":"INC-1","body":"x","private_to":["DEVU-99"]}"#, .invalidID, "private_to[0]"),
                (#"{"type":"timeline_comment","object":"INC-1","body":"x","colour":"red"}"#, .invalidField, "colour"),
            ]
            for (body, type, field) in cases {
                let error = await rawError(client, .createTimelineEntry, body)
                #expect(error?.type == type, "\(body): \(String(describing: error))")
                #expect(error?.fieldName == field, "\(body)")
            }
            let listed = try await json(client, .listTimelineEntries, #"{"object":"INC-1"}"#)
            #expect(listed["timeline_entries"] == .array([]), "a refused create stores nothing")
        }
    }

    @Test func commentsSurviveARestartWithADatabase() async throws {
        let path = temporaryPath("timeline.sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = SandboxConfiguration(databasePath: path, token: sandboxToken)
        try await withSandbox(configuration) { client, _ in
            _ = try await json(client, .createTimelineEntry, #"{"type":"timeline_comment","object":"INC-1","body":"kept","external_ref":"k"}"#)
        }
        try await withSandbox(configuration) { client, _ in
            let kept = try await json(client, .getTimelineEntry, #"{"id":"INC-1","external_ref":"k"}"#)
            #expect(entry(kept)["body"] == "kept")
            #expect(await rawError(client, .createTimelineEntry, #"{"type":"timeline_comment","object":"INC-1","body":"x","external_ref":"k"}"#)?.status == 409)
        }
    }
}
