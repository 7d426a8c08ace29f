import DevRevAPI

/// One request to DevRev as a run makes it: a mutation journaled before it is sent (intent) and
/// after (outcome), the response decoded, the call recorded for the run report. Sendable, so the
/// calls of `update_many` can run side by side.
struct JournaledExchange: Sendable {
    let client: DevRevClient
    /// Where mutations are journaled; nil only in unit tests of the bindings.
    let journal: AuditJournal?
    let deadline: ContinuousClock.Instant?

    struct Outcome: Sendable {
        var record: DevRevConnection.CallRecord
        /// The decoded response; `.null` for a create a retry found already done, and for a
        /// response left undecoded (`body`).
        var result: Result<JSONValue, ScriptFailure>
        /// The response's bytes, when the exchange was asked not to decode them.
        var body: [UInt8]?
        /// The journal could not be written: the run must stop.
        var journalFailed = false
    }

    /// Sends the request body `bytes`, journaling exactly those bytes as the intent's fields. `conflictOnRetryIsDone`: for a create made
    /// idempotent by its `external_ref`, a 409 after more than one attempt means an earlier
    /// attempt created the object and only its answer was lost; it is journaled as done and
    /// answered with `.null`.
    /// `update`: for an update, the fields it sets and the incident as the run last read it, so
    /// the outcome can record each field's before and after.
    /// `conflictNote`: what a 409 means for this request, in its outcome record (a claim another
    /// run holds).
    /// `decodes`: false for a read whose answer the caller decodes itself (`decode(_:status:of:)`
    /// says the same of it as this would): the outcome holds the bytes.
    func run(
        _ operation: DevRevOperation, bytes: [UInt8], incident: String?, conflictOnRetryIsDone: Bool = false,
        update: FieldChanges.Basis? = nil, conflictNote: String? = nil, decodes: Bool = true
    ) async -> Outcome {
        let opening = open(operation, bytes: bytes, incident: incident)
        if let record = opening.record, let failure = await write(record) { return opening.journalFailed(failure) }
        if let refused = opening.refused { return refused }
        let sent = await send(operation, bytes: bytes)
        let closing = close(sent, operation, incident: incident, conflictOnRetryIsDone: conflictOnRetryIsDone,
                            update: update, conflictNote: conflictNote, decodes: decodes)
        if let record = closing.record, let failure = await write(record) { return closing.journalFailed(failure, writing: record) }
        return closing.outcome
    }

    /// `run` from a VM thread, which blocks until the outcome is there: the journal's records are
    /// written on this thread (`AuditJournal.appendHere`), and only the request goes to the
    /// client's event loop, where it is sent, read and retried. One serial call crosses between
    /// two threads twice, instead of hopping through Swift's global pool and the journal's writer.
    func runHere(
        _ operation: DevRevOperation, bytes: [UInt8], incident: String?, conflictOnRetryIsDone: Bool = false,
        update: FieldChanges.Basis? = nil, decodes: Bool = true
    ) -> Outcome {
        let opening = open(operation, bytes: bytes, incident: incident)
        if let record = opening.record, let failure = writeHere(record) { return opening.journalFailed(failure) }
        if let refused = opening.refused { return refused }
        let sent = BlockingBridge.wait(on: client.taskExecutor) { await send(operation, bytes: bytes) }
        let closing = close(sent, operation, incident: incident, conflictOnRetryIsDone: conflictOnRetryIsDone,
                            update: update, conflictNote: nil, decodes: decodes)
        if let record = closing.record, let failure = writeHere(record) { return closing.journalFailed(failure, writing: record) }
        return closing.outcome
    }

    /// What an exchange journals before it sends (a mutation's intent, or `not_sent`), and the
    /// outcome when it sends nothing.
    private struct Opening {
        var record: AuditJournal.Record?
        /// Why it is not sent: the request is too large (refused before the journal), or the run's
        /// deadline passed (journaled as `not_sent`).
        var refusal: ScriptFailure?
        /// The call as the run report has it so far (nothing sent).
        var callRecord: DevRevConnection.CallRecord

        /// The outcome of a call that is not sent.
        var refused: Outcome? {
            refusal.map { Outcome(record: callRecord, result: .failure($0)) }
        }

        func journalFailed(_ failure: ScriptFailure) -> Outcome {
            Outcome(record: callRecord, result: .failure(failure), journalFailed: true)
        }
    }

    private func open(_ operation: DevRevOperation, bytes: [UInt8], incident: String?) -> Opening {
        let mutation = !operation.isRead
        var record = DevRevConnection.CallRecord(operation: operation.name, incident: incident, attempts: 0, durationMilliseconds: 0)
        guard bytes.count <= DevRevClient.maximumRequestBodySize else {
            // Refused before the journal: it was never going to be sent.
            record.error = "validation"
            let failure = ScriptFailure.validation(operation.name, field: nil, DevRevClient.oversizedRequestMessage(bytes.count))
            return Opening(refusal: failure, callRecord: record)
        }
        if let deadline, ContinuousClock.now >= deadline {
            // Never sent (a batch item the deadline reached first): journaled as such, not as a
            // request that timed out.
            record.error = "not_sent"
            let journaled = mutation
                ? AuditJournal.Record(event: .notSent, operation: operation.name, incident: incident, body: bytes,
                                      note: "the run's deadline passed before it was sent")
                : nil
            let failure = ScriptFailure(type: "timeout", message: "\(operation): not sent: the run's deadline passed")
            return Opening(record: journaled, refusal: failure, callRecord: record)
        }
        let intent = mutation ? AuditJournal.Record(event: .intent, operation: operation.name, incident: incident, body: bytes) : nil
        return Opening(record: intent, callRecord: record)
    }

    /// The request on the wire, with the client's retries, and how long it took.
    private struct Sent: Sendable {
        var result: Result<DevRevClient.Exchange, DevRevError>
        var milliseconds: Int
    }

    private func send(_ operation: DevRevOperation, bytes: [UInt8]) async -> Sent {
        let clock = ContinuousClock()
        let start = clock.now
        let result: Result<DevRevClient.Exchange, DevRevError>
        SignalWatcher.requestStarted()
        do throws(DevRevError) {
            defer { SignalWatcher.requestFinished() }
            result = .success(try await client.send(operation, body: bytes, deadline: deadline))
        } catch {
            result = .failure(error)
        }
        return Sent(result: result, milliseconds: Int((clock.now - start).wholeMilliseconds))
    }

    /// The outcome of a request that was sent: its answer decoded, and for a mutation the outcome
    /// record to journal.
    private struct Closing {
        var record: AuditJournal.Record?
        var outcome: Outcome

        /// The request was sent and answered (`record`): say what happened, since the journal cannot.
        func journalFailed(_ failure: ScriptFailure, writing record: AuditJournal.Record) -> Outcome {
            let answered = AuditJournal.summary(of: record)
            let lost = ScriptFailure.configuration("\(failure.message); it was sent and answered (\(answered)), and that is not in the journal")
            return Outcome(record: outcome.record, result: .failure(lost), journalFailed: true)
        }
    }

    private func close(
        _ sent: Sent, _ operation: DevRevOperation, incident: String?, conflictOnRetryIsDone: Bool,
        update: FieldChanges.Basis?, conflictNote: String?, decodes: Bool
    ) -> Closing {
        let mutation = !operation.isRead
        let milliseconds = sent.milliseconds
        var record = DevRevConnection.CallRecord(operation: operation.name, incident: incident, attempts: 0, durationMilliseconds: milliseconds)
        var outcome: AuditJournal.Record
        var answer: Result<JSONValue, ScriptFailure>
        var undecoded: [UInt8]?
        switch sent.result {
        case .success(let exchange):
            record.status = exchange.status
            record.attempts = exchange.attempts
            outcome = .init(event: .outcome, operation: operation.name, incident: incident, status: exchange.status,
                            requestID: exchange.requestID, durationMilliseconds: milliseconds)
            if decodes || mutation {
                answer = Self.decode(exchange.body, status: exchange.status, of: operation)
                if let update, case .success(let value) = answer { outcome.changes = FieldChanges.of(update, answer: value) }
            } else {
                answer = .success(.null)
                undecoded = exchange.body
            }
        case .failure(let error) where conflictOnRetryIsDone && error.status == 409 && error.attempts > 1:
            record.status = 409
            record.attempts = error.attempts
            outcome = .init(event: .outcome, operation: operation.name, incident: incident, status: 409,
                            requestID: error.requestID, durationMilliseconds: milliseconds,
                            note: "done by an earlier attempt: the retry met the entry it had created (external_ref)")
            answer = .success(.null)
        case .failure(let error):
            record.status = error.status
            record.attempts = error.attempts
            record.error = error.typeName
            outcome = .init(event: .outcome, operation: operation.name, incident: incident, status: error.status,
                            error: error.typeName, requestID: error.requestID, durationMilliseconds: milliseconds,
                            note: error.status == 409 ? conflictNote : nil)
            answer = .failure(ScriptFailure(error))
        }
        return Closing(record: mutation ? outcome : nil, outcome: Outcome(record: record, result: answer, body: undecoded))
    }

    /// A successful answer's body parsed and held to its operation's response schema.
    static func decode(_ body: [UInt8], status: Int, of operation: DevRevOperation) -> Result<JSONValue, ScriptFailure> {
        do {
            let value = try LuaJSON.decode(body)
            if let problem = ResponseSchema.problem(in: value, of: operation) {
                return .failure(ScriptFailure(type: "malformed_response", status: status,
                                              message: "\(operation): the response does not match DevRev's schema: \(problem)"))
            }
            return .success(value)
        } catch {
            return .failure(ScriptFailure(type: "malformed_response", status: status, message: "\(operation): the response is not JSON: \(error)"))
        }
    }

    private func write(_ record: AuditJournal.Record) async -> ScriptFailure? {
        do {
            try await journal?.append(record)
            return nil
        } catch {
            return .configuration(error.description)
        }
    }

    private func writeHere(_ record: AuditJournal.Record) -> ScriptFailure? {
        do {
            try journal?.appendHere(record)
            return nil
        } catch {
            return .configuration(error.description)
        }
    }
}
