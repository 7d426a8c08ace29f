import ArgumentParser
import RunbookKit

// Typed option values: parsed once, by argument-parser, with `--help` naming what is allowed and
// a parse error (exit 64) that names the option.

extension OutputFormat: ExpressibleByArgument {}
extension LogLevel: ExpressibleByArgument {}

/// A duration as operators write it: `500ms`, `90s`, `5m`, `1h30m`, or bare seconds.
struct DurationValue: ExpressibleByArgument, Sendable {
    let duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        guard let duration = try? DurationArgument.parse(argument) else { return nil }
        self.duration = duration
    }

    var defaultValueDescription: String { DurationArgument.format(duration) }
}

/// A byte size with a binary unit: `64M`, `512MiB`, `1G`.
struct ByteSizeValue: ExpressibleByArgument, Sendable {
    let bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        guard let bytes = try? ByteSizeArgument.parse(argument) else { return nil }
        self.bytes = bytes
    }

    var defaultValueDescription: String { ByteSizeArgument.format(bytes) }
}

/// An RFC 3339 time, as Unix seconds.
struct TimeValue: ExpressibleByArgument, Sendable {
    let unixSeconds: Int64

    init?(argument: String) {
        guard let seconds = RunOptions.unixSeconds(rfc3339: argument) else { return nil }
        unixSeconds = seconds
    }
}

/// A duration that may be zero (`--lock-wait 0`: no wait; `--latency 0ms`: none).
struct DurationOrZeroValue: ExpressibleByArgument, Sendable {
    let duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        if argument.wholeMatch(of: /\s*0+(\.0*)?(ms|s|m|min|h)?\s*/) != nil {
            duration = .zero
            return
        }
        guard let duration = try? DurationArgument.parse(argument) else { return nil }
        self.duration = duration
    }

    var defaultValueDescription: String { duration == .zero ? "0ms" : DurationArgument.format(duration) }
}
