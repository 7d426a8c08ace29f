import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 server on 127.0.0.1 with an ephemeral port, scripted per test: each request
/// is recorded and answered by the responder.
public final class TestHTTPServer: Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: [(String, String)]
        public var body: [UInt8]
        public var receivedAt: ContinuousClock.Instant

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
        public var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    public enum Response: Sendable {
        case reply(status: Int, headers: [(String, String)] = [], body: String)
        /// Never answer.
        case silence
        /// Close the connection without answering.
        case drop
        /// Announce a longer body than is sent, then close.
        case truncated(status: Int, body: String)
        /// Send the head and the first bytes of a longer body, then nothing, never closing.
        case stall(status: Int, body: String)
        /// A chunked body: `chunk` `count` times, `interval` apart, then the end.
        case stream(status: Int, chunk: String, count: Int, interval: Duration)

        public static func json(_ status: Int, _ body: String, headers: [(String, String)] = []) -> Response {
            .reply(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
        }
    }

    public typealias Responder = @Sendable (_ request: Request, _ index: Int) -> Response

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    final class Recorder: Sendable {
        let requests = Mutex<[Request]>([])
    }

    private let recorded = Recorder()
    public let port: Int

    public init(_ responder: @escaping Responder) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recorded = self.recorded
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(recorded: recorded, responder: responder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var requests: [Request] { recorded.requests.withLock { $0 } }

    public func shutdown() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    /// Starts a server, runs `body` with it, and shuts it down, whatever `body` did.
    public static func serving<T>(_ responder: @escaping Responder, _ body: (TestHTTPServer) async throws -> T) async throws -> T {
        let server = try await TestHTTPServer(responder)
        do {
            let result = try await body(server)
            try await server.shutdown()
            return result
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let recorded: Recorder
        let responder: Responder
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(recorded: Recorder, responder: @escaping Responder) {
            self.recorded = recorded
            self.responder = responder
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let request = Request(
                    method: "\(head.method)", path: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                    body: body, receivedAt: ContinuousClock.now)
                let index = recorded.requests.withLock { list in
                    list.append(request)
                    return list.count - 1
                }
                respond(responder(request, index), context: context)
            }
        }

        private func respond(_ response: Response, context: ChannelHandlerContext) {
            switch response {
            case .silence:
                return
            case .drop:
                context.close(promise: nil)
            case .reply(let status, let headers, let text):
                var fields = HTTPHeaders(headers)
                fields.replaceOrAdd(name: "Content-Length", value: "\(text.utf8.count)")
                let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: fields)
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            case .stall(let status, let text):
                sendPartialBody(status: status, text, context: context)
            case .truncated(let status, let text):
                sendPartialBody(status: status, text, context: context)
                context.close(promise: nil)
            case .stream(let status, let chunk, let count, let interval):
                let head = HTTPResponseHead(
                    version: .http1_1, status: .init(statusCode: status),
                    headers: HTTPHeaders([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]))
                context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
                let buffer = ByteBuffer(string: chunk)
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                func send(_ remaining: Int) {
                    let context = bound.value
                    guard remaining > 0, context.channel.isActive else {
                        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                        return
                    }
                    context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer)))).whenComplete { _ in
                        if interval > .zero {
                            context.eventLoop.scheduleTask(in: .nanoseconds(Int64(interval.components.seconds * 1_000_000_000
                                + interval.components.attoseconds / 1_000_000_000))) { send(remaining - 1) }
                        } else {
                            send(remaining - 1)
                        }
                    }
                }
                send(count)
            }
        }

        /// The head of a body 100 bytes longer than `text`, and `text`.
        private func sendPartialBody(status: Int, _ text: String, context: ChannelHandlerContext) {
            var fields = HTTPHeaders([("Content-Type", "application/json")])
            fields.replaceOrAdd(name: "Content-Length", value: "\(text.utf8.count + 100)")
            let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: fields)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        }
    }
}
