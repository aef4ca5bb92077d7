import CNGHTTP2
import NIOCore

/// One HTTP/2 connection of a server: an nghttp2 session fed from the socket, streams routed
/// to method handlers, responses framed back — native gRPC, and with ``ServerConfiguration/web``
/// also gRPC-Web and Connect (``WebCodec``). Confined to the channel's event loop.
final class ServerConnectionHandler: ChannelDuplexHandler, H2SessionDelegate, CallSink, ServerConnection {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Per-stream state.
    final class Stream {
        let id: Int32
        var method = ""
        var path = ""
        var contentType = ""
        var encoding: String?
        var timeout: [UInt8]?
        var connectTimeout: [UInt8]?
        var metadata = Metadata()
        var origin: String?
        var forwardedFor: [String] = []
        var preflightHeaders: String?
        /// Set for every dialect but native gRPC.
        var codec: WebCodec?
        var dialect: WebDialect { codec?.dialect ?? .grpc }
        /// Answered as plain HTTP (a preflight, a wrong method or content type).
        var plainAnswer = false
        /// A Connect unary request's body (not enveloped).
        var rawBody: [UInt8] = []
        var headerBytes = 0
        var handler: MethodHandler?
        var call: ServerCall?
        var task: Task<Void, Never>?
        var deframer: MessageDeframer
        var requestCount = 0
        var requestEnded = false
        var outbound = OutboundQueue()
        var headersSent = false
        var finished = false
        var deferred = false
        var trailers: [(String, [UInt8])]?
        var waiters: [CheckedContinuation<Void, Error>] = []
        var deadlineTimer: Scheduled<Void>?
        /// Body bytes not yet returned to the stream's flow-control window.
        var unconsumed = 0
        /// Bytes of complete messages queued for the handler and not yet taken by it.
        var held = 0
        /// What this stream adds to the connection's buffered bytes, as last counted.
        var accounted = 0

        init(id: Int32, maxMessageSize: Int) {
            self.id = id
            deframer = MessageDeframer(maxMessageSize: maxMessageSize)
        }
    }

    private let router: Router
    private let config: ServerConfiguration
    private let registry: ConnectionRegistry
    private var session: H2Session!
    private var streams: [Int32: Stream] = [:]
    private var context: ChannelHandlerContext?
    private var flushScheduled = false
    private var draining = false
    private var closed = false
    private var peer = ""
    /// The peer's IP, for ``ClientAddress`` (formatted once).
    private var remoteIP = "unknown"
    private var executor: EventLoopExecutor?
    private var keepaliveTask: RepeatedTask?
    private var awaitingPingAck: Scheduled<Void>?
    private var lastActivity = NIODeadline.now()
    private static let highWater = 1 << 20
    /// Body bytes one flush may produce; the rest waits for the socket to drain.
    private static let flushBudget = 1 << 20
    private var budget = flushBudget
    private var blocked: Set<Int32> = []
    /// Request bytes held for handlers across all streams (bounded by maxConnectionBuffer).
    private var buffered = 0
    /// A socket read was held back while the peer was not reading our output.
    private var readPending = false

    init(router: Router, config: ServerConfiguration, registry: ConnectionRegistry) {
        self.router = router
        self.config = config
        self.registry = registry
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        var s = H2Settings()
        s.maxConcurrentStreams = UInt32(config.maxConcurrentStreams)
        s.maxHeaderListSize = UInt32(config.maxHeaderListSize)
        session = H2Session(server: true, delegate: self, settings: s, manualWindow: true)
        peer = ClientAddress.peer(context.channel.remoteAddress)
        remoteIP = ClientAddress.ip(context.channel.remoteAddress)
        if config.handlersOnEventLoop { executor = EventLoopExecutor(context.eventLoop) }
        registry.add(self, loop: context.eventLoop)
        if let interval = config.keepaliveInterval {
            let amount = TimeAmount.nanoseconds(Int64(interval * 1e9))
            keepaliveTask = context.eventLoop.scheduleRepeatedTask(initialDelay: amount, delay: amount) { [weak self] _ in
                self?.keepaliveTick(interval: amount)
            }
        }
        if context.channel.isActive { flush() }
    }

    func channelActive(context: ChannelHandlerContext) {
        flush()
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        teardown()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        teardown()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buf = unwrapInboundIn(data)
        lastActivity = .now()
        let ok = buf.withUnsafeReadableBytes { session.receive($0) }
        if !ok {
            flush()
            close()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        close()
    }

    // MARK: lifecycle

    private func teardown() {
        guard !closed else { return }
        closed = true
        keepaliveTask?.cancel()
        awaitingPingAck?.cancel()
        for s in streams.values { abandon(s) }
        streams.removeAll()
        session?.close()
        registry.remove(self)
    }

    private func close() {
        guard let context, !closed else { return }
        teardown()
        context.close(promise: nil)
    }

    /// Stops accepting streams (GOAWAY); closes once in-flight calls end.
    func beginGracefulShutdown() {
        guard !draining, !closed else { return }
        draining = true
        session.goAway(code: UInt32(NGHTTP2_NO_ERROR.rawValue))
        flush()
        closeIfDrained()
    }

    /// Closes at once (the drain limit passed).
    func forceClose() { close() }

    private func closeIfDrained() {
        guard draining && streams.isEmpty, let context else { return }
        // Called from nghttp2 callbacks too: finish the current drain, then write and close.
        context.eventLoop.execute { [weak self] in
            guard let self, let context = self.context, !self.closed else { return }
            let out = self.session.drainOutput(allocator: context.channel.allocator).bytes
                ?? context.channel.allocator.buffer(capacity: 0)
            context.writeAndFlush(self.wrapOutboundOut(out)).whenComplete { [weak self] _ in self?.close() }
        }
    }

    private func keepaliveTick(interval: TimeAmount) {
        guard !closed, awaitingPingAck == nil, NIODeadline.now() - lastActivity >= interval else { return }
        session.ping()
        flush()
        let timeout = TimeAmount.nanoseconds(Int64(config.keepaliveTimeout * 1e9))
        awaitingPingAck = context?.eventLoop.scheduleTask(in: timeout) { [weak self] in self?.close() }
    }

    // MARK: output

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            unblock()
            if readPending {
                readPending = false
                context.read()
            }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Stops reading while our output is not drained, so a peer that floods frames (PINGs,
    /// SETTINGS, tiny requests) and never reads cannot make replies pile up; nghttp2's own
    /// outbound-queue limit then applies.
    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readPending = true
        }
    }

    /// Resumes streams held back for a full socket.
    private func unblock() {
        guard !blocked.isEmpty, !closed else { return }
        let ids = blocked
        blocked.removeAll()
        for id in ids {
            if let s = streams[id], s.deferred {
                s.deferred = false
                session.resume(stream: id)
            }
        }
        scheduleFlush()
    }

    private func flush() {
        guard let context, !closed else { return }
        budget = Self.flushBudget
        let (out, ok) = session.drainOutput(allocator: context.channel.allocator)
        if !ok || !session.isAlive {
            // Let the last frames (trailers, GOAWAY) reach the socket before closing.
            guard let out else { return close() }
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { [weak self] _ in self?.close() }
            return
        }
        if let out { context.writeAndFlush(wrapOutboundOut(out), promise: nil) }
        if budget <= 0 && context.channel.isWritable { unblock() }
    }

    private func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.execute { [weak self] in
            guard let self else { return }
            self.flushScheduled = false
            self.flush()
        }
    }

    // MARK: H2SessionDelegate

    func h2BeginHeaders(stream id: Int32) {
        if streams[id] == nil {
            streams[id] = Stream(id: id, maxMessageSize: config.maxReceiveMessageSize)
        }
    }

    func h2Header(stream id: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        guard let s = streams[id] else { return true }
        s.headerBytes += name.count + value.count + 32
        if s.headerBytes > config.maxHeaderListSize { return false }
        guard s.handler == nil else { return true }  // trailers from a client: ignored
        let n = String(decoding: name, as: UTF8.self)
        switch n {
        case ":method": s.method = String(decoding: value, as: UTF8.self)
        case ":path": s.path = String(decoding: value, as: UTF8.self)
        case "content-type": s.contentType = String(decoding: value, as: UTF8.self)
        case "grpc-timeout": s.timeout = Array(value)
        case "grpc-encoding": s.encoding = String(decoding: value, as: UTF8.self)
        case "connect-timeout-ms": s.connectTimeout = Array(value)
        case "origin": s.origin = String(decoding: value, as: UTF8.self)
        case "x-forwarded-for": s.forwardedFor.append(String(decoding: value, as: UTF8.self))
        case "access-control-request-headers": s.preflightHeaders = String(decoding: value, as: UTF8.self)
        case ":scheme", ":authority", "te", "user-agent", "grpc-accept-encoding", "content-length": break
        default:
            if !n.hasPrefix(":") { s.metadata.addWire(name: n, value: Array(value)) }
        }
        return true
    }

    func h2HeadersComplete(stream id: Int32, endStream: Bool) {
        guard let s = streams[id], s.handler == nil, !s.finished else {
            if endStream { h2EndStream(stream: id) }
            return
        }
        if let web = config.web {
            switch web.admit(method: s.method, contentType: s.contentType, origin: s.origin, requestHeaders: s.preflightHeaders, http2: true) {
            case .answer(let status, let headers, let text):
                return plain(s, status: status, headers: headers, text: text)
            case .call(let dialect):
                if dialect != .grpc {
                    s.codec = WebCodec(dialect: dialect, path: s.path, transcoder: web.transcoder)
                    s.metadata.removeAll(where: BrowserHeaders.isTransport)
                }
            }
        }
        guard s.method == "POST" else {
            return reject(s, httpStatus: "405", code: .internal, message: "method \(s.method) not allowed")
        }
        guard s.codec != nil || s.contentType.hasPrefix("application/grpc") else {
            return reject(s, httpStatus: "415", code: .internal, message: "content-type \(s.contentType) is not application/grpc")
        }
        if let e = s.encoding, e != "identity" {
            return reject(s, code: .unimplemented, message: "grpc-encoding \(e) is not supported", extra: [("grpc-accept-encoding", Array("identity".utf8))])
        }
        let deadline: Deadline?
        switch WebTimeout.deadline(grpc: s.timeout, connect: s.connectTimeout) {
        case .failure(let e): return reject(s, code: e.code, message: e.message)
        case .success(let d): deadline = d
        }
        let handler: MethodHandler
        switch router.handler(for: s.path, dialect: s.dialect) {
        case .failure(let e): return reject(s, code: e.code, message: e.message)
        case .success(let h): handler = h
        }
        if let filter = config.callFilter, let refused = filter(s.path, s.metadata) {
            return reject(s, code: refused.code, message: refused.message)
        }
        s.handler = handler
        let client = ClientAddress.resolve(direct: remoteIP, forwardedFor: s.forwardedFor, trusted: config.trustedProxies)
        let ctx = ServerContext(path: s.path, metadata: s.metadata, deadline: deadline, peer: peer, clientAddress: client)
        s.call = ServerCall(context: ctx, streamID: id, connection: self, loop: context!.eventLoop, streaming: !handler.takesSingleRequest)
        if let deadline, let loop = context?.eventLoop {
            s.deadlineTimer = loop.scheduleTask(deadline: deadline.nio) { [weak self] in
                self?.finish(stream: id, message: nil, error: RPCError(.deadlineExceeded, "deadline exceeded"), dropQueued: true)
            }
        }
        if !handler.takesSingleRequest { start(s) }
        if endStream { h2EndStream(stream: id) }
    }

    func h2Data(stream id: Int32, bytes: UnsafeRawBufferPointer) {
        // The connection window reopens at once; per-stream windows and the buffer cap do the holding.
        session.consumeConnection(count: bytes.count)
        guard let s = streams[id], let handler = s.handler, !s.finished else {
            session.consumeStream(id, count: bytes.count)
            return
        }
        s.unconsumed += bytes.count
        var failure: RPCError?
        if s.codec != nil {
            if !s.dialect.enveloped {
                // Connect unary: the body is the message itself, whole at the end of the stream.
                // Like a partial message, it does not hold the window (so a body larger than the
                // window arrives) but counts towards the connection's buffered bytes.
                s.rawBody.append(contentsOf: bytes)
                if s.rawBody.count > config.maxReceiveMessageSize {
                    s.rawBody = []
                    fail(s, RPCError(.resourceExhausted, "request message of more than \(config.maxReceiveMessageSize) bytes exceeds the limit"))
                } else if buffered + s.rawBody.count - s.accounted > config.maxConnectionBuffer {
                    s.rawBody = []
                    fail(s, RPCError(.resourceExhausted, "the connection holds more than \(config.maxConnectionBuffer) bytes of unread requests"))
                }
                return settle(s)
            }
            do {
                let decoded = try s.codec!.requestBytes(bytes)
                decoded.withUnsafeBytes { s.deframer.append($0) }
            } catch {
                failure = RPCError.from(error)
            }
        } else {
            s.deframer.append(bytes)
        }
        loop: while failure == nil {
            switch s.deframer.next() {
            case .needMore:
                break loop
            case .message(let raw):
                s.requestCount += 1
                let m: [UInt8]
                do { m = try s.codec?.requestMessage(raw) ?? raw } catch {
                    failure = RPCError.from(error)
                    break loop
                }
                if handler.takesSingleRequest {
                    if s.requestCount > 1 {
                        failure = RPCError(.internal, "more than one request message for a unary call")
                        break loop
                    }
                    s.call?.singleRequest = m
                } else {
                    s.held += m.count + 5
                    s.call?.continuation?.yield(m)
                }
            case .tooLarge(let n):
                failure = RPCError(.resourceExhausted, "request message of \(n) bytes exceeds the limit of \(config.maxReceiveMessageSize)")
                break loop
            case .compressed:
                failure = RPCError(.internal, "compressed message without a grpc-encoding")
                break loop
            }
        }
        if failure == nil && buffered + s.deframer.pendingBytes + s.held - s.accounted > config.maxConnectionBuffer {
            failure = RPCError(.resourceExhausted, "the connection holds more than \(config.maxConnectionBuffer) bytes of unread requests")
        }
        if let failure {
            s.deframer.reset()
            s.held = 0
            fail(s, failure)
        }
        settle(s)
    }

    /// Returns to the stream's window every byte not held in a queued message, and recounts the
    /// connection's buffered bytes. A partial message never holds the window, so messages larger
    /// than the window still arrive; complete unread messages do, so a slow handler slows its client.
    private func settle(_ s: Stream) {
        let keep = min(s.unconsumed, s.held)
        let release = s.unconsumed - keep
        if release > 0 {
            session.consumeStream(s.id, count: release)
            s.unconsumed = keep
        }
        let now = s.deframer.pendingBytes + s.held + s.rawBody.count
        buffered += now - s.accounted
        s.accounted = now
    }

    func h2EndStream(stream id: Int32) {
        guard let s = streams[id], let handler = s.handler, !s.requestEnded, !s.finished else { return }
        s.requestEnded = true
        if let codec = s.codec, !s.dialect.enveloped {
            do {
                s.call?.singleRequest = try codec.requestMessage(s.rawBody)
            } catch {
                return fail(s, RPCError.from(error))
            }
            s.rawBody = []
            settle(s)
            return start(s)
        }
        if s.codec?.textLeftOver == true {
            return fail(s, RPCError(.invalidArgument, "the gRPC-Web text body ends inside a base64 group"))
        }
        if s.deframer.pendingBytes > 0 {
            return fail(s, RPCError(.internal, "request ended inside a message (\(s.deframer.pendingBytes) bytes left over)"))
        }
        if handler.takesSingleRequest {
            if s.requestCount == 0 { return fail(s, RPCError(.internal, "no request message for a unary call")) }
            start(s)
        } else {
            s.call?.continuation?.finish()
        }
    }

    func h2StreamClosed(stream id: Int32, errorCode: UInt32) {
        guard let s = streams.removeValue(forKey: id) else { return }
        buffered -= s.accounted
        abandon(s)
        closeIfDrained()
    }

    func h2ReadBody(stream id: Int32, into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, end: Bool)? {
        guard let s = streams[id] else { return (0, true) }
        if !s.outbound.isEmpty && (budget <= 0 || context?.channel.isWritable == false) {
            s.deferred = true
            blocked.insert(id)
            return nil
        }
        let n = s.outbound.read(into: buffer)
        budget -= n
        if s.outbound.bytes < Self.highWater / 2 && !s.waiters.isEmpty {
            let w = s.waiters
            s.waiters.removeAll()
            for c in w { c.resume() }
        }
        if n == 0 && !s.finished {
            s.deferred = true
            return nil
        }
        return (n, s.finished && s.outbound.isEmpty)
    }

    func h2Trailers(stream id: Int32) -> [(String, [UInt8])]? {
        streams[id]?.trailers
    }

    func h2SentEndStream(stream id: Int32) {
        // gRPC: once the status is out, a client still sending is told to stop. Browser dialects
        // are let finish their (single-message) request instead: curl and some browsers report a
        // reset as a failure even after a whole response, and the rest is read and dropped.
        let web = streams[id].map { $0.codec != nil || $0.plainAnswer } ?? false
        if !web && !session.remoteClosed(stream: id) {
            session.reset(stream: id, code: UInt32(NGHTTP2_NO_ERROR.rawValue))
        }
    }

    func h2PingAck() {
        awaitingPingAck?.cancel()
        awaitingPingAck = nil
    }

    func h2GoAway(lastStreamID: Int32, errorCode: UInt32) {}

    // MARK: calls

    private func start(_ s: Stream) {
        guard let call = s.call, let handler = s.handler else { return }
        s.task = call.run(handler, on: executor)
    }

    private func abandon(_ s: Stream) {
        s.deadlineTimer?.cancel()
        s.task?.cancel()
        s.call?.continuation?.finish(throwing: CancellationError())
        let w = s.waiters
        s.waiters.removeAll()
        for c in w { c.resume(throwing: RPCError(.cancelled, "stream closed")) }
    }

    private func reject(_ s: Stream, httpStatus: String = "200", code: StatusCode, message: String, extra: [(String, [UInt8])] = []) {
        if s.codec != nil { return finish(stream: s.id, message: nil, error: RPCError(code, message)) }
        s.finished = true
        let h = responseHeaders(httpStatus: httpStatus, metadata: Metadata()) + statusHeaders(RPCError(code, message)) + extra
        session.submitHeaders(stream: s.id, headers: h, body: false)
        scheduleFlush()
    }

    private func fail(_ s: Stream, _ error: RPCError) {
        finish(stream: s.id, message: nil, error: error, dropQueued: true)
        s.task?.cancel()
        s.call?.continuation?.finish(throwing: error)
    }

    /// The handler took a request message of `count` framed bytes: let the peer send more.
    func consumed(stream id: Int32, count: Int) {
        guard let s = streams[id] else { return }
        s.held = max(0, s.held - count)
        settle(s)
        scheduleFlush()
    }

    func enqueue(stream id: Int32, framed: [UInt8], waiter: CheckedContinuation<Void, Error>) {
        guard let s = streams[id], !s.finished else {
            waiter.resume(throwing: RPCError(.cancelled, "call already ended"))
            return
        }
        if let codec = s.codec {
            do {
                s.outbound.append(try codec.responseMessage(framed))
            } catch {
                waiter.resume(throwing: RPCError.from(error))
                return finish(stream: id, message: nil, error: RPCError.from(error), dropQueued: true)
            }
        } else {
            s.outbound.append(framed)
        }
        sendHeadersOrResume(s)
        if s.outbound.bytes >= Self.highWater {
            s.waiters.append(waiter)
        } else {
            waiter.resume()
        }
        scheduleFlush()
    }

    func finish(stream id: Int32, message: [UInt8]?, error: RPCError?, dropQueued: Bool = false) {
        guard let s = streams[id], !s.finished else { return }
        s.finished = true
        s.deadlineTimer?.cancel()
        if dropQueued { s.outbound.removeAll() }
        if let codec = s.codec {
            finishWeb(s, codec, message: message, error: error)
        } else {
            finishGRPC(s, message: message, error: error)
        }
        let w = s.waiters
        s.waiters.removeAll()
        for c in w { c.resume(throwing: RPCError(.cancelled, "call ended")) }
        scheduleFlush()
    }

    /// Native gRPC: the last message, then the status in trailers (or trailers only).
    private func finishGRPC(_ s: Stream, message: [UInt8]?, error: RPCError?) {
        let id = s.id
        if let message { s.outbound.append(message) }
        let err = error ?? RPCError(.ok)
        let t = statusHeaders(err) + (s.call?.context.trailingMetadata ?? Metadata()).wireHeaders() + err.metadata.wireHeaders()
        if !s.headersSent && s.outbound.isEmpty {
            // Trailers-only response.
            s.headersSent = true
            session.submitHeaders(stream: id, headers: responseHeaders(s) + t, body: false)
        } else {
            s.trailers = t
            sendHeadersOrResume(s)
        }
    }

    /// gRPC-Web and Connect: the status goes in the body (a last frame or envelope), or for
    /// Connect unary in the HTTP status of the one response.
    private func finishWeb(_ s: Stream, _ codec: WebCodec, message: [UInt8]?, error: RPCError?) {
        let initial = s.call?.context.initialMetadata ?? Metadata()
        let trailing = s.call?.context.trailingMetadata ?? Metadata()
        if !s.dialect.enveloped {
            s.outbound.removeAll()
            let r = codec.unaryResponse(message: message, error: error, initial: initial, trailing: trailing)
            s.outbound.append(r.body)
            s.headersSent = true
            let headers = [(":status", Array(String(r.status).utf8)), ("content-type", Array(r.contentType.utf8)),
                           ("content-length", Array(String(r.body.count).utf8))] + r.headers + cors(s)
            session.submitHeaders(stream: s.id, headers: headers, body: !r.body.isEmpty)
            return
        }
        var status = error
        if let message {
            do { s.outbound.append(try codec.responseMessage(message)) } catch { status = RPCError.from(error) }
        }
        s.outbound.append(codec.endOfStream(error: status, trailing: trailing))
        s.trailers = nil
        sendHeadersOrResume(s)
    }

    /// A plain HTTP answer (a preflight, a wrong method or content type): no call behind it.
    private func plain(_ s: Stream, status: Int, headers: [(String, [UInt8])], text: String) {
        s.finished = true
        s.plainAnswer = true
        s.headersSent = true
        let body = Array(text.utf8)
        var h: [(String, [UInt8])] = [(":status", Array(String(status).utf8))]
        if !body.isEmpty { h.append(("content-type", Array("text/plain; charset=utf-8".utf8))) }
        h += headers
        h += cors(s)
        s.outbound.append(body)
        session.submitHeaders(stream: s.id, headers: h, body: !body.isEmpty)
        scheduleFlush()
    }

    private func cors(_ s: Stream) -> [(String, [UInt8])] {
        guard s.method != "OPTIONS" else { return [] }
        return config.web?.corsHeaders(origin: s.origin) ?? []
    }

    private func sendHeadersOrResume(_ s: Stream) {
        if !s.headersSent {
            s.headersSent = true
            session.submitHeaders(stream: s.id, headers: responseHeaders(s), body: true)
        } else if s.deferred {
            s.deferred = false
            session.resume(stream: s.id)
        }
    }

    /// `:status`, `content-type` and the handler's initial metadata.
    private func responseHeaders(_ s: Stream) -> [(String, [UInt8])] {
        guard s.codec != nil else {
            return responseHeaders(httpStatus: "200", metadata: s.call?.context.initialMetadata ?? Metadata())
        }
        return [(":status", Array("200".utf8)), ("content-type", Array(s.dialect.responseContentType.utf8))]
            + (s.call?.context.initialMetadata ?? Metadata()).wireHeaders() + cors(s)
    }

    private func responseHeaders(httpStatus: String, metadata: Metadata) -> [(String, [UInt8])] {
        [(":status", Array(httpStatus.utf8)), ("content-type", Array("application/grpc".utf8))] + metadata.wireHeaders()
    }

    /// `grpc-status` and, when there is one, the percent-encoded `grpc-message`.
    private func statusHeaders(_ e: RPCError) -> [(String, [UInt8])] {
        var t: [(String, [UInt8])] = [("grpc-status", Array(String(e.code.rawValue).utf8))]
        if !e.message.isEmpty { t.append(("grpc-message", PercentEncoding.encode(e.message))) }
        return t
    }
}
