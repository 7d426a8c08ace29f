import DevRevAPI
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A local DevRev-compatible incidents API on 127.0.0.1, backed by SQLite.
///
/// Start it in-process (`Sandbox.start`), point a client at `baseURL`, and `stop()` it; or run
/// `runbook sandbox`. Writes are committed before they are answered, so a clean stop loses none.
public final class Sandbox: Sendable {
    public let configuration: SandboxConfiguration
    /// The port it listens on (the chosen one when configured with 0).
    public let port: Int
    private let channel: any Channel
    private let store: SandboxStore
    private let traffic: TrafficControl
    /// What it has served so far.
    public let statistics: SandboxStatistics

    /// The operations it serves, by name (`incidents.update`, `timeline-entries.create`, ...).
    public static var operations: Set<String> { SandboxRouter.operations }

    /// Largest request body accepted.
    static let maximumBodySize = 1024 * 1024

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(
        configuration: SandboxConfiguration, port: Int, channel: any Channel, store: SandboxStore, traffic: TrafficControl,
        statistics: SandboxStatistics
    ) {
        self.configuration = configuration
        self.traffic = traffic
        self.port = port
        self.channel = channel
        self.store = store
        self.statistics = statistics
    }

    public static func start(_ configuration: SandboxConfiguration) async throws(SandboxSetupError) -> Sandbox {
        let tenant = configuration.seed ?? Tenant.demo()
        try tenant.validate()
        let clock = configuration.clock
        let store = try SandboxStore(path: configuration.databasePath, seed: tenant, now: clock())
        let statistics = SandboxStatistics()
        let traffic = TrafficControl(rateLimit: configuration.rateLimit, faults: configuration.faults, clock: clock)
        let router = SandboxRouter(
            service: IncidentService(store: store, clock: clock),
            timeline: TimelineService(store: store, clock: clock),
            traffic: traffic,
            token: configuration.token, statistics: statistics)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    // On the channel's event loop: the handler is confined to it, not Sendable.
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(SandboxHTTPHandler(router: router, statistics: statistics))
                    }
                }
                .bind(host: "127.0.0.1", port: configuration.port).get()
        } catch {
            try? store.close()
            throw .bind("127.0.0.1:\(configuration.port): \(error)")
        }
        return Sandbox(
            configuration: configuration, port: channel.localAddress?.port ?? configuration.port, channel: channel, store: store,
            traffic: traffic, statistics: statistics)
    }

    /// Serves with this quota and these faults from now on (a fresh quota window; scheduled
    /// rules count from zero).
    public func reconfigure(rateLimit: SandboxConfiguration.RateLimit, faults: SandboxConfiguration.Faults) {
        traffic.reconfigure(rateLimit: rateLimit, faults: faults)
    }

    /// Every incident as `incidents.get` would answer, in creation order.
    public func incidents() -> [Incident] {
        store.all().map(\.incident)
    }

    /// The incident with this id or display id.
    public func incident(_ reference: String) -> Incident? {
        store.find(reference)?.incident
    }

    /// The live comments on an incident (id or display id), oldest first, as
    /// `timeline-entries.get` answers them.
    public func comments(on reference: String) -> [JSONValue] {
        guard let id = store.find(reference)?.incident.id else { return [] }
        let now = configuration.clock()
        return store.comments().filter { $0.object == id && $0.isLive(at: now) }.map(\.entry)
    }

    /// How many writes it has committed: a mark to read `changes(from:)` after.
    public var changeCount: Int { store.changeCount }

    /// The writes committed from the `start`th on, in commit order.
    public func changes(from start: Int = 0) -> [SandboxChange] {
        store.changes(from: start)
    }

    /// Stops listening and closes the database.
    public func stop() async {
        try? await channel.close()
        try? store.close()
    }

    /// Waits until the sandbox stops.
    public func waitUntilStopped() async {
        try? await channel.closeFuture.get()
    }
}

/// One connection: collects each request, answers it from the router on the thread pool (SQLite
/// blocks), after the configured latency. Lives on its channel's event loop; what crosses to the
/// thread pool and back is Sendable or loop-bound.
private final class SandboxHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let router: SandboxRouter
    let statistics: SandboxStatistics
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(router: SandboxRouter, statistics: SandboxStatistics) {
        self.router = router
        self.statistics = statistics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > Sandbox.maximumBodySize {
                tooLarge = true
            } else {
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
        case .end:
            guard let head else { return }
            let keepAlive = head.isKeepAlive
            let router = self.router
            let body = self.body
            let tooLarge = self.tooLarge
            let eventLoop = context.eventLoop
            let boundContext = NIOLoopBound(context, eventLoop: eventLoop)
            let handler = NIOLoopBound(self, eventLoop: eventLoop)
            let statistics = self.statistics
            statistics.began(head.uri, body: body)
            NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { () -> SandboxRouter.Answer in
                if tooLarge {
                    return .reply(status: 400, headers: [("Content-Type", "application/json")],
                                  body: Array(#"{"message":"the request body is larger than 1 MiB","type":"bad_request"}"#.utf8))
                }
                return router.respond(
                    method: "\(head.method)", path: head.uri, authorization: head.headers.first(name: "Authorization"), body: body)
            }.whenSuccess { answer in
                let latency = router.traffic.latency
                let write: @Sendable () -> Void = {
                    statistics.ended()
                    handler.value.write(answer, keepAlive: keepAlive, context: boundContext.value)
                }
                if latency > .zero {
                    eventLoop.scheduleTask(in: TimeAmount(latency)) { write() }
                } else {
                    write()
                }
            }
        }
    }

    private func write(_ answer: SandboxRouter.Answer, keepAlive: Bool, context: ChannelHandlerContext) {
        switch answer {
        case .drop:
            context.close(promise: nil)
        case .reply(let status, let headers, let body):
            var fields = HTTPHeaders(headers)
            fields.replaceOrAdd(name: "Content-Length", value: "\(body.count)")
            if !keepAlive { fields.replaceOrAdd(name: "Connection", value: "close") }
            let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: fields)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                done.whenComplete { _ in bound.value.close(promise: nil) }
            }
        }
    }
}
