import DevRevAPI
import Foundation

/// The HTTP-level behaviour of the sandbox, independent of the socket: authentication, the rate
/// limit, injected faults, routing to the operations, error bodies, headers.
struct SandboxRouter: Sendable {
    enum Answer: Sendable {
        case reply(status: Int, headers: [(String, String)], body: [UInt8])
        /// Close the connection without answering.
        case drop
    }

    let service: IncidentService
    let timeline: TimelineService
    let traffic: TrafficControl
    let token: String
    var statistics = SandboxStatistics()

    static let operations: Set<String> = Set([
        "incidents.create", "incidents.get", "incidents.list", "incidents.update", "incidents.delete", "incidents.group",
    ]).union(TimelineService.operations).union(ReferenceService.operations)

    func respond(method: String, path: String, authorization: String?, body: [UInt8]) -> Answer {
        var headers: [(String, String)] = [("X-Request-Id", traffic.nextRequestID())]
        let operation = String(path.split(separator: "?", maxSplits: 1).first ?? "").trimmingPrefix("/")
        guard method == "POST", Self.operations.contains(String(operation)) else {
            return reply(404, .object(["message": "route not found"]), headers: headers)
        }
        guard let authorization, authorization.hasPrefix("Bearer "), authorization.dropFirst("Bearer ".count) == token else {
            let message = authorization == nil ? "missing Authorization header" : "invalid token"
            return reply(401, SandboxFailure.unauthenticated(message).body, headers: headers)
        }
        let decision = traffic.admit()
        headers += [
            ("X-Ratelimit-Limit", "\(decision.limit)"), ("X-Ratelimit-Remaining", "\(decision.remaining)"),
            ("X-Ratelimit-Reset", "\(decision.reset)"),
        ]
        if let wait = decision.retryAfter {
            statistics.throttled()
            return reply(429, SandboxFailure.tooManyRequests(retryAfter: wait).body, headers: headers + [("Retry-After", "\(wait)")])
        }
        let scheduled = traffic.fault(operation: String(operation))
        let fault = scheduled?.kind
        switch fault {
        case .internalError:
            let failure = SandboxFailure.internalError("injected fault", referenceID: traffic.referenceID())
            return reply(failure.status, failure.body, headers: headers)
        case .unavailable:
            let failure = SandboxFailure.serviceUnavailable("injected fault")
            return reply(failure.status, failure.body, headers: headers)
        case .tooManyRequests:
            let wait = scheduled?.retryAfter ?? 1
            let failure = SandboxFailure.tooManyRequests(retryAfter: wait)
            return reply(failure.status, failure.body, headers: headers + [("Retry-After", "\(wait)")])
        case .drop:
            return .drop
        case .lost, nil:
            break
        case .malformed:
            return .reply(status: 200, headers: headers + [("Content-Type", "application/json")], body: Array(#"{"incident": {"id": "#.utf8))
        case .offSchema:
            let incident = #"{"id":"don:core:dvrv-us-1:devo/0:incident/0","display_id":"INC-0","title":"off schema","stage":{"stage":{"name":7}}}"#
            return .reply(status: 200, headers: headers + [("Content-Type", "application/json")],
                          body: Array(#"{"incident":\#(incident),"incidents":[\#(incident)]}"#.utf8))
        }
        let answer = carryOut(String(operation), body: body, headers: headers)
        return fault == .lost ? .drop : answer
    }

    private func carryOut(_ operation: String, body: [UInt8], headers: [(String, String)]) -> Answer {
        do {
            let result = TimelineService.operations.contains(operation)
                ? try timeline.handle(operation: operation, body: body)
                : ReferenceService.operations.contains(operation)
                ? try ReferenceService(store: timeline.store).handle(operation: operation, body: body)
                : try service.handle(operation: operation, body: body)
            let bytes = try JSONWriter.encode(result.body)
            return .reply(status: result.status, headers: headers + [("Content-Type", "application/json")], body: bytes)
        } catch let failure as SandboxFailure {
            var failure = failure
            if case .internalError(let message, let reference) = failure, reference.isEmpty {
                failure = .internalError(message, referenceID: traffic.referenceID())
            }
            return reply(failure.status, failure.body, headers: headers)
        } catch {
            let failure = SandboxFailure.internalError("\(error)", referenceID: traffic.referenceID())
            return reply(failure.status, failure.body, headers: headers)
        }
    }

    private func reply(_ status: Int, _ body: JSONValue, headers: [(String, String)]) -> Answer {
        let bytes = (try? JSONWriter.bytes(body)) ?? Array(#"{"message":"internal error"}"#.utf8)
        return .reply(status: status, headers: headers + [("Content-Type", "application/json")], body: bytes)
    }
}
