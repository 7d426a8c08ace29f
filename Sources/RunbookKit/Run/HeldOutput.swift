/// What a script prints while `--max-changes` plans its run, held until the run knows what was
/// sent: shown as the script's output when the whole plan was applied, and on standard error under
/// a heading when it was not, so a line such as "moved INC-1" never reads as done when it was not.
final class HeldOutput {
    /// Output past this is counted, not kept.
    static let limit = 1 << 20
    private var bytes: [UInt8] = []
    private var dropped = 0

    /// Only on the VM thread that runs the script (print's callback), then read after it ended.
    func append(_ buffer: UnsafeRawBufferPointer) {
        let room = max(0, Self.limit - bytes.count)
        bytes += buffer.prefix(room)
        dropped += buffer.count - min(room, buffer.count)
    }

    var isEmpty: Bool { bytes.isEmpty && dropped == 0 }

    /// The held text, with a line saying how much did not fit.
    var text: String {
        var text = String(decoding: bytes, as: UTF8.self)
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        if dropped > 0 { text += "(\(dropped) more bytes of output not kept)\n" }
        return text
    }
}
