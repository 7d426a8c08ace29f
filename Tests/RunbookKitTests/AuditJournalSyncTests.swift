import Foundation
import Synchronization
import Testing
@testable import RunbookKit

/// One fsync per change: an intent is on disk before its change is sent, and carries the outcome
/// written before it; the last outcome reaches the disk with `flush()`. (That no intent is ever
/// lost to a kill is CronGradeTests' twenty SIGKILLs.)
@Suite("Audit journal flushes")
struct AuditJournalSyncTests {
    private func journal() throws -> (AuditJournal, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-sync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = directory.appendingPathComponent("audit.jsonl").path
        let facts = AuditJournal.RunFacts(runID: "run-1", user: "ops", host: "test", script: "s.lua", scriptSHA256: "00", arguments: [:])
        return (try AuditJournal(path: path, facts: facts), path)
    }

    /// Keeps the journal's writer busy until the returned semaphore is signalled.
    private func busyWriter(_ journal: AuditJournal) async -> DispatchSemaphore {
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        Thread { journal.onWriter { holding.signal(); release.wait() } }.start()
        await Task.detached { holding.wait() }.value
        return release
    }

    /// Waits (10 s at most) until `count` records wait for the busy writer.
    private func waitUntil(_ journal: AuditJournal, holds count: Int) async throws {
        var polls = 0
        while journal.waitingCount < count, polls < 2_000 {
            try await Task.sleep(for: .milliseconds(5))
            polls += 1
        }
    }

    @Test func eachChangeIsOneFlushAndTheRunsEndIsAnother() async throws {
        let (journal, path) = try journal()
        for index in 1...3 {
            try await journal.append(.init(event: .intent, operation: "incidents.update", incident: "INC-\(index)", body: Array("{}".utf8)))
            #expect(journal.syncCount == index, "the intent is on disk before the change is sent")
            try await journal.append(.init(event: .outcome, operation: "incidents.update", incident: "INC-\(index)", status: 200))
            #expect(journal.syncCount == index, "the outcome rides on the next flush")
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6, "every record is written at once, flushed or not")
        journal.flush()
        #expect(journal.syncCount == 4, "the last outcome is flushed at the end")
        journal.flush()
        #expect(journal.syncCount == 4, "nothing left to flush")
        try await journal.append(.init(event: .notSent, operation: "incidents.update", incident: "INC-4", body: Array("{}".utf8)))
        #expect(journal.syncCount == 5, "a change never sent is on disk at once, like an intent")
    }

    /// Group commit: intents that arrive while the writer is busy are written together and
    /// share one flush, in the order they came.
    @Test func intentsArrivingWhileTheWriterIsBusyShareOneFlush() async throws {
        let (journal, path) = try journal()
        let release = await busyWriter(journal)
        let before = journal.syncCount
        let appends = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 1...8 {
                    group.addTask {
                        try await journal.append(.init(event: .intent, operation: "incidents.update", incident: "INC-\(index)", body: Array("{}".utf8)))
                    }
                }
                try await group.waitForAll()
            }
        }
        try await waitUntil(journal, holds: 8)
        #expect(journal.waitingCount == 8, "every intent waits for the busy writer")
        release.signal()
        try await appends.value
        #expect(journal.syncCount == before + 1, "eight intents, one flush")
        let incidents = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["incident"] as? String
        }
        #expect(Set(incidents.compactMap { $0 }) == Set((1...8).map { "INC-\($0)" }), "each intent written once")
        #expect(incidents.count == 8)
    }

    /// A VM thread's record (`appendHere`) takes the writer's turn after the records already
    /// waiting for it, and is on disk when the call returns.
    @Test func aRecordWrittenHereFollowsTheRecordsWaitingAndIsOnDiskWhenItReturns() async throws {
        let (journal, path) = try journal()
        let release = await busyWriter(journal)
        let before = journal.syncCount
        let waiting = Task {
            try await journal.append(.init(event: .outcome, operation: "incidents.update", incident: "INC-1", status: 200))
        }
        try await waitUntil(journal, holds: 1)
        #expect(journal.waitingCount == 1, "the outcome waits for the busy writer")
        let outcome = Mutex<(failure: String?, syncs: Int)>((nil, 0))
        let here = DispatchSemaphore(value: 0)
        Thread {
            do throws(AuditJournal.Failure) {
                try journal.appendHere(.init(event: .intent, operation: "incidents.update", incident: "INC-2", body: Array("{}".utf8)))
                outcome.withLock { $0.syncs = journal.syncCount }
            } catch {
                outcome.withLock { $0.failure = error.description }
            }
            here.signal()
        }.start()
        release.signal()
        await Task.detached { here.wait() }.value
        try await waiting.value
        #expect(outcome.withLock { $0.failure } == nil)
        #expect(outcome.withLock { $0.syncs } == before + 1, "the intent is on disk when appendHere returns")
        #expect(journal.syncCount == before + 1, "the waiting outcome rides on the intent's flush")
        let incidents = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["incident"] as? String
        }
        #expect(incidents == ["INC-1", "INC-2"], "the record waiting first is written first")
    }
}
