import DevRevAPI
@testable import RunbookKit
import Testing

@Suite("Response shapes")
struct ResponseShapeTests {
    private func problem(_ response: JSONValue) -> String? {
        do throws(ScriptFailure) {
            _ = try ResponseShape.incident(in: response, operation: "incident.get")
            return nil
        } catch {
            #expect(error.type == "malformed_response")
            return error.message
        }
    }

    @Test func anIncidentMustBeAnObjectWithItsIds() {
        #expect(problem(.object(["incident": .object(["id": "don:1", "display_id": "INC-1", "title": "t", "stage": .null])])) == nil)
        #expect(problem(.object(["incident": .null])) == "incident.get: incident is null, not an object")
        #expect(problem(.object([:])) == "incident.get: the response has no incident")
        #expect(problem(.object(["incident": .object(["id": "don:1"])])) == "incident.get: incident has no display_id")
        #expect(problem(.object(["incident": .object(["id": "don:1", "display_id": 7])]))
            == "incident.get: incident.display_id is number, not a string")
    }

    @Test func listPagesHoldArraysOfObjectsAndAStringCursor() throws {
        let good: [String: JSONValue] = ["incidents": .array([.object(["id": "a", "display_id": "INC-1"])]), "next_cursor": "c"]
        #expect(try ResponseShape.items(in: good, key: "incidents", operation: "incident.list").count == 1)
        #expect(try ResponseShape.items(in: [:], key: "incidents", operation: "incident.list").isEmpty)
        #expect(throws: ScriptFailure.self) { try ResponseShape.items(in: ["incidents": "x"], key: "incidents", operation: "incident.list") }
        #expect(throws: ScriptFailure.self) {
            try ResponseShape.items(in: ["incidents": .array([1])], key: "incidents", operation: "incident.list")
        }
        #expect(throws: ScriptFailure.self) {
            try ResponseShape.items(in: ["incidents": .array([]), "next_cursor": 5], key: "incidents", operation: "incident.list")
        }
    }
}

@Suite("Signal grace")
struct SignalGraceTests {
    @Test func theGraceMessageSaysWhatTheRunWasStuckOn() {
        #expect(SignalWatcher.graceMessage(signal: "SIGTERM", requestsInFlight: 0).contains("the script did not stop within 10s of SIGTERM: it was in work that cannot be interrupted"))
        #expect(SignalWatcher.graceMessage(signal: "SIGTERM", requestsInFlight: 1).contains("the request in flight did not finish within 10s of SIGTERM"))
        #expect(SignalWatcher.graceMessage(signal: "SIGINT", requestsInFlight: 3).contains("3 requests in flight did not finish within 10s of SIGINT"))
    }
}
