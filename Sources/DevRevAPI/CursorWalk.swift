/// Where a paginated walk is: the cursor of the next page, whether the walk is over, and the
/// guard against a server that hands back a cursor it handed back before (a walk that would
/// never end). The one walk of the project: `CursorSequence`, the Lua iterators and
/// `incident.group` all go through it.
public struct CursorWalk: Sendable {
    public let operation: String
    /// The cursor of the next page; nil for the first page of a walk started without one.
    public private(set) var cursor: String?
    /// The last page has been read.
    public private(set) var finished = false
    /// Pages read so far.
    public private(set) var pages = 0
    private var seen: Set<String> = []

    /// The most pages one walk reads: a million incidents at DevRev's largest page (100). A
    /// server whose cursors never repeat and never end stops here instead of walking forever
    /// (and its cursors, kept to catch a repeat, stop growing).
    public static let maximumPages = 10_000

    public init(operation: String, startCursor: String? = nil) {
        self.operation = operation
        cursor = startCursor
        if let startCursor { seen.insert(startCursor) }
    }

    /// Records the `next_cursor` of the page just read: nil or empty ends the walk; a cursor seen
    /// before fails with `.repeatedCursor` instead of looping, and a next page past
    /// `maximumPages` with `.tooManyPages`.
    public mutating func advance(to next: String?) throws(DevRevError) {
        pages += 1
        guard let next, !next.isEmpty else {
            cursor = nil
            finished = true
            return
        }
        guard pages < Self.maximumPages else {
            finished = true
            throw DevRevError(
                kind: .tooManyPages, operation: operation,
                message: "the list went on past \(Self.maximumPages) pages, each with a new cursor; stopping instead of walking forever")
        }
        guard seen.insert(next).inserted else {
            finished = true
            throw DevRevError(
                kind: .repeatedCursor, operation: operation,
                message: "the server returned the cursor '\(next)' twice; stopping instead of looping")
        }
        cursor = next
    }
}
