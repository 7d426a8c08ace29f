import DevRevAPI
@testable import DevRevSandbox
import Foundation
import GRDB
import Testing

@Suite("Sandbox database file")
struct SandboxDatabaseTests {
    /// A file written before the schema was migrated by GRDB (no migrations table) is adopted
    /// with its data; one written now records its migrations and opens again unchanged.
    @Test func aDatabaseFileFromAnEarlierSchemaIsMigratedWithItsData() async throws {
        let path = temporaryPath("sandbox-migrate") + ".sqlite"
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let configuration = SandboxConfiguration(databasePath: path, token: sandboxToken)
        try await withSandbox(configuration) { client, _ in
            _ = try await client.updateIncident(IncidentsUpdateRequest(id: "INC-1", title: "Before the migrator"))
        }
        let file = try DatabaseQueue(path: path)
        let recorded = try await file.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(recorded == ["v1"])
        try await file.write { try $0.execute(sql: "DROP TABLE grdb_migrations") }
        try file.close()
        try await withSandbox(configuration) { client, _ in
            let incident = try await client.getIncident(id: "INC-1")
            #expect(incident.title == "Before the migrator")
        }
        let reopened = try DatabaseQueue(path: path)
        let adopted = try await reopened.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(adopted == ["v1"])
        try reopened.close()
    }
}
