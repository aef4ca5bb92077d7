import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection of a server with ``ServerConfiguration/web``: gRPC-Web and Connect
/// calls (native gRPC needs HTTP/2), CORS preflights, and nothing else. Sits behind NIO's
/// request decoder and its pipelining handler, so pipelined requests are answered one at a time
/// and in order. A request must arrive whole within the request timeout (a client that trickles
/// its head or body is cut off), and an idle connection is closed after the idle timeout.
/// Confined to the channel's event loop.
final class HTTP1ConnectionHandler: ChannelInboundHandler, CallSink, ServerConnection {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The request being read or answered.
    private final class Exchange {
        let id: Int32
        let head: HTTPRequestHead
        /// Set when the request is admitted as a call (with ``handler`` and ``call``); nil for one
        /// answered before that (a preflight, a refusal), which never reaches the calls' paths.
        var codec: WebCodec?
        var handler: MethodHandler?
        var call: ServerCall?
        var task: Task<Void, Never>?
        var deframer: MessageDeframer
        var body: [UInt8] = []
        var requestCount = 0
        var requestEnded = false
        var responseStarted = false
        var finished = false
        /// The answer went out before the request was read: the rest of it is skipped.
        var ignoring = false
        var deadlineTimer: Scheduled<Void>?

        /// Whether the request says it has no body (nothing to skip after an early answer).
        var bodiless: Bool {
            let length = head.headers.first(name: "content-length")
            return (length == nil || length == "0") && !head.headers.contains(name: "transfer-encoding")
        }

        init(id: Int32, head: HTTPRequestHead, maxMessageSize: Int) {
            self.id = id
            self.head = head
            deframer = MessageDeframer(maxMessageSize: maxMessageSize)
        }
    }

    private let router: Router
    private let config: ServerConfiguration
    private let web: WebConfiguration
    private let registry: ConnectionRegistry
    private var context: ChannelHandlerContext?
    private var exchange: Exchange?
    private var nextID: Int32 = 1
    /// The peer's IP, for ``ClientAddress`` (formatted once).
    private var remoteIP = "unknown"
    private var peer = "unknown"
    private var executor: EventLoopExecutor?
    private var requestTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var draining = false
    private var closeAfterResponse = false
    private var closed = false

    init(router: Router, config: ServerConfiguration, web: WebConfiguration, registry: ConnectionRegistry) {
        self.router = router
        self.config = config
        self.web = web
        self.registry = registry
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peer = ClientAddress.peer(context.channel.remoteAddress)
        remoteIP = ClientAddress.ip(context.channel.remoteAddress)
        if config.handlersOnEventLoop { executor = EventLoopExecutor(context.eventLoop) }
        registry.add(self, loop: context.eventLoop)
        bytesArrived()  // the sniffer has read the first ones
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        teardown()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        teardown()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Parse errors are answered 400 by NIO's error handler in front of this one.
        close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): begin(head)
        case .body(let buffer): receive(buffer)
        case .end: endRequest()
        }
    }

    // MARK: lifecycle

    private func teardown() {
        guard !closed else { return }
        closed = true
        requestTimer?.cancel()
        idleTimer?.cancel()
        if let x = exchange { abandon(x) }
        exchange = nil
        registry.remove(self)
    }

    private func close() {
        guard let context, !closed else { return }
        teardown()
        context.close(promise: nil)
    }

    func beginGracefulShutdown() {
        draining = true
        if exchange == nil { close() } else { closeAfterResponse = true }
    }

    func forceClose() { close() }

    private func armIdle() {
        idleTimer?.cancel()
        idleTimer = context?.eventLoop.scheduleTask(in: .nanoseconds(Int64(web.idleTimeout * 1e9))) { [weak self] in
            self?.close()
        }
    }

    // MARK: requests

    /// Bytes arrived from the socket (``RequestStartWatcher``): a request has begun, and must be
    /// whole within the request timeout, however slowly its head trickles in.
    func bytesArrived() {
        guard requestTimer == nil, !closed else { return }
        idleTimer?.cancel()
        idleTimer = nil
        requestTimer = context?.eventLoop.scheduleTask(in: .nanoseconds(Int64(web.requestTimeout * 1e9))) { [weak self] in
            self?.requestTimedOut()
        }
    }

    private func begin(_ head: HTTPRequestHead) {
        bytesArrived()
        if !head.isKeepAlive || draining { closeAfterResponse = true }
        let id = nextID
        nextID &+= 1
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        let x = Exchange(id: id, head: head, maxMessageSize: config.maxReceiveMessageSize)
        exchange = x
        let headerBytes = head.headers.reduce(head.uri.utf8.count) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        if headerBytes > web.maxHeaderBytes {
            return plain(x, status: .requestHeaderFieldsTooLarge, text: "request headers of \(headerBytes) bytes exceed \(web.maxHeaderBytes)")
        }
        let dialect: WebDialect
        switch web.admit(method: head.method.rawValue, contentType: head.headers.first(name: "content-type") ?? "",
                         origin: head.headers.first(name: "origin"),
                         requestHeaders: head.headers.first(name: "access-control-request-headers"), http2: false) {
        case .answer(let status, let headers, let text):
            return plain(x, status: HTTPResponseStatus(statusCode: status), extra: headers, text: text)
        case .call(let d):
            dialect = d
        }
        x.codec = WebCodec(dialect: dialect, path: path, transcoder: web.transcoder)
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > bodyLimit(dialect) {
            closeAfterResponse = true
            return respondError(x, RPCError(.resourceExhausted, "request of \(length) bytes exceeds the limit of \(config.maxReceiveMessageSize) bytes a message"))
        }
        let deadline: Deadline?
        switch WebTimeout.deadline(grpc: head.headers.first(name: "grpc-timeout").map { Array($0.utf8) },
                                   connect: head.headers.first(name: "connect-timeout-ms").map { Array($0.utf8) }) {
        case .failure(let e): return respondError(x, e)
        case .success(let d): deadline = d
        }
        let handler: MethodHandler
        switch router.handler(for: path, dialect: dialect) {
        case .failure(let e): return respondError(x, e)
        case .success(let h): handler = h
        }
        var metadata = Metadata()
        for (name, value) in head.headers {
            let n = name.lowercased()
            if BrowserHeaders.isTransport(n) || Metadata.isReserved(n) { continue }  // content-type, grpc-timeout included
            metadata.addWire(name: n, value: Array(value.utf8))
        }
        if let filter = config.callFilter, let refused = filter(path, metadata) {
            return respondError(x, refused)
        }
        let client = ClientAddress.resolve(direct: remoteIP, forwardedFor: head.headers["x-forwarded-for"], trusted: config.trustedProxies)
        let ctx = ServerContext(path: path, metadata: metadata, deadline: deadline, peer: peer, clientAddress: client)
        x.handler = handler
        x.call = ServerCall(context: ctx, streamID: id, connection: self, loop: context!.eventLoop, streaming: !handler.takesSingleRequest)
        if let deadline, let loop = context?.eventLoop {
            x.deadlineTimer = loop.scheduleTask(deadline: deadline.nio) { [weak self] in
                self?.finish(stream: id, message: nil, error: RPCError(.deadlineExceeded, "deadline exceeded"), dropQueued: true)
            }
        }
        if !handler.takesSingleRequest { start(x) }
        // The call is accepted: a client waiting to send its body (curl does past 1 MiB) may now.
        if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            context?.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
        }
    }

    /// Bytes a request body may have: one message (and its prefix; base64 is a third larger).
    private func bodyLimit(_ dialect: WebDialect) -> Int {
        switch dialect {
        case .connectUnary: return config.maxReceiveMessageSize
        case .grpcWeb(text: true): return (config.maxReceiveMessageSize + 5) / 3 * 4 + 4
        default: return config.maxReceiveMessageSize + 5
        }
    }

    private func receive(_ buffer: ByteBuffer) {
        guard let x = exchange, !x.ignoring, x.handler != nil, !x.finished else { return }
        if case .connectUnary = x.codec!.dialect {
            x.body.append(contentsOf: buffer.readableBytesView)
            if x.body.count > config.maxReceiveMessageSize {
                x.body = []
                closeAfterResponse = true
                fail(x, RPCError(.resourceExhausted, "request message of more than \(config.maxReceiveMessageSize) bytes exceeds the limit"))
            }
            return
        }
        do {
            let bytes = try buffer.withUnsafeReadableBytes { try x.codec!.requestBytes($0) }
            bytes.withUnsafeBytes { x.deframer.append($0) }
        } catch {
            return fail(x, RPCError.from(error))
        }
        while true {
            switch x.deframer.next() {
            case .needMore:
                return
            case .message(let raw):
                x.requestCount += 1
                let m: [UInt8]
                do { m = try x.codec!.requestMessage(raw) } catch { return fail(x, RPCError.from(error)) }
                if x.handler!.takesSingleRequest {
                    if x.requestCount > 1 { return fail(x, RPCError(.internal, "more than one request message for a unary call")) }
                    x.call?.singleRequest = m
                } else {
                    x.call?.continuation?.yield(m)
                }
            case .tooLarge(let n):
                closeAfterResponse = true
                return fail(x, RPCError(.resourceExhausted, "request message of \(n) bytes exceeds the limit of \(config.maxReceiveMessageSize)"))
            case .compressed:
                return fail(x, RPCError(.internal, "compressed message without a grpc-encoding"))
            }
        }
    }

    private func endRequest() {
        requestTimer?.cancel()
        requestTimer = nil
        guard let x = exchange else { return }
        x.requestEnded = true
        if x.finished {
            // Answered early (an error, a preflight): the exchange is over now that its request is read.
            done(x)
            if closeAfterResponse { close() }
            return
        }
        guard let handler = x.handler else { return }
        if case .connectUnary = x.codec!.dialect {
            do { x.call?.singleRequest = try x.codec!.requestMessage(x.body) } catch { return fail(x, RPCError.from(error)) }
            x.body = []
            return start(x)
        }
        if x.codec!.textLeftOver { return fail(x, RPCError(.invalidArgument, "the gRPC-Web text body ends inside a base64 group")) }
        if x.deframer.pendingBytes > 0 {
            return fail(x, RPCError(.internal, "request ended inside a message (\(x.deframer.pendingBytes) bytes left over)"))
        }
        if handler.takesSingleRequest {
            if x.requestCount == 0 { return fail(x, RPCError(.internal, "no request message for a unary call")) }
            start(x)
        } else {
            x.call?.continuation?.finish()
        }
    }

    private func requestTimedOut() {
        requestTimer = nil
        guard let x = exchange else { return close() }  // the head never came whole
        guard !x.requestEnded else { return }
        closeAfterResponse = true
        if x.responseStarted || x.finished { return close() }
        abandon(x)
        plain(x, status: .requestTimeout, text: "the request did not arrive within \(web.requestTimeout) s")
    }

    private func start(_ x: Exchange) {
        guard let call = x.call, let handler = x.handler else { return }
        x.task = call.run(handler, on: executor)
    }

    private func abandon(_ x: Exchange) {
        x.deadlineTimer?.cancel()
        x.task?.cancel()
        x.call?.continuation?.finish(throwing: CancellationError())
    }

    private func fail(_ x: Exchange, _ error: RPCError) {
        finish(stream: x.id, message: nil, error: error, dropQueued: true)
        abandon(x)
    }

    // MARK: CallSink

    func enqueue(stream id: Int32, framed: [UInt8], waiter: CheckedContinuation<Void, Error>) {
        guard let x = exchange, x.id == id, !x.finished, let context else {
            return waiter.resume(throwing: RPCError(.cancelled, "call already ended"))
        }
        let bytes: [UInt8]
        do { bytes = try x.codec!.responseMessage(framed) } catch {
            waiter.resume(throwing: RPCError.from(error))
            return finish(stream: id, message: nil, error: RPCError.from(error), dropQueued: true)
        }
        startResponse(x)
        // The writer waits for its bytes to reach the socket: a slow reader slows the handler.
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { result in
            switch result {
            case .success: waiter.resume()
            case .failure: waiter.resume(throwing: RPCError(.cancelled, "connection closed"))
            }
        }
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: promise)
    }

    func consumed(stream id: Int32, count: Int) {}

    func finish(stream id: Int32, message: [UInt8]?, error: RPCError?, dropQueued: Bool) {
        guard let x = exchange, x.id == id, !x.finished, let context else { return }
        x.deadlineTimer?.cancel()
        let initial = x.call?.context.initialMetadata ?? Metadata()
        let trailing = x.call?.context.trailingMetadata ?? Metadata()
        if case .connectUnary = x.codec!.dialect, !x.responseStarted {
            let r = x.codec!.unaryResponse(message: message, error: error, initial: initial, trailing: trailing)
            x.finished = true
            var headers = HTTPHeaders([("content-type", r.contentType), ("content-length", String(r.body.count))])
            add(r.headers + corsHeaders(x), to: &headers)
            writeWhole(x, status: HTTPResponseStatus(statusCode: r.status), headers: headers, body: r.body)
            return
        }
        var status = error
        var tail: [UInt8] = []
        if let message {
            do { tail = try x.codec!.responseMessage(message) } catch { status = RPCError.from(error) }
        }
        tail += x.codec!.endOfStream(error: status, trailing: trailing)
        startResponse(x)
        x.finished = true
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: tail)))), promise: nil)
        endResponse(x)
    }

    // MARK: responses

    private func startResponse(_ x: Exchange) {
        guard !x.responseStarted, let context else { return }
        x.responseStarted = true
        var headers = HTTPHeaders([("content-type", x.codec!.dialect.responseContentType)])
        add((x.call?.context.initialMetadata ?? Metadata()).wireHeaders() + corsHeaders(x), to: &headers)
        if closeAfterResponse { headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: x.head.version, status: .ok, headers: headers))), promise: nil)
    }

    /// An answer with no call behind it, or an error before the call started.
    private func respondError(_ x: Exchange, _ error: RPCError) {
        finish(stream: x.id, message: nil, error: error, dropQueued: true)
    }

    private func plain(_ x: Exchange, status: HTTPResponseStatus, extra: [(String, [UInt8])] = [], text: String) {
        x.finished = true
        let body = Array(text.utf8)
        var headers = HTTPHeaders([("content-length", String(body.count))])
        if !body.isEmpty { headers.add(name: "content-type", value: "text/plain; charset=utf-8") }
        add(extra + (x.head.method == .OPTIONS ? [] : corsHeaders(x)), to: &headers)
        writeWhole(x, status: status, headers: headers, body: body)
    }

    private func writeWhole(_ x: Exchange, status: HTTPResponseStatus, headers: HTTPHeaders, body: [UInt8]) {
        guard let context else { return }
        var headers = headers
        if !x.requestEnded && !x.bodiless { closeAfterResponse = true }
        if closeAfterResponse { headers.replaceOrAdd(name: "connection", value: "close") }
        x.responseStarted = true
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: x.head.version, status: status, headers: headers))), promise: nil)
        if !body.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil) }
        endResponse(x)
    }

    private func endResponse(_ x: Exchange) {
        guard let context else { return }
        // An answer sent before the body was read (an early error) closes the connection, but only
        // once the body has been read and dropped: closing with unread bytes would reset the
        // connection and lose the answer. The request timeout bounds the wait.
        if !x.requestEnded && !x.bodiless { closeAfterResponse = true }
        // The answer is out, whoever ended it: a handler still running (a deadline ended its
        // stream) is stopped, or a watch would go on polling for nobody.
        abandon(x)
        let close = closeAfterResponse && x.requestEnded
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [weak self] _ in
            if close { self?.close() }
        }
        if x.requestEnded { done(x) } else { x.ignoring = true }
    }

    /// The exchange is over: the next pipelined request may start.
    private func done(_ x: Exchange) {
        guard exchange === x, x.finished else { return }
        exchange = nil
        if !closeAfterResponse { armIdle() }
    }

    private func corsHeaders(_ x: Exchange) -> [(String, [UInt8])] {
        web.corsHeaders(origin: x.head.headers.first(name: "origin"))
    }

    private func add(_ pairs: [(String, [UInt8])], to headers: inout HTTPHeaders) {
        for (k, v) in pairs { headers.add(name: k, value: String(decoding: v, as: UTF8.self)) }
    }
}

/// Sits before the HTTP/1.1 decoder and tells the connection handler when bytes arrive, so the
/// request timeout starts with a request's first byte rather than with its completed head.
final class RequestStartWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    weak var connection: HTTP1ConnectionHandler?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection?.bytesArrived()
        context.fireChannelRead(data)
    }
}
