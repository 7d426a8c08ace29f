import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// From what went wrong on the wire to a `DevRevError`: DevRev's error bodies and headers, transport
// failures, and the redaction of every text that may quote the request.
extension DevRevClient {
    func httpError(operation: DevRevOperation, status: Int, headers: HTTPHeaders, body: [UInt8], requestID: String?) -> DevRevError {
        var error = DevRevError(kind: status == 301 ? .moved : .http, operation: operation.name, status: status, message: "")
        error.requestID = requestID
        if let parsed = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)) {
            error.type = parsed.type.map(DevRevErrorType.init(rawValue:)) ?? DevRevErrorType.documented(forStatus: status)
            error.message = parsed.message ?? ""
            error.detail = parsed.detail
            error.fieldName = parsed.fieldName
            error.referenceID = parsed.referenceID
            error.existingParent = parsed.existingParent
            error.isSame = parsed.isSame
            if let seconds = parsed.retryAfter, seconds >= 0 { error.retryAfter = .seconds(seconds) }
        } else {
            error.type = DevRevErrorType.documented(forStatus: status)
            if !body.isEmpty { error.bodyExcerpt = Self.excerpt(body, redacting: configuration.token.value) }
        }
        if let header = headers.first(name: "retry-after"), let wait = Self.retryAfter(header) {
            // Wait for the longer of the header and the body's retry_after: never less than asked.
            error.retryAfter = max(error.retryAfter ?? .zero, wait)
        }
        if status == 301 {
            error.movedTo = headers.first(name: "location").map { location in
                Self.redacting(configuration.token.value, in: location.split(separator: "/").last.map(String.init) ?? location)
            }
            if error.message.isEmpty { error.message = "the object's ID changed" }
        }
        if error.message.isEmpty {
            error.message = error.bodyExcerpt.map { "HTTP \(status) with a body that is not DevRev's JSON: \($0)" } ?? "HTTP \(status)"
        }
        return error
    }

    func transportError(_ error: any Error, operation: DevRevOperation, timeout: Duration) -> DevRevError {
        let name = operation.name
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout:
                var failure = DevRevError(kind: .timeout, operation: name, message: "connecting took longer than \(configuration.timeouts.connect)")
                failure.neverSent = true
                return failure
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return DevRevError(kind: .timeout, operation: name, message: "no complete response within \(timeout)")
            case .remoteConnectionClosed:
                return DevRevError(kind: .connectionReset, operation: name, message: "the server closed the connection before answering")
            default:
                break
            }
        }
        if error is BodyTimeout {
            return DevRevError(kind: .timeout, operation: name, message: "no complete response within \(timeout) (the body stalled)")
        }
        if error is NIOTooManyBytesError || error is BodyTooLarge {
            return DevRevError(kind: .malformedResponse, operation: name, message: "the response body is larger than 32 MiB (\(Self.maximumBodySize) bytes), the most runbook reads")
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED:
                return refused(name)
            case ECONNRESET, EPIPE:
                return DevRevError(kind: .connectionReset, operation: name, message: "the connection was reset")
            default:
                break
            }
        }
        let text = String(describing: error)
        let typeName = String(describing: type(of: error))
        if text.contains("connectionRefused") || text.contains("Connection refused") {
            return refused(name)
        }
        if typeName.contains("SSL") || typeName.contains("TLS") {
            return DevRevError(kind: .tls, operation: name, message: "TLS failed: \(Self.scrub(text, redacting: configuration.token.value))")
        }
        return DevRevError(kind: .transport, operation: name, message: Self.scrub(text, redacting: configuration.token.value))
    }

    private func refused(_ operation: String) -> DevRevError {
        var failure = DevRevError(kind: .connectionRefused, operation: operation, message: "connection refused by \(configuration.baseURL)")
        failure.neverSent = true
        return failure
    }

    /// The longest wait a Retry-After is taken at (a day): a larger one (or one too large for any
    /// integer) means "not today", and every call of the run then fails as rate limited at once.
    static let longestRetryAfter: Duration = .seconds(86_400)

    /// `Retry-After` in either form of RFC 9110: delay-seconds (`120`), or an HTTP-date
    /// (`Sun, 06 Nov 1994 08:49:37 GMT`, as a wait from `now`). Nil when it is neither.
    static func retryAfter(_ header: String, now: Date = Date()) -> Duration? {
        let text = header.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) {
            guard let seconds = Int64(text) else { return longestRetryAfter }
            return min(.seconds(seconds), longestRetryAfter)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: text) else { return nil }
        let seconds = date.timeIntervalSince(now)
        guard seconds > 0 else { return .zero }
        return seconds >= 86_400 ? longestRetryAfter : .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    // MARK: text

    /// `bytes` with every occurrence of the token replaced by `***`: applied to every response body
    /// before anything reads it, so a server that echoes the token (in an error message, a field
    /// of an answer) never puts it in front of the script, the output or the journal.
    static func redacting(_ token: String, in bytes: [UInt8]) -> [UInt8] {
        let needle = Array(token.utf8)
        guard needle.count >= minimumRedactedLength, let first = needle.first, bytes.count >= needle.count else { return bytes }
        var output: [UInt8] = []
        var copied = 0
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            guard let candidate = bytes[index...last].firstIndex(of: first) else { break }
            if bytes[candidate..<candidate + needle.count].elementsEqual(needle) {
                if output.isEmpty { output.reserveCapacity(bytes.count) }
                output += bytes[copied..<candidate]
                output += [0x2A, 0x2A, 0x2A]
                copied = candidate + needle.count
                index = copied
            } else {
                index = candidate + 1
            }
        }
        guard copied > 0 else { return bytes }
        output += bytes[copied...]
        return output
    }

    /// A header's text with the token replaced by `***`.
    static func redacting(_ token: String, in text: String) -> String {
        token.utf8.count < minimumRedactedLength ? text : text.replacingOccurrences(of: token, with: "***")
    }

    /// Tokens shorter than this (no real DevRev token is) are not searched for in answers: every
    /// occurrence of a one-letter test token would be replaced, and the JSON with it.
    static let minimumRedactedLength = 8

    /// A short, printable excerpt of a body with the token removed.
    static func excerpt(_ bytes: [UInt8], redacting token: String, limit: Int = 200) -> String {
        let text = String(decoding: bytes.prefix(limit * 4), as: UTF8.self)
        var cleaned = scrub(text, redacting: token)
        if cleaned.count > limit { cleaned = String(cleaned.prefix(limit)) + "…" }
        return cleaned
    }

    /// Control characters become spaces, runs of white space one space, the token `***`.
    static func scrub(_ text: String, redacting token: String) -> String {
        var text = token.isEmpty ? text : text.replacingOccurrences(of: token, with: "***")
        text = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
        return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// DevRev's error body: `type`, `message`, `detail` and the fields of some subtypes.
struct ErrorBody: Decodable {
    var type: String?
    var message: String?
    var detail: String?
    var fieldName: String?
    var retryAfter: Int64?
    var referenceID: String?
    var existingParent: String?
    var isSame: Bool?

    enum CodingKeys: String, CodingKey {
        case type, message, detail
        case fieldName = "field_name"
        case retryAfter = "retry_after"
        case referenceID = "reference_id"
        case existingParent = "existing_parent"
        case isSame = "is_same"
    }
}
