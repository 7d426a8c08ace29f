import DevRevAPI
import Foundation

/// Claims on incidents, so that two runs of one script (two cron hosts, a CronJob started twice)
/// never act on the same incident in the same time window. DevRev itself is the coordinator: a
/// claim is a private timeline entry on the incident whose `external_ref`, unique within the
/// incident's timeline, is derived from the script's name and the window. The first run to post
/// it holds the claim; every other run gets 409 and skips the incident.
///
/// The window is the multiple of WINDOW (counted from the Unix epoch) nearest the run's start,
/// give or take half a window: runs scheduled on those multiples share a claim as long as their
/// clocks, jitter and lock waits put them less than half a window from it.
///
/// `--- @claim WINDOW` claims each incident before the run's first change to it (update, delete,
/// comment, each item of update_many); `incident.claim(id, opts)` claims explicitly.
final class IncidentClaims {
    struct InvalidWindow: Error, CustomStringConvertible {
        let text: String
        var description: String {
            "'\(text)' is not a claim window: use a duration of at least 1m, e.g. 15m or 1h"
        }
    }

    /// Windows shorter than this cannot hold a claim entry: DevRev refuses an expiry sooner than
    /// a minute away.
    static let minimumWindow: Duration = .seconds(60)
    static let referencePrefix = "runbook-claim:"
    static let label = "runbook-claim"

    static func window(parsing text: String) throws(InvalidWindow) -> Duration {
        guard let window = try? DurationArgument.parse(text), window >= minimumWindow else { throw InvalidWindow(text: text) }
        return window
    }

    /// Whether this run holds an incident's claim, or another run does (with what its entry says).
    enum Holding: Equatable {
        case taken
        case lost(holder: String)
    }

    let script: String
    let runID: String
    let host: String
    /// `@claim`: the window of the automatic claims; nil when the script declares none.
    let declaredWindow: Duration?
    /// The run's start, in Unix seconds: what the window is chosen from.
    let startedAt: Int64
    /// `--now` froze the clock: expiries count from `startedAt` too, so a plan is the same on
    /// every run (golden plans in `runbook test`).
    let frozen: Bool
    private var holdings: [String: Holding] = [:]
    /// Incidents skipped because another run holds their claim, in the order met, with the holder.
    private(set) var lost: [(incident: String, holder: String)] = []

    init(script: String, runID: String, host: String, declaredWindow: Duration?, startedAt: Int64, frozen: Bool = false) {
        self.script = script
        self.runID = runID
        self.host = host
        self.declaredWindow = declaredWindow
        self.startedAt = startedAt
        self.frozen = frozen
    }

    /// Whether changes to incidents claim them first.
    var automatic: Bool { declaredWindow != nil }

    /// What the run already knows of an incident's claim.
    func holding(_ incident: String) -> Holding? { holdings[incident] }

    func record(_ holding: Holding, for incident: String) {
        holdings[incident] = holding
        if case .lost(let holder) = holding { lost.append((incident, holder)) }
    }

    /// The window's middle, in Unix seconds: the multiple of `window` nearest the run's start.
    func windowCenter(_ window: Duration) -> Int64 {
        let length = max(1, window.components.seconds)
        let (quotient, remainder) = (startedAt + length / 2).quotientAndRemainder(dividingBy: length)
        return (remainder < 0 ? quotient - 1 : quotient) * length
    }

    /// `runbook-claim:escalate-unacknowledged:2026-11-29T11:30:00Z/30m`. The incident is not in
    /// it: the reference is unique within the incident's own timeline, and naming it (INC-2, or
    /// its DON) could let two spellings of one incident take two claims.
    func reference(window: Duration) -> String {
        let name = script.count > 200 ? String(script.prefix(200)) : script
        return Self.referencePrefix + name + ":" + RFC3339.format(unixSeconds: windowCenter(window)) + "/" + DurationArgument.format(window)
    }

    /// The request that takes the claim: a private entry, labelled, saying who holds it until when,
    /// that expires a window after its window ends (so claims do not pile up on a timeline).
    func request(incident: String, window: Duration) -> JSONValue {
        let length = window.components.seconds
        let center = windowCenter(window)
        let (start, end) = (center - length / 2, center + (length - length / 2))
        let now = frozen ? startedAt : Int64(Date().timeIntervalSince1970)
        let expiry = max(end, now) + length
        let text = "runbook claim: \(script) acts on this incident in the window \(RFC3339.format(unixSeconds: start)) to "
            + "\(RFC3339.format(unixSeconds: end)) (run \(runID) on \(host)); other runs of \(script) skip it until then."
        return .object([
            "type": .string("timeline_comment"),
            "object": .string(incident),
            "body": .string(text),
            "body_type": .string("text"),
            "external_ref": .string(reference(window: window)),
            "visibility": .string("private"),
            "labels": .array([.string(Self.label)]),
            // DevRev's form of a date-time, as the bindings send every one.
            "expires_at": .string(RFC3339.format(Date(timeIntervalSince1970: TimeInterval(expiry)))),
        ])
    }

    /// Whether a timeline entry is a claim (runbook's bookkeeping, not the responders' conversation).
    static func isClaim(_ entry: [String: JSONValue]) -> Bool {
        if case .string(let reference)? = entry["external_ref"] { return reference.hasPrefix(referencePrefix) }
        return false
    }

    /// Who holds a claim, from its entry's text: `run 20261129T113000-1a2b3c on host-b`.
    static func holder(of entry: JSONValue) -> String {
        guard case .object(let fields) = entry, case .object(let found)? = fields["timeline_entry"],
              case .string(let body)? = found["body"]
        else { return "another run" }
        if let open = body.range(of: "(run "), let close = body[open.upperBound...].firstIndex(of: ")") {
            return "run " + body[open.upperBound..<close]
        }
        return "another run"
    }

    /// How this run's claims name their holder: `run 20261129T113000-1a2b3c on host-b`.
    var ownHolder: String { "run \(runID) on \(host)" }

    /// Whether an entry found under the claim's reference is this run's own (a retried create
    /// whose first answer was lost): its text names this run.
    func isOwn(_ entry: JSONValue) -> Bool {
        Self.holder(of: entry) == ownHolder
    }

    /// Posts a claim's entry (`bytes`). On 409 reads the entry under the reference (`lookup`): the
    /// claim is this run's when the entry names `ownHolder` (an earlier attempt's answer was lost), else
    /// another run holds it. Returns the holding and the calls made, for the run report.
    static func post(_ bytes: [UInt8], lookup: [UInt8], incident: String, ownHolder: String, exchange: JournaledExchange) async
        -> (Result<Holding, ScriptFailure>, [DevRevConnection.CallRecord])
    {
        var outcome = await exchange.run(
            .createTimelineEntryWithExternalRef, bytes: bytes, incident: incident,
            conflictNote: "the claim exists already: another run holds it, unless an earlier attempt of this run posted it")
        switch outcome.result {
        case .success:
            outcome.record.claim = .taken
            return (.success(.taken), [outcome.record])
        case .failure(let failure) where failure.status == 409 && !outcome.journalFailed:
            let found = await exchange.run(.getTimelineEntry, bytes: lookup, incident: incident)
            guard case .success(let entry) = found.result else {
                return (found.result.map { _ in .taken }, [outcome.record, found.record])
            }
            let holder = holder(of: entry)
            let own = holder == ownHolder
            outcome.record.claim = own ? .taken : .lost
            return (.success(own ? .taken : .lost(holder: holder)), [outcome.record, found.record])
        case .failure(let failure):
            return (.failure(failure), [outcome.record])
        }
    }

    /// The message of a change skipped because another run holds the incident's claim.
    static func skipMessage(_ function: String, incident: String, holder: String) -> String {
        "\(function): \(incident) skipped: claimed by \(holder) for this window"
    }
}
