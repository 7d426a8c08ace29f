/// The items of a paginated operation, fetched page by page as they are iterated. Ends when a
/// page has no `next_cursor` (or an empty one); fails with `.repeatedCursor` when the server hands
/// back a cursor it handed back before, rather than looping forever.
public struct CursorSequence<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = DevRevError
    typealias Fetch = @Sendable (_ cursor: String?) async throws(DevRevError) -> (items: [Element], next: String?)

    let operation: DevRevOperation
    let startCursor: String?
    let fetch: Fetch

    init(operation: DevRevOperation, startCursor: String?, fetch: @escaping Fetch) {
        self.operation = operation
        self.startCursor = startCursor
        self.fetch = fetch
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: self)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let sequence: CursorSequence
        var buffer: [Element] = []
        var index = 0
        var cursor: String?
        var started = false
        var finished = false
        var seen: Set<String> = []
        /// Pages fetched so far.
        public private(set) var pages = 0

        init(sequence: CursorSequence) {
            self.sequence = sequence
            self.cursor = sequence.startCursor
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(DevRevError) -> Element? {
            while index >= buffer.count {
                if finished || (started && cursor == nil) { return nil }
                started = true
                let page = try await sequence.fetch(cursor)
                pages += 1
                buffer = page.items
                index = 0
                if let next = page.next, !next.isEmpty {
                    guard seen.insert(next).inserted, next != sequence.startCursor else {
                        throw DevRevError(
                            kind: .repeatedCursor, operation: sequence.operation.name,
                            message: "the server returned the cursor '\(next)' twice; stopping instead of looping")
                    }
                    cursor = next
                } else {
                    cursor = nil
                    finished = true
                }
            }
            defer { index += 1 }
            return buffer[index]
        }

        public mutating func next() async throws(DevRevError) -> Element? {
            try await next(isolation: nil)
        }
    }
}
