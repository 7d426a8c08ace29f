import DevRevAPI
import Foundation
import GRDB
import Synchronization

/// The sandbox's incidents and their timeline comments, durable in SQLite, mirrored in memory for reads.
///
/// Every write is one SQLite transaction; the memory mirror changes only after it commits, so a
/// failed request changes nothing. All access is serialized.
final class SandboxStore: Sendable {
    private let database: DatabaseQueue
    private let state: Mutex<State>

    struct State {
        var tenant: Tenant
        /// Incidents in creation order, by sequence number.
        var incidents: [Int64: Incident] = [:] {
            didSet { ordered = nil }
        }
        /// `incidents` in creation order, made on the first read after a write: a list page reads
        /// it without copying 10 000 incidents again.
        var ordered: [(seq: Int64, incident: Incident)]?
        var nextNumber: Int64 = 1
        /// Timeline comments in creation order, by sequence number.
        var comments: [Int64: StoredComment] = [:]
        /// What this process committed since it opened the store.
        var changes: [SandboxChange] = []
    }

    /// Opens (or creates) the database at `path`, in memory when nil. A new database is filled
    /// from `seed`; an existing one keeps its tenant and incidents.
    init(path: String?, seed: Tenant, now: Date) throws(SandboxSetupError) {
        do {
            var configuration = Configuration()
            configuration.journalMode = .wal
            database = try path.map { try DatabaseQueue(path: $0, configuration: configuration) } ?? DatabaseQueue()
            try Self.migrator.migrate(database)
            let loaded = try Self.load(database)
            if let loaded {
                state = Mutex(loaded)
            } else {
                state = Mutex(State(tenant: seed))
                try initialize(seed: seed, now: now)
            }
        } catch let error as SandboxSetupError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }

    /// The schema, one migration per change, so a `--db` file written by an earlier version is
    /// brought up to date instead of failing. v1 is the first schema; `IF NOT EXISTS` lets it adopt
    /// files made before migrations were recorded.
    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS incident (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    display_id TEXT NOT NULL UNIQUE,
                    document BLOB NOT NULL
                );
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS timeline_entry (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    object TEXT NOT NULL,
                    external_ref TEXT,
                    document BLOB NOT NULL,
                    UNIQUE (object, external_ref)
                );
                """)
        }
        return migrator
    }

    /// A stored document: the value's JSON.
    private static func document(_ value: some Encodable) throws -> Data {
        Data(try JSONWriter.encode(value))
    }

    /// One transaction of a request; the request fails with a 500 when SQLite refuses it.
    private func commit(_ write: (Database) throws -> Void) throws(SandboxFailure) {
        do {
            try database.write(write)
        } catch {
            throw SandboxFailure.internalError("the database refused the write: \(error)")
        }
    }

    private static func load(_ database: DatabaseQueue) throws -> State? {
        try database.read { db in
            guard let tenantData = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'tenant'") else { return nil }
            let decoder = JSONDecoder()
            var state = State(tenant: try decoder.decode(Tenant.self, from: tenantData))
            for row in try Row.fetchAll(db, sql: "SELECT seq, document FROM incident") {
                let seq: Int64 = row["seq"]
                let document: Data = row["document"]
                state.incidents[seq] = try decoder.decode(Incident.self, from: document)
            }
            for row in try Row.fetchAll(db, sql: "SELECT seq, document FROM timeline_entry") {
                let seq: Int64 = row["seq"]
                let document: Data = row["document"]
                state.comments[seq] = try decoder.decode(StoredComment.self, from: document)
            }
            let next = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'next_number'")
                .flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
            state.nextNumber = next ?? ((state.incidents.keys.max() ?? 0) + 1)
            return state
        }
    }

    private func initialize(seed: Tenant, now: Date) throws {
        let builder = IncidentBuilder(tenant: seed)
        var created: [Incident] = []
        var comments: [StoredComment] = []
        for (index, seedIncident) in seed.incidents.enumerated() {
            let incident = builder.seeded(seedIncident, number: Int64(index + 1), now: now)
            created.append(incident)
            comments += builder.seededComments(seedIncident, of: incident, firstSeq: Int64(comments.count + 1), now: now)
        }
        try database.write { db in
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('tenant', ?)", arguments: [try Self.document(seed)])
            for (index, incident) in created.enumerated() {
                try Self.insert(incident, seq: Int64(index + 1), in: db)
            }
            for (index, comment) in comments.enumerated() {
                try Self.insert(comment, seq: Int64(index + 1), in: db)
            }
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_number', ?)",
                           arguments: [Data("\(created.count + 1)".utf8)])
        }
        state.withLock { state in
            for (index, incident) in created.enumerated() { state.incidents[Int64(index + 1)] = incident }
            for (index, comment) in comments.enumerated() { state.comments[Int64(index + 1)] = comment }
            state.nextNumber = Int64(created.count + 1)
        }
    }

    private static func insert(_ comment: StoredComment, seq: Int64, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO timeline_entry (seq, id, object, external_ref, document) VALUES (?, ?, ?, ?, ?)",
            arguments: [seq, comment.id, comment.object, comment.externalRef, try document(comment)])
    }

    private static func insert(_ incident: Incident, seq: Int64, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO incident (seq, id, display_id, document) VALUES (?, ?, ?, ?)",
            arguments: [seq, incident.id ?? "", incident.displayId ?? "", try document(incident)])
    }

    // MARK: access

    var tenant: Tenant { state.withLock { $0.tenant } }

    /// All incidents in creation order, kept between writes. (Made by sorting the numbers, then
    /// copying each incident once: sorting the pairs would move every large incident value about
    /// n log n times.)
    func all() -> [(seq: Int64, incident: Incident)] {
        state.withLock { state in
            if let ordered = state.ordered { return ordered }
            let ordered = state.incidents.keys.sorted().compactMap { seq in state.incidents[seq].map { (seq: seq, incident: $0) } }
            state.ordered = ordered
            return ordered
        }
    }

    /// The incident with this id or display id.
    func find(_ reference: String) -> (seq: Int64, incident: Incident)? {
        state.withLock { state in
            state.incidents.first { $0.value.id == reference || $0.value.displayId == reference }.map { ($0.key, $0.value) }
        }
    }

    /// Creates an incident from what `make` builds with the next number; committed before it returns.
    func create(_ make: (Int64) throws(SandboxFailure) -> Incident) throws(SandboxFailure) -> Incident {
        try state.withLock { (state) throws(SandboxFailure) -> Incident in
            let number = state.nextNumber
            let incident = try make(number)
            try commit { db in
                try Self.insert(incident, seq: number, in: db)
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_number', ?)",
                               arguments: [Data("\(number + 1)".utf8)])
            }
            state.incidents[number] = incident
            state.nextNumber = number + 1
            state.changes.append(SandboxChange(operation: .create, incident: incident.displayId ?? "", after: incident))
            return incident
        }
    }

    /// Replaces an incident with what `change` makes of it; committed before it returns.
    func update(_ reference: String, _ change: (Incident) throws(SandboxFailure) -> Incident) throws(SandboxFailure) -> Incident {
        try state.withLock { (state) throws(SandboxFailure) -> Incident in
            guard let entry = state.incidents.first(where: { $0.value.id == reference || $0.value.displayId == reference }) else {
                throw SandboxFailure.notFound("incident \(reference) does not exist")
            }
            let updated = try change(entry.value)
            try commit { db in
                try db.execute(sql: "UPDATE incident SET document = ? WHERE seq = ?", arguments: [try Self.document(updated), entry.key])
            }
            state.incidents[entry.key] = updated
            state.changes.append(SandboxChange(operation: .update, incident: updated.displayId ?? "", before: entry.value, after: updated))
            return updated
        }
    }

    func delete(_ reference: String) throws(SandboxFailure) {
        try state.withLock { (state) throws(SandboxFailure) in
            guard let entry = state.incidents.first(where: { $0.value.id == reference || $0.value.displayId == reference }) else {
                throw SandboxFailure.notFound("incident \(reference) does not exist")
            }
            try commit { db in try db.execute(sql: "DELETE FROM incident WHERE seq = ?", arguments: [entry.key]) }
            state.incidents[entry.key] = nil
            state.changes.append(SandboxChange(operation: .delete, incident: entry.value.displayId ?? "", before: entry.value))
        }
    }

    /// The writes committed since the store opened, from the `start`th on.
    func changes(from start: Int) -> [SandboxChange] {
        state.withLock { state in Array(state.changes.dropFirst(max(0, start))) }
    }

    var changeCount: Int { state.withLock { $0.changes.count } }

    // MARK: timeline comments

    /// Comments in creation order.
    func comments() -> [StoredComment] {
        state.withLock { state in state.comments.sorted { $0.key < $1.key }.map(\.value) }
    }

    /// Adds the comment `make` builds from the next sequence number, unless the object's timeline
    /// already holds one with its external reference (409). Committed before it returns.
    func addComment(_ make: (Int64) -> StoredComment) throws(SandboxFailure) -> StoredComment {
        try state.withLock { (state) throws(SandboxFailure) -> StoredComment in
            let seq = (state.comments.keys.max() ?? 0) + 1
            let comment = make(seq)
            if let reference = comment.externalRef,
                state.comments.values.contains(where: { $0.object == comment.object && $0.externalRef == reference })
            {
                throw SandboxFailure.conflict("the timeline of \(comment.objectDisplayID) already has an entry with external_ref '\(reference)'")
            }
            try commit { db in try Self.insert(comment, seq: seq, in: db) }
            state.comments[seq] = comment
            state.changes.append(SandboxChange(operation: .comment, incident: comment.objectDisplayID, comment: comment.entry))
            return comment
        }
    }

    func deleteComment(_ id: String) throws(SandboxFailure) {
        try state.withLock { (state) throws(SandboxFailure) in
            guard let entry = state.comments.first(where: { $0.value.id == id }) else {
                throw SandboxFailure.notFound("timeline entry \(id) does not exist")
            }
            try commit { db in try db.execute(sql: "DELETE FROM timeline_entry WHERE seq = ?", arguments: [entry.key]) }
            state.comments[entry.key] = nil
            state.changes.append(SandboxChange(operation: .deleteComment, incident: entry.value.objectDisplayID, comment: entry.value.entry))
        }
    }

    /// Closes the database; every committed write is on disk.
    func close() throws {
        try database.close()
    }
}
