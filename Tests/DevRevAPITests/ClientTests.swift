@testable import DevRevAPI
import Foundation
import Testing

@Suite("Client on the wire")
struct ClientTests {
    @Test func aFullyPopulatedUpdateSendsExactlyTheSchemasJSON() async throws {
        let request = IncidentsUpdateRequest(
            acknowledgedDate: "2026-11-26T10:00:00Z",
            appliesToParts: UpdateIncidentAppliesToParts(set: ["PROD-1"]),
            artifacts: UpdateIncidentArtifacts(set: []),
            body: "Disk full on db-3",
            customFields: ["tnt__impact": .string("high"), "tnt__count": .integer(3)],
            customSchemaSpec: CustomSchemaSpec(apps: ["app"], tenantFragment: true, validateRequiredFields: false),
            externalSourceData: UpdateExternalSourceDataComp(createdDate: "2026-11-01T00:00:00Z"),
            id: "INC-42",
            identifiedDate: "2026-11-26T09:00:00Z",
            impact: UpdateImpactedCustomerDetails(count: 12, customerIds: UpdateImpactedCustomerDetailsCustomerIds(set: ["REV-1"])),
            mitigatedDate: "2026-11-26T11:00:00Z",
            ownedBy: UpdateIncidentOwnedBy(set: ["DEVU-7"]),
            pia: UpdateIncidentPia(set: ["ART-1"]),
            playbooks: UpdateIncidentPlaybooks(set: ["ART-2"]),
            relatedDocs: UpdateIncidentRelatedDocs(set: ["ART-3"]),
            reportedBy: 1,
            severity: 2,
            source: 3,
            stage: UpdateStage(notes: "escalated", stage: "don:core:dvrv-us-1:devo/1:custom_stage/3"),
            stageValidationOptions: [.allowInvalidTransition],
            stagedInfo: UpdateStagedInfo(isStaged: false),
            syncMetadata: UpdateSyncMetadata(externalReference: "https://tracker/1", originSystem: "jira"),
            tags: UpdateIncidentTags(set: [UpdateTagWithValue(tagId: "TAG-1", value: "db"), UpdateTagWithValue(tagId: "TAG-2")]),
            targetCloseDate: "2026-11-27T00:00:00Z",
            title: "Disk full"
        )
        let sent = try await withServer({ _, _ in .json(200, incidentJSON) }) { client, server in
            _ = try await client.updateIncident(request)
            return server.requests
        }
        #expect(sent.count == 1)
        #expect(sent[0].path == "/incidents.update")
        let expected = #"{"acknowledged_date":"2026-11-26T10:00:00Z","applies_to_parts":{"set":["PROD-1"]},"artifacts":{"set":[]},"body":"Disk full on db-3","custom_fields":{"tnt__count":3,"tnt__impact":"high"},"custom_schema_spec":{"apps":["app"],"tenant_fragment":true,"validate_required_fields":false},"external_source_data":{"created_date":"2026-11-01T00:00:00Z"},"id":"INC-42","identified_date":"2026-11-26T09:00:00Z","impact":{"count":12,"customer_ids":{"set":["REV-1"]}},"mitigated_date":"2026-11-26T11:00:00Z","owned_by":{"set":["DEVU-7"]},"pia":{"set":["ART-1"]},"playbooks":{"set":["ART-2"]},"related_docs":{"set":["ART-3"]},"reported_by":1,"severity":2,"source":3,"stage":{"notes":"escalated","stage":"don:core:dvrv-us-1:devo\/1:custom_stage\/3"},"stage_validation_options":["allow_invalid_transition"],"staged_info":{"is_staged":false},"sync_metadata":{"external_reference":"https:\/\/tracker\/1","origin_system":"jira"},"tags":{"set":[{"tag_id":"TAG-1","value":"db"},{"tag_id":"TAG-2"}]},"target_close_date":"2026-11-27T00:00:00Z","title":"Disk full"}"#
        let actual = try JSONSerialization.jsonObject(with: Data(sent[0].body)) as? NSDictionary
        let wanted = try JSONSerialization.jsonObject(with: Data(expected.utf8)) as? NSDictionary
        #expect(actual == wanted, "sent \(sent[0].bodyText)")
        #expect(!sent[0].bodyText.contains("null"), "unset optionals are left out")
    }

    @Test func aMinimalUpdateSendsOnlyWhatIsSet() async throws {
        let sent = try await withServer({ _, _ in .json(200, incidentJSON) }) { client, server in
            _ = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-42", severity: 1))
            return server.requests
        }
        #expect(sent.first?.bodyText == #"{"id":"INC-42","severity":1}"#)
    }

    @Test func headersCarryAuthScopeVersionAndUserAgent() async throws {
        let sent = try await withServer({ _, _ in .json(200, incidentJSON) }) { client, server in
            _ = try await client.getIncident(id: "INC-42")
            return server.requests
        }
        let request = try #require(sent.first)
        #expect(request.method == "POST")
        #expect(request.path == "/incidents.get")
        #expect(request.header("Authorization") == "Bearer \(testToken)")
        #expect(request.header("X-Devrev-Scope") == "beta")
        #expect(request.header("X-Devrev-Version") == "2024-01-24")
        #expect(request.header("User-Agent") == "runbook-tests/1")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.bodyText == #"{"id":"INC-42"}"#)
    }

    @Test func responsesDecodeKnownFieldsIgnoreNewOnesAndKeepUnknownDiscriminators() async throws {
        let incident = try await withServer({ _, _ in .json(200, incidentJSON) }) { client, _ in
            try await client.getIncident(id: "INC-42")
        }
        #expect(incident.displayId == "INC-42")
        #expect(incident.severity?.label == "Sev1")
        #expect(incident.ownedBy?.first?.displayId == "DEVU-7")
        #expect(incident.ownedBy?.first?.type == .devUser)
        #expect(incident.stage?.stage?.name == "acknowledged")

        let future = #"{"incident": {"id": "x", "owned_by": [{"type": "robot_user", "id": "R-1"}], "stage": {"stage": {"name": "n"}}}}"#
        let decoded = try await withServer({ _, _ in .json(200, future) }) { client, _ in
            try await client.getIncident(id: "x")
        }
        #expect(decoded.ownedBy?.first?.type == .unknown("robot_user"))
    }

    @Test func createAndDeleteRoundTrip() async throws {
        let sent = try await withServer({ request, _ in
            request.path == "/incidents.delete" ? .json(200, "{}") : .json(201, incidentJSON)
        }) { client, server in
            let created = try await client.createIncident(IncidentsCreateRequest(severity: 2, title: "Disk full"))
            #expect(created.displayId == "INC-42")
            try await client.deleteIncident(id: "INC-42")
            return server.requests
        }
        #expect(sent.map(\.bodyText) == [#"{"severity":2,"title":"Disk full"}"#, #"{"id":"INC-42"}"#])
    }
}
