import DevRevAPI
import Logging
import LuaRuntime

/// The run's way to DevRev: settings resolved at start, the client made on first use (so a script
/// that never calls DevRev needs no token), and every call recorded for the run report.
final class DevRevConnection {
    struct Settings: Sendable {
        var baseURL: BaseURL
        /// Nil: no token was configured; the first call fails with a configuration error.
        var token: DevRevToken?
        var logger: Logger
        /// How failed calls are retried; DevRev's defaults unless a test shortens the waits.
        var retry = DevRevConfiguration.RetryPolicy()

        /// A client for these settings; a configuration error when no token was configured.
        func makeClient() throws(ScriptFailure) -> DevRevClient {
            guard let token else {
                throw .configuration("no DevRev token: set DEVREV_TOKEN, pass --token-file, or use --sandbox")
            }
            return DevRevClient(
                configuration: DevRevConfiguration(baseURL: baseURL, token: token, userAgent: "runbook/\(RunbookVersion.number)", retry: retry),
                logger: logger)
        }
    }

    struct CallRecord: Sendable, Encodable {
        var operation: String
        var incident: String?
        var status: Int?
        var attempts: Int
        var durationMilliseconds: Int
        var error: String?
        /// A claim's call (`--- @claim`, `incident.claim`): whether this run took the claim.
        var claim: ClaimResult?

        enum ClaimResult: String, Sendable, Encodable {
            case taken, lost
        }

        enum CodingKeys: String, CodingKey {
            case operation, incident, status, attempts, error, claim
            case durationMilliseconds = "duration_ms"
        }
    }

    let settings: Settings
    private let deadline: ContinuousClock.Instant?
    /// Where mutations are journaled; nil only in unit tests of the bindings.
    private let journal: AuditJournal?
    /// Set in a dry run: mutations are planned, not sent.
    let planner: Planner?
    private var client: DevRevClient?
    private(set) var calls: [CallRecord] = []
    /// The incidents the run read last, as DevRev answered them, for the before of the updates
    /// it journals.
    private var lastRead = IncidentMemory()
    /// Next pages already requested, by their exact request bytes; a few walks at most.
    private var readAhead: [(request: [UInt8], task: Task<JournaledExchange.Outcome, Never>)] = []
    static let readAheadWalks = 4
    /// How often a running batch logs its progress (at info).
    static let progressInterval: Duration = .seconds(10)

    /// The run's claims on incidents (`--- @claim`, `incident.claim`); nil in unit tests of the bindings.
    let claims: IncidentClaims?

    init(settings: Settings, deadline: ContinuousClock.Instant?, journal: AuditJournal?, planner: Planner? = nil, claims: IncidentClaims? = nil) {
        self.settings = settings
        self.deadline = deadline
        self.journal = journal
        self.planner = planner
        self.claims = claims
    }

    /// The incident as the run knows it, else as DevRev has it now (a real read).
    private func current(_ id: String) throws(ScriptFailure) -> [String: JSONValue] {
        if let known = planner?.known(id) { return known }
        let response = try send(.getIncident, body: .object(["id": .string(id)]), incident: id)
        guard case .object(let fields) = response, case .object(let incident)? = fields["incident"] else {
            throw ScriptFailure(type: "malformed_response", message: "incidents.get: the response has no incident")
        }
        return incident
    }

    /// Sends `body` to `operation` and returns the decoded response. Blocks this (VM) thread
    /// while the async call runs elsewhere.
    func perform(_ operation: DevRevOperation, body: JSONValue, incident: String?) throws(ScriptFailure) -> JSONValue {
        try perform(operation, request: EncodedRequest(body, for: operation), incident: incident)
    }

    /// Sends `request` to `operation` (in a dry run, plans it from `request.body`).
    func perform(_ operation: DevRevOperation, request: EncodedRequest, incident: String?) throws(ScriptFailure) -> JSONValue {
        // An incident this dry run plans to create is this run's alone: nothing to claim.
        if let id = incident, let claims, let window = claims.declaredWindow, Self.claimsBefore(operation), planner?.plannedCreate(id) == nil,
           case .lost(let holder) = try claim(id, window: window)
        {
            throw skipped(operation, bytes: request.bytes, incident: id, holder: holder)
        }
        if let planner, operation == .getIncident, let id = incident, let planned = planner.plannedCreate(id) {
            return .object(["incident": .object(planned)])
        }
        guard let planner, !operation.isRead else {
            return try send(operation, request: request, incident: incident, conflictOnRetryIsDone: operation == .createTimelineEntryWithExternalRef)
        }
        let body = request.body
        if operation == .updateIncident || operation == .createIncident {
            try checkReferences(of: body, in: operation == .updateIncident ? "incident.update" : "incident.create", planner: planner)
            // Reads that name the values the change sets, so the plan shows them as DevRev would.
            for lookup in planner.lookups(for: body) {
                _ = try? send(.listIncidents, body: lookup, incident: nil)
            }
        }
        switch operation {
        case .updateIncident:
            let before = try current(incident ?? "")
            return .object(["incident": planner.planUpdate(body, current: before)])
        case .createIncident:
            return .object(["incident": planner.planCreate(body)])
        case .deleteIncident:
            let id = incident ?? ""
            planner.planDelete(id, current: try current(id))
            return .object([:])
        case .createTimelineEntry, .createTimelineEntryWithExternalRef:
            let id = incident ?? ""
            let reference = planner.known(id).flatMap { Planner.text($0["display_id"]) } ?? id
            // A comment whose external_ref is already on the incident was posted before: the
            // real run would meet a 409 and fetch it; the plan has nothing to do. (The references
            // runbook makes itself, `runbook:<run id>:<n>`, are new with every run.)
            if case .object(let fields) = body, case .string(let externalRef)? = fields["external_ref"], !externalRef.hasPrefix("runbook:"),
               let existing = try? send(.getTimelineEntry, body: .object(["id": .string(id), "external_ref": .string(externalRef)]), incident: id),
               case .object(let found) = existing, found["timeline_entry"] != nil
            {
                planner.alreadyPosted(externalRef, on: reference)
                return existing
            }
            return .object(["timeline_entry": planner.planComment(body, incident: id, reference: reference)])
        default:
            return planner.planCall(operation, body: body)
        }
    }

    /// The changes `--- @claim` claims an incident before: updates, deletes and comments.
    static func claimsBefore(_ operation: DevRevOperation) -> Bool {
        [DevRevOperation.updateIncident.name, DevRevOperation.deleteIncident.name, DevRevOperation.createTimelineEntry.name].contains(operation.name)
    }

    /// A change left out because another run holds its incident's claim: journaled as not sent
    /// (unless planning), answered with a `claimed` failure the bindings turn into `nil, message`.
    private func skipped(_ operation: DevRevOperation, bytes: [UInt8], incident: String, holder: String) -> ScriptFailure {
        let message = IncidentClaims.skipMessage(operation.name, incident: incident, holder: holder)
        if planner == nil { journalNotSent(operation: operation.name, incident: incident, bytes: bytes, note: "skipped: \(holder) holds the incident's claim") }
        return ScriptFailure(type: "claimed", status: 409, message: message)
    }

    /// This run's claim on `incident` for `window`: taken now or earlier, or held by another run.
    /// Planning, the claim is looked up (another run's shows as lost) and planned, not sent.
    func claim(_ incident: String, window: Duration) throws(ScriptFailure) -> IncidentClaims.Holding {
        guard let claims else { return .taken }
        if let known = claims.holding(incident) { return known }
        guard let planner else {
            if let failure = try claimAll([incident], window: window, concurrency: 1)[incident] { throw failure }
            return claims.holding(incident) ?? .taken
        }
        let holding: IncidentClaims.Holding
        do {
            let existing = try send(.getTimelineEntry, body: claimLookup(incident, window: window), incident: incident)
            holding = claims.isOwn(existing) ? .taken : .lost(holder: IncidentClaims.holder(of: existing))
        } catch where error.status == 404 {
            let reference = planner.known(incident).flatMap { Planner.text($0["display_id"]) } ?? incident
            planner.planClaim(claims.request(incident: incident, window: window), incident: incident, reference: reference)
            holding = .taken
        }
        claims.record(holding, for: incident)
        return holding
    }

    /// The read that finds the claim entry of `incident` for `window`.
    private func claimLookup(_ incident: String, window: Duration) -> JSONValue {
        .object(["id": .string(incident), "external_ref": .string(claims?.reference(window: window) ?? "")])
    }

    /// Sends a planned claim (`apply`, the second phase of `--max-changes`): the plan's run holds
    /// it when the entry found on a 409 is the one planned (the plan applied twice: `existed`).
    func postPlannedClaim(_ body: JSONValue, incident: String) throws(ScriptFailure) -> (holding: IncidentClaims.Holding, existed: Bool) {
        guard case .object(let fields) = body, let reference = fields["external_ref"] else {
            throw ScriptFailure(type: "invalid_request", message: "a planned claim on \(incident) has no external_ref")
        }
        let exchange = try exchanger()
        let bytes = try encode(body, .createTimelineEntryWithExternalRef)
        let lookup = try encode(.object(["id": .string(incident), "external_ref": reference]), .getTimelineEntry)
        let ownHolder = IncidentClaims.holder(of: .object(["timeline_entry": body]))
        let (result, records) = BlockingBridge.wait(on: exchange.client.taskExecutor) {
            await IncidentClaims.post(bytes, lookup: lookup, incident: incident, ownHolder: ownHolder, exchange: exchange)
        }
        calls += records
        return (try result.get(), records.first?.status == 409)
    }

    /// `devrev.call`: a read is sent; a mutation is sent, or planned in a dry run (answered with
    /// nil: what DevRev would answer is unknown).
    func performCall(_ operation: DevRevOperation, body: JSONValue) throws(ScriptFailure) -> JSONValue {
        guard let planner, !operation.isRead else { return try send(operation, body: body, incident: nil) }
        return planner.planCall(operation, body: body)
    }

    /// Sends a request for real (journaling mutations), and lets the planner learn from reads.
    /// `conflictOnRetryIsDone`: see `JournaledExchange.run`; such a create is answered `.null`
    /// when a retry found it done (the caller fetches the object).
    func send(_ operation: DevRevOperation, body: JSONValue, incident: String?, conflictOnRetryIsDone: Bool = false) throws(ScriptFailure) -> JSONValue {
        try send(operation, request: EncodedRequest(body, for: operation), incident: incident, conflictOnRetryIsDone: conflictOnRetryIsDone)
    }

    private func send(_ operation: DevRevOperation, request: EncodedRequest, incident: String?, conflictOnRetryIsDone: Bool) throws(ScriptFailure) -> JSONValue {
        let exchange = try exchanger()
        let bytes = request.bytes
        let update = updateBasis(operation, fields: request.fields, incident: incident)
        let outcome = exchange.runHere(operation, bytes: bytes, incident: incident, conflictOnRetryIsDone: conflictOnRetryIsDone, update: update)
        calls.append(outcome.record)
        let response = try outcome.result.get()
        lastRead.remember(response)
        return planner?.observe(response) ?? response
    }

    /// Journals a change the run meant to send and did not (`not_sent`, with the body it would
    /// have sent), so the journal lists what an apply left undone.
    func journalNotSent(operation: String, incident: String?, body: JSONValue, note: String) {
        guard let bytes = try? JSONWriter.bytes(body) else { return }
        journalNotSent(operation: operation, incident: incident, bytes: bytes, note: note)
    }

    private func journalNotSent(operation: String, incident: String?, bytes: [UInt8], note: String) {
        guard let journal else { return }
        let record = AuditJournal.Record(event: .notSent, operation: operation, incident: incident, body: bytes, note: note)
        try? journal.appendHere(record)
    }

    /// One page of a list (`incidents.list`, `timeline-entries.list`), and the request for the
    /// next page started before this one is handed back, so the script works on one page while
    /// the next is on its way: one page ahead, never more. The page comes from that read-ahead when
    /// the request matches it byte for byte. Errors of a read-ahead surface when its page is asked for.
    func readPage(_ operation: DevRevOperation, body: JSONValue, incident: String?) throws(ScriptFailure) -> JSONValue {
        let (outcome, exchange) = try takePage(operation, body: body, incident: incident)
        return try settle(outcome, operation, body: body, incident: incident, exchange)
    }

    /// A page of `incidents.list` (read as `readPage` reads it), its items pushed onto `results`:
    /// straight from the page's bytes (`PageDecoder`) in a run that sends, else (a dry run, or a
    /// page the decoder gives up on) parsed, learnt from and checked as `readPage` and
    /// `ResponseShape.items` do, with their errors. The page's `next_cursor` is returned.
    func pushIncidentPage(body: JSONValue, into results: inout LuaResults) throws -> JSONValue? {
        let (outcome, exchange) = try takePage(.listIncidents, body: body, incident: nil)
        if let raw = outcome.body, let decoded = PageDecoder.pushIncidents(of: raw, into: &results) {
            lastRead.remember(decoded.incidents, in: raw)
            let next = decoded.nextCursor.map(JSONValue.string)
            startReadAhead(.listIncidents, body: body, incident: nil, next: next, exchange)
            return next
        }
        guard case .object(let page) = try settle(outcome, .listIncidents, body: body, incident: nil, exchange) else {
            throw ScriptFailure(type: "malformed_response", message: "incident.list: the response is not an object")
        }
        try LuaJSON.push(.array(try ResponseShape.items(in: page, key: "incidents", operation: "incident.list")), to: &results)
        return page["next_cursor"]
    }

    /// A page's answer, decoded (when its exchange left it undecoded), remembered, its next page
    /// started, and seen by the planner.
    private func settle(_ outcome: JournaledExchange.Outcome, _ operation: DevRevOperation, body: JSONValue, incident: String?,
                        _ exchange: JournaledExchange) throws(ScriptFailure) -> JSONValue {
        var response = try outcome.result.get()
        if let raw = outcome.body { response = try JournaledExchange.decode(raw, status: outcome.record.status ?? 200, of: operation).get() }
        lastRead.remember(response)
        if case .object(let page) = response { startReadAhead(operation, body: body, incident: incident, next: page["next_cursor"], exchange) }
        return planner?.observe(response, listRequest: operation == .listIncidents ? body : nil) ?? response
    }

    /// Whether a page of `operation` is left undecoded by its exchange, for `PageDecoder`:
    /// `incidents.list` in a run that sends (a dry run's planner learns from the parsed pages).
    private func readsRaw(_ operation: DevRevOperation) -> Bool {
        operation == .listIncidents && planner == nil
    }

    /// The answer to a page's request: its read-ahead's, when one was started for exactly these
    /// bytes, else a new exchange's. The call is recorded.
    private func takePage(_ operation: DevRevOperation, body: JSONValue, incident: String?) throws(ScriptFailure) -> (JournaledExchange.Outcome, JournaledExchange) {
        precondition(operation.isRead, "only reads are read ahead")
        let exchange = try exchanger()
        let bytes = try encode(body, operation)
        let outcome: JournaledExchange.Outcome
        if let index = readAhead.firstIndex(where: { $0.request == bytes }) {
            let task = readAhead.remove(at: index).task
            outcome = BlockingBridge.wait(on: exchange.client.taskExecutor) { await task.value }
        } else {
            let raw = readsRaw(operation)
            outcome = exchange.runHere(operation, bytes: bytes, incident: incident, decodes: !raw)
        }
        calls.append(outcome.record)
        return (outcome, exchange)
    }

    /// Starts the request for the page after the one `body` asked for, when `next` is a cursor.
    private func startReadAhead(_ operation: DevRevOperation, body: JSONValue, incident: String?, next: JSONValue?, _ exchange: JournaledExchange) {
        guard case .object(var request) = body, case .string(let cursor)? = next, !cursor.isEmpty else { return }
        request["cursor"] = .string(cursor)
        guard let nextBytes = try? encode(.object(request), operation) else { return }
        let raw = readsRaw(operation)
        let task = Task(executorPreference: exchange.client.taskExecutor) {
            await exchange.run(operation, bytes: nextBytes, incident: incident, decodes: !raw)
        }
        readAhead.append((nextBytes, task))
        // A walk the script abandoned keeps one page here; only the latest few are kept.
        while readAhead.count > Self.readAheadWalks { readAhead.removeFirst().task.cancel() }
    }

    /// One call of a batch.
    struct BatchItem {
        var operation: DevRevOperation
        var request: EncodedRequest
        var incident: String?
    }

    /// How a batch item ended.
    enum BatchResult {
        case success(JSONValue)
        case failure(ScriptFailure)
        /// Not started: `stopOnError` after an earlier failure, or a signal stopped the run.
        case notAttempted
    }

    /// Runs `items` with at most `concurrency` in flight, in input order of start; results in input
    /// order. Every call shares the client's rate-limit pacing. With `stopOnError`, no item starts
    /// after one has failed; after SIGINT or SIGTERM none starts either (those in flight finish and
    /// are journaled). In a dry run, mutations are planned one by one instead.
    func performBatch(_ items: [BatchItem], concurrency: Int, stopOnError: Bool) throws(ScriptFailure) -> [BatchResult] {
        if planner != nil, items.contains(where: { !$0.operation.isRead }) {
            var results: [BatchResult] = []
            var failed = false
            for item in items {
                if failed && stopOnError {
                    results.append(.notAttempted)
                    continue
                }
                do throws(ScriptFailure) {
                    results.append(.success(try perform(item.operation, request: item.request, incident: item.incident)))
                } catch {
                    failed = true
                    results.append(.failure(error))
                }
            }
            return results
        }
        let exchange = try exchanger()
        // Under `@claim`, the items' incidents are claimed first (side by side); an item whose
        // claim another run holds, or could not be taken, is not sent.
        var settled: [Int: ScriptFailure] = [:]
        if let claims, let window = claims.declaredWindow {
            let claimed = items.filter { Self.claimsBefore($0.operation) }.compactMap(\.incident)
            var seen: Set<String> = []
            let pending = claimed.filter { claims.holding($0) == nil && seen.insert($0).inserted }
            let failures = try claimAll(pending, window: window, concurrency: concurrency)
            for (index, item) in items.enumerated() where Self.claimsBefore(item.operation) {
                guard let id = item.incident else { continue }
                if let failure = failures[id] {
                    settled[index] = failure
                } else if case .lost(let holder)? = claims.holding(id) {
                    settled[index] = skipped(item.operation, bytes: item.request.bytes, incident: id, holder: holder)
                }
            }
        }
        var encoded: [(DevRevOperation, [UInt8], String?, FieldChanges.Basis?)] = []
        var sentIndices: [Int] = []
        for (index, item) in items.enumerated() where settled[index] == nil {
            let request = item.request
            encoded.append((item.operation, request.bytes, item.incident, updateBasis(item.operation, fields: request.fields, incident: item.incident)))
            sentIndices.append(index)
        }
        let work = encoded
        let logger = settings.logger
        let name = "\(items.first?.operation.name ?? "batch") batch"
        let outcomes = BlockingBridge.wait { () async -> [JournaledExchange.Outcome?] in
            let board = BatchBoard(count: work.count, stopOnError: stopOnError)
            let start = ContinuousClock.now
            // At --log-level info a long batch says how far it is, every progressInterval.
            let reporter = Task {
                while true {
                    try await Task.sleep(for: Self.progressInterval)
                    let (done, errors) = board.progress
                    logger.info("\(name): \(done) of \(work.count) done", metadata: ["errors": "\(errors)"])
                }
            }
            defer {
                reporter.cancel()
                let (done, errors) = board.progress
                logger.info("\(name): \(done) of \(work.count) done", metadata: [
                    "errors": "\(errors)", "seconds": "\((ContinuousClock.now - start).components.seconds)",
                ])
            }
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<max(1, min(concurrency, work.count)) {
                    group.addTask {
                        while let index = board.next() {
                            let (operation, bytes, incident, update) = work[index]
                            let outcome = await exchange.run(operation, bytes: bytes, incident: incident, update: update)
                            board.finish(index, outcome)
                        }
                    }
                }
            }
            return board.outcomes
        }
        var results: [BatchResult] = items.indices.map { settled[$0].map(BatchResult.failure) ?? .notAttempted }
        var journalFailure: ScriptFailure?
        for (position, outcome) in outcomes.enumerated() {
            let index = sentIndices[position]
            guard let outcome else { continue }
            calls.append(outcome.record)
            if outcome.journalFailed, case .failure(let failure) = outcome.result { journalFailure = journalFailure ?? failure }
            switch outcome.result {
            case .success(let response):
                lastRead.remember(response)
                results[index] = .success(planner?.observe(response) ?? response)
            case .failure(let failure): results[index] = .failure(failure)
            }
        }
        if let journalFailure { throw journalFailure }
        return results
    }

    /// Claims `incidents` for `window`, at most `concurrency` at once, recording each holding;
    /// returns the incidents whose claim could not be settled (DevRev unavailable, say), with why.
    /// A journal that stops accepting records stops the batch.
    private func claimAll(_ incidents: [String], window: Duration, concurrency: Int) throws(ScriptFailure) -> [String: ScriptFailure] {
        guard let claims, !incidents.isEmpty else { return [:] }
        let exchange = try exchanger()
        var work: [(incident: String, request: [UInt8], lookup: [UInt8])] = []
        for id in incidents {
            work.append((id, try encode(claims.request(incident: id, window: window), .createTimelineEntryWithExternalRef),
                         try encode(claimLookup(id, window: window), .getTimelineEntry)))
        }
        let jobs = work
        let ownHolder = claims.ownHolder
        let answers = BlockingBridge.wait { () async -> [(Result<IncidentClaims.Holding, ScriptFailure>, [CallRecord])] in
            await withTaskGroup(of: (Int, Result<IncidentClaims.Holding, ScriptFailure>, [CallRecord]).self) { group in
                var answers = [(Result<IncidentClaims.Holding, ScriptFailure>, [CallRecord])?](repeating: nil, count: jobs.count)
                var next = 0
                func start() {
                    let index = next
                    next += 1
                    let job = jobs[index]
                    group.addTask {
                        let (result, records) = await IncidentClaims.post(job.request, lookup: job.lookup, incident: job.incident, ownHolder: ownHolder, exchange: exchange)
                        return (index, result, records)
                    }
                }
                while next < min(max(1, concurrency), jobs.count) { start() }
                while let (index, result, records) = await group.next() {
                    answers[index] = (result, records)
                    if next < jobs.count { start() }
                }
                return answers.compactMap { $0 }
            }
        }
        var failures: [String: ScriptFailure] = [:]
        for (job, (result, records)) in zip(work, answers) {
            calls += records
            switch result {
            case .success(let holding): claims.record(holding, for: job.incident)
            case .failure(let failure) where failure.type == "configuration": throw failure
            case .failure(let failure): failures[job.incident] = failure
            }
        }
        return failures
    }

    /// For an update: the fields it sets and the incident as the run last read it, for its journal record.
    private func updateBasis(_ operation: DevRevOperation, fields: [String], incident: String?) -> FieldChanges.Basis? {
        guard operation == .updateIncident else { return nil }
        return FieldChanges.Basis(fields: fields, before: incident.flatMap(lastRead.fields))
    }

    private func encode(_ body: JSONValue, _ operation: DevRevOperation) throws(ScriptFailure) -> [UInt8] {
        try EncodedRequest.bytes(of: body, for: operation)
    }

    private func exchanger() throws(ScriptFailure) -> JournaledExchange {
        JournaledExchange(client: try connect(), journal: journal, deadline: deadline)
    }

    private func connect() throws(ScriptFailure) -> DevRevClient {
        if let client { return client }
        let client = try settings.makeClient()
        self.client = client
        return client
    }

    /// How long the run's calls have waited for DevRev's rate limit so far.
    var rateLimitWait: Duration {
        guard let client else { return .zero }
        return BlockingBridge.wait { await client.rateLimitWait }
    }

    /// Closes the connection pool.
    func shutdown() {
        let pending = readAhead.map(\.task)
        readAhead = []
        if !pending.isEmpty {
            pending.forEach { $0.cancel() }
            BlockingBridge.wait { for task in pending { _ = await task.value } }
        }
        guard let client else { return }
        BlockingBridge.wait { try? await client.shutdown() }
        self.client = nil
    }
}
