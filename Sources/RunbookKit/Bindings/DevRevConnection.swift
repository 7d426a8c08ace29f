import DevRevAPI
import Dispatch
import Logging

/// The run's way to DevRev: settings resolved at start, the client made on first use (so a script
/// that never calls DevRev needs no token), and every call recorded for the run report.
final class DevRevConnection {
    struct Settings: Sendable {
        var baseURL: BaseURL
        /// Nil: no token was configured; the first call fails with a configuration error.
        var token: DevRevToken?
        var logger: Logger
    }

    struct CallRecord: Sendable, Encodable {
        var operation: String
        var incident: String?
        var status: Int?
        var attempts: Int
        var durationMilliseconds: Int
        var error: String?

        enum CodingKeys: String, CodingKey {
            case operation, incident, status, attempts, error
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

    init(settings: Settings, deadline: ContinuousClock.Instant?, journal: AuditJournal?, planner: Planner? = nil) {
        self.settings = settings
        self.deadline = deadline
        self.journal = journal
        self.planner = planner
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

    private func journal(_ record: AuditJournal.Record) throws(ScriptFailure) {
        do {
            try journal?.append(record)
        } catch {
            throw .configuration(error.description)
        }
    }

    /// Sends `body` to `operation` and returns the decoded response. Blocks this (VM) thread
    /// while the async call runs elsewhere.
    func perform(_ operation: DevRevOperation, body: JSONValue, incident: String?) throws(ScriptFailure) -> JSONValue {
        guard let planner, !operation.isRead else {
            return try send(operation, body: body, incident: incident, conflictOnRetryIsDone: operation == .createTimelineEntryWithExternalRef)
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
            return .object(["timeline_entry": planner.planComment(body, incident: id, reference: reference)])
        default:
            return planner.planCall(operation, body: body)
        }
    }

    /// `devrev.call`: a read is sent; a mutation is sent, or planned in a dry run (answered with
    /// nil: what DevRev would answer is unknown).
    func performCall(_ operation: DevRevOperation, body: JSONValue) throws(ScriptFailure) -> JSONValue {
        guard let planner, !operation.isRead else { return try send(operation, body: body, incident: nil) }
        return planner.planCall(operation, body: body)
    }

    /// Sends a request for real (journaling mutations), and lets the planner learn from reads.
    ///
    /// `conflictOnRetryIsDone`: for a create made idempotent by its `external_ref`, a 409 after
    /// more than one attempt means an earlier attempt created the object and only its answer was
    /// lost; it is journaled as done and answered with `.null` (the caller fetches the object).
    func send(_ operation: DevRevOperation, body: JSONValue, incident: String?, conflictOnRetryIsDone: Bool = false) throws(ScriptFailure) -> JSONValue {
        let client = try connect()
        let bytes: [UInt8]
        do {
            bytes = try LuaJSON.encode(body)
        } catch {
            throw ScriptFailure(type: "invalid_request", message: "\(operation): cannot encode the request: \(error)")
        }
        let mutation = !operation.isRead
        if mutation {
            try journal(.init(event: .intent, operation: operation.name, incident: incident, fields: body))
        }
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = self.deadline
        let outcome = BlockingBridge.wait { () async -> Result<DevRevClient.Exchange, DevRevError> in
            do throws(DevRevError) {
                return .success(try await client.send(operation, body: bytes, deadline: deadline))
            } catch {
                return .failure(error)
            }
        }
        let milliseconds = Int((clock.now - start).components.seconds * 1000 + (clock.now - start).components.attoseconds / 1_000_000_000_000_000)
        switch outcome {
        case .success(let exchange):
            calls.append(CallRecord(operation: operation.name, incident: incident, status: exchange.status,
                                    attempts: exchange.attempts, durationMilliseconds: milliseconds))
            if mutation {
                try journal(.init(event: .outcome, operation: operation.name, incident: incident, status: exchange.status,
                                  requestID: exchange.requestID, durationMilliseconds: milliseconds))
            }
            do {
                let response = try LuaJSON.decode(exchange.body)
                return planner?.observe(response) ?? response
            } catch {
                throw ScriptFailure(type: "malformed_response", status: exchange.status,
                                    message: "\(operation): the response is not JSON")
            }
        case .failure(let error) where conflictOnRetryIsDone && error.status == 409 && error.attempts > 1:
            calls.append(CallRecord(operation: operation.name, incident: incident, status: 409,
                                    attempts: error.attempts, durationMilliseconds: milliseconds))
            try journal(.init(event: .outcome, operation: operation.name, incident: incident, status: 409,
                              requestID: error.requestID, durationMilliseconds: milliseconds,
                              note: "done by an earlier attempt: the retry met the entry it had created (external_ref)"))
            return .null
        case .failure(let error):
            calls.append(CallRecord(operation: operation.name, incident: incident, status: error.status,
                                    attempts: error.attempts, durationMilliseconds: milliseconds, error: error.typeName))
            if mutation {
                try journal(.init(event: .outcome, operation: operation.name, incident: incident, status: error.status,
                                  error: error.typeName, requestID: error.requestID, durationMilliseconds: milliseconds))
            }
            throw ScriptFailure(error)
        }
    }

    private func connect() throws(ScriptFailure) -> DevRevClient {
        if let client { return client }
        guard let token = settings.token else {
            throw .configuration("no DevRev token: set DEVREV_TOKEN, pass --token-file, or use --sandbox")
        }
        let client = DevRevClient(
            configuration: DevRevConfiguration(baseURL: settings.baseURL, token: token, userAgent: "runbook/\(RunbookVersion.number)"),
            logger: settings.logger)
        self.client = client
        return client
    }

    /// Closes the connection pool.
    func shutdown() {
        guard let client else { return }
        BlockingBridge.wait { try? await client.shutdown() }
        self.client = nil
    }
}

/// Runs async work from a thread that may block (the VM's own thread, never a cooperative-pool
/// thread) and waits for its result.
enum BlockingBridge {
    static func wait<Result: Sendable>(_ work: @escaping @Sendable () async -> Result) -> Result {
        let box = ResultBox<Result>()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = await work()
            done.signal()
        }
        done.wait()
        guard let value = box.value else { fatalError("the async work ended without a result") }
        return value
    }

    /// Written by the task before it signals, read after the wait.
    private final class ResultBox<Value>: @unchecked Sendable {
        var value: Value?
    }
}
