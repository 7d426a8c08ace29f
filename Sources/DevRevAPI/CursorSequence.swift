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
        var walk: CursorWalk
        /// Pages fetched so far.
        public var pages: Int { walk.pages }

        init(sequence: CursorSequence) {
            self.sequence = sequence
            walk = CursorWalk(operation: sequence.operation.name, startCursor: sequence.startCursor)
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(DevRevError) -> Element? {
            while index >= buffer.count {
                if walk.finished { return nil }
                let page = try await sequence.fetch(walk.cursor)
                buffer = page.items
                index = 0
                try walk.advance(to: page.next)
            }
            defer { index += 1 }
            return buffer[index]
        }

        public mutating func next() async throws(DevRevError) -> Element? {
            try await next(isolation: nil)
        }
    }
}
