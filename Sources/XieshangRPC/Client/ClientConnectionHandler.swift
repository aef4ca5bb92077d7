import CNGHTTP2
import NIOCore

/// The client side of one HTTP/2 connection: an nghttp2 client session, its streams and
/// their sinks. Confined to the channel's event loop.
final class ClientConnectionHandler: ChannelInboundHandler, H2SessionDelegate {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One call's stream.
    final class Stream {
        var id: Int32 = -1
        let sink: ClientStreamSink
        var deframer: MessageDeframer
        var outbound = OutboundQueue()
        var endRequested = false
        var deferred = false
        var httpStatus = ""
        var contentType = ""
        var headersDone = false
        var metadata = Metadata()
        var grpcStatus: Int?
        var grpcMessage = ""
        var trailers = Metadata()
        var done = false
        var localError: RPCError?
        var deadlineTimer: Scheduled<Void>?
        var waiters: [CheckedContinuation<Void, Error>] = []
        var headerBytes = 0

        init(sink: ClientStreamSink, maxMessageSize: Int) {
            self.sink = sink
            deframer = MessageDeframer(maxMessageSize: maxMessageSize)
        }
    }

    private let config: ChannelConfiguration
    private var session: H2Session!
    private var streams: [Int32: Stream] = [:]
    private var context: ChannelHandlerContext?
    private var flushScheduled = false
    private(set) var isClosed = false
    private(set) var goingAway = false
    private var keepaliveTask: RepeatedTask?
    private var awaitingPingAck: Scheduled<Void>?
    private static let highWater = 1 << 20
    /// Largest response header or trailer block accepted.
    private static let maxHeaderBytes = 64 << 10
    /// Body bytes one flush may produce; the rest waits for the socket to drain.
    private static let flushBudget = 1 << 20
    private var budget = flushBudget
    private var blocked: [Stream] = []
    let authority: String
    /// Called once when the connection can take no more calls.
    var onUnusable: (() -> Void)?

    init(config: ChannelConfiguration, authority: String) {
        self.config = config
        self.authority = authority
    }

    var activeStreams: Int { streams.count }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        session = H2Session(server: false, delegate: self, settings: H2Settings())
        if let interval = config.keepaliveInterval {
            let amount = TimeAmount.nanoseconds(Int64(interval * 1e9))
            keepaliveTask = context.eventLoop.scheduleRepeatedTask(initialDelay: amount, delay: amount) { [weak self] _ in
                self?.keepaliveTick()
            }
        }
        if context.channel.isActive { flush() }
    }

    func channelActive(context: ChannelHandlerContext) {
        flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        teardown(RPCError(.unavailable, "connection to \(authority) closed"))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        teardown(RPCError(.unavailable, "connection to \(authority) closed"))
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buf = unwrapInboundIn(data)
        let ok = buf.withUnsafeReadableBytes { session.receive($0) }
        if !ok {
            flush()
            close(RPCError(.internal, "HTTP/2 protocol error from \(authority)"))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) { flush() }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        close(RPCError(.unavailable, "connection to \(authority) failed: \(error)"))
    }

    private func teardown(_ error: RPCError) {
        guard !isClosed else { return }
        isClosed = true
        keepaliveTask?.cancel()
        awaitingPingAck?.cancel()
        let all = Array(streams.values)
        streams.removeAll()
        for s in all { complete(s, error: error) }
        session?.close()
        onUnusable?()
        onUnusable = nil
    }

    func close(_ error: RPCError = RPCError(.unavailable, "connection closed")) {
        guard !isClosed else { return }
        let ctx = context
        teardown(error)
        ctx?.close(promise: nil)
    }

    private func keepaliveTick() {
        guard !isClosed, awaitingPingAck == nil, !streams.isEmpty || config.keepaliveWithoutCalls else { return }
        session.ping()
        flush()
        let timeout = TimeAmount.nanoseconds(Int64(config.keepaliveTimeout * 1e9))
        awaitingPingAck = context?.eventLoop.scheduleTask(in: timeout) { [weak self] in
            self?.close(RPCError(.unavailable, "keepalive ping to \(self?.authority ?? "") timed out"))
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { unblock() }
        context.fireChannelWritabilityChanged()
    }

    /// Resumes request bodies held back for a full socket.
    private func unblock() {
        guard !blocked.isEmpty, !isClosed else { return }
        let held = blocked
        blocked.removeAll()
        for s in held where !s.done { resume(s) }
        scheduleFlush()
    }

    private func flush() {
        guard let context, !isClosed else { return }
        budget = Self.flushBudget
        let (out, ok) = session.drainOutput(allocator: context.channel.allocator)
        if let out { context.writeAndFlush(wrapOutboundOut(out), promise: nil) }
        if !ok { return close(RPCError(.internal, "HTTP/2 session failed")) }
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

    // MARK: calls

    /// Opens a stream; `initial` messages are queued at once and `end` half-closes after them.
    func start(path: String, metadata: Metadata, deadline: Deadline?, sink: ClientStreamSink, initial: [[UInt8]], end: Bool) {
        let s = Stream(sink: sink, maxMessageSize: config.maxReceiveMessageSize)
        sink.stream = s
        if sink.cancelledEarly { return complete(s, error: RPCError(.cancelled, "call cancelled")) }
        guard !isClosed, !goingAway else {
            return complete(s, error: RPCError(.unavailable, "connection to \(authority) is closing"))
        }
        var h: [(String, [UInt8])] = [
            (":method", Array("POST".utf8)), (":scheme", Array((config.tls == nil ? "http" : "https").utf8)), (":path", Array(path.utf8)),
            (":authority", Array(authority.utf8)), ("content-type", Array("application/grpc".utf8)),
            ("te", Array("trailers".utf8)), ("user-agent", Array("xieshang-swift/1.0".utf8)),
        ]
        if let deadline {
            let left = deadline.remainingNanoseconds
            if left <= 0 { return complete(s, error: RPCError(.deadlineExceeded, "deadline exceeded before the call started")) }
            h.append(("grpc-timeout", Array(GRPCTimeout.format(nanoseconds: left).utf8)))
            s.deadlineTimer = context?.eventLoop.scheduleTask(deadline: deadline.nio) { [weak self, weak s] in
                guard let self, let s else { return }
                self.abort(s, code: UInt32(NGHTTP2_CANCEL.rawValue), error: RPCError(.deadlineExceeded, "deadline exceeded"))
            }
        }
        h += metadata.wireHeaders()
        for m in initial { s.outbound.append(m) }
        s.endRequested = end
        let id = session.submitHeaders(stream: 0, headers: h, body: true)
        guard id > 0 else {
            // Out of stream IDs (or the session refused): retire this connection; the pool opens another.
            goingAway = true
            onUnusable?()
            onUnusable = nil
            return complete(s, error: RPCError(.unavailable, "could not open a stream to \(authority)"))
        }
        s.id = id
        streams[id] = s
        scheduleFlush()
    }

    /// Queues a message; resumes `waiter` when the queue is below the high-water mark.
    func send(_ s: Stream, framed: [UInt8], waiter: CheckedContinuation<Void, Error>?) {
        guard !s.done, !s.endRequested else {
            waiter?.resume(throwing: s.localError ?? RPCError(.failedPrecondition, "the request side is closed"))
            return
        }
        s.outbound.append(framed)
        resume(s)
        if let waiter {
            if s.outbound.bytes >= Self.highWater { s.waiters.append(waiter) } else { waiter.resume() }
        }
        scheduleFlush()
    }

    /// Half-closes the request side.
    func closeSend(_ s: Stream) {
        guard !s.done, !s.endRequested else { return }
        s.endRequested = true
        resume(s)
        scheduleFlush()
    }

    /// Cancels a call (RST_STREAM CANCEL; the caller sees CANCELLED).
    func cancel(_ sink: ClientStreamSink) {
        guard let s = sink.stream else {
            sink.cancelledEarly = true
            return
        }
        abort(s, code: UInt32(NGHTTP2_CANCEL.rawValue), error: RPCError(.cancelled, "call cancelled"))
    }

    private func abort(_ s: Stream, code: UInt32, error: RPCError) {
        guard !s.done else { return }
        if s.id > 0 {
            session.reset(stream: s.id, code: code)
            streams.removeValue(forKey: s.id)
        }
        complete(s, error: error)
        scheduleFlush()
    }

    private func resume(_ s: Stream) {
        if s.deferred && s.id > 0 {
            s.deferred = false
            session.resume(stream: s.id)
        }
    }

    private func complete(_ s: Stream, error: RPCError? = nil) {
        guard !s.done else { return }
        s.done = true
        s.deadlineTimer?.cancel()
        let status: RPCError
        if let error {
            status = error
        } else if let e = s.localError {
            status = e
        } else if let code = s.grpcStatus {
            status = RPCError(StatusCode(rawValue: code), s.grpcMessage)
        } else if !s.httpStatus.isEmpty && s.httpStatus != "200" {
            status = RPCError(Self.code(forHTTPStatus: s.httpStatus), "HTTP status \(s.httpStatus)")
        } else {
            status = RPCError(.internal, "stream ended without a grpc-status")
        }
        s.localError = status
        let w = s.waiters
        s.waiters.removeAll()
        for c in w { c.resume(throwing: status.code == .ok ? RPCError(.cancelled, "call ended") : status) }
        s.sink.finished(status, trailers: s.trailers)
    }

    static func code(forHTTPStatus s: String) -> StatusCode {
        switch s {
        case "400": return .internal
        case "401": return .unauthenticated
        case "403": return .permissionDenied
        case "404": return .unimplemented
        case "429", "502", "503", "504": return .unavailable
        default: return .unknown
        }
    }

    // MARK: H2SessionDelegate

    func h2BeginHeaders(stream id: Int32) {}

    func h2Header(stream id: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        guard let s = streams[id] else { return true }
        s.headerBytes += name.count + value.count + 32
        if s.headerBytes > Self.maxHeaderBytes {
            s.localError = RPCError(.resourceExhausted, "response headers exceed \(Self.maxHeaderBytes) bytes")
            return false
        }
        let n = String(decoding: name, as: UTF8.self)
        switch n {
        case ":status": s.httpStatus = String(decoding: value, as: UTF8.self)
        case "content-type": s.contentType = String(decoding: value, as: UTF8.self)
        case "grpc-status": s.grpcStatus = Int(String(decoding: value, as: UTF8.self)) ?? StatusCode.unknown.rawValue
        case "grpc-message": s.grpcMessage = PercentEncoding.decode(Array(value))
        case "grpc-encoding", "grpc-accept-encoding", "content-length", "date", "server": break
        default:
            if n.hasPrefix(":") { break }
            if s.headersDone { s.trailers.addWire(name: n, value: Array(value)) } else { s.metadata.addWire(name: n, value: Array(value)) }
        }
        return true
    }

    func h2HeadersComplete(stream id: Int32, endStream: Bool) {
        guard let s = streams[id], !s.done else { return }
        if s.headersDone {
            // Trailers: the status is known, finish now rather than wait for the stream to close.
            if endStream { finishOnStatus(s) }
            return
        }
        do {
            s.headersDone = true
            if s.httpStatus != "200" {
                if s.grpcStatus == nil {
                    s.localError = RPCError(Self.code(forHTTPStatus: s.httpStatus), "HTTP status \(s.httpStatus)")
                }
            } else if s.grpcStatus == nil && !s.contentType.hasPrefix("application/grpc") {
                s.localError = RPCError(.unknown, "response content-type \(s.contentType) is not application/grpc")
            }
            if endStream {
                // Trailers-only: the header block carries the status.
                s.trailers = s.metadata
                s.metadata = Metadata()
            }
            s.sink.receivedHeaders(s.metadata)
            if endStream { finishOnStatus(s) }
        }
    }

    /// The server's END_STREAM carried the status: complete the call, and stop our side if still open.
    private func finishOnStatus(_ s: Stream) {
        if s.deframer.pendingBytes > 0 && s.localError == nil && (s.grpcStatus ?? 0) == 0 {
            s.localError = RPCError(.internal, "response ended inside a message")
        }
        complete(s)
        if !s.endRequested {
            session.reset(stream: s.id, code: UInt32(NGHTTP2_NO_ERROR.rawValue))
        }
    }

    func h2Data(stream id: Int32, bytes: UnsafeRawBufferPointer) {
        guard let s = streams[id], !s.done else { return }
        s.deframer.append(bytes)
        while true {
            switch s.deframer.next() {
            case .needMore: return
            case .message(let m):
                if !s.sink.receivedMessage(m) {
                    return abort(s, code: UInt32(NGHTTP2_CANCEL.rawValue), error: RPCError(.internal, "failed to decode a response message"))
                }
            case .tooLarge(let n):
                return abort(s, code: UInt32(NGHTTP2_CANCEL.rawValue), error: RPCError(.resourceExhausted, "response message of \(n) bytes exceeds the limit of \(config.maxReceiveMessageSize)"))
            case .compressed:
                return abort(s, code: UInt32(NGHTTP2_CANCEL.rawValue), error: RPCError(.internal, "compressed response without a grpc-encoding"))
            }
        }
    }

    func h2EndStream(stream id: Int32) {}

    func h2StreamClosed(stream id: Int32, errorCode: UInt32) {
        guard let s = streams.removeValue(forKey: id) else { return }
        if s.grpcStatus == nil && s.localError == nil && errorCode != NGHTTP2_NO_ERROR.rawValue {
            switch errorCode {
            case NGHTTP2_REFUSED_STREAM.rawValue: s.localError = RPCError(.unavailable, "stream refused by \(authority)")
            case NGHTTP2_CANCEL.rawValue: s.localError = RPCError(.cancelled, "stream cancelled by the server")
            case NGHTTP2_ENHANCE_YOUR_CALM.rawValue: s.localError = RPCError(.resourceExhausted, "server asked to slow down")
            default: s.localError = RPCError(.internal, "stream reset with HTTP/2 error \(errorCode)")
            }
        }
        if s.deframer.pendingBytes > 0 && s.localError == nil && s.grpcStatus == 0 {
            s.localError = RPCError(.internal, "response ended inside a message")
        }
        complete(s)
    }

    func h2ReadBody(stream id: Int32, into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, end: Bool)? {
        guard let s = streams[id] else { return (0, true) }
        if !s.outbound.isEmpty && (budget <= 0 || context?.channel.isWritable == false) {
            s.deferred = true
            blocked.append(s)
            return nil
        }
        let n = s.outbound.read(into: buffer)
        budget -= n
        if s.outbound.bytes < Self.highWater / 2 && !s.waiters.isEmpty {
            let w = s.waiters
            s.waiters.removeAll()
            for c in w { c.resume() }
        }
        if n == 0 && !s.endRequested {
            s.deferred = true
            return nil
        }
        return (n, s.endRequested && s.outbound.isEmpty)
    }

    func h2Trailers(stream id: Int32) -> [(String, [UInt8])]? { nil }

    func h2SentEndStream(stream id: Int32) {}

    func h2PingAck() {
        awaitingPingAck?.cancel()
        awaitingPingAck = nil
    }

    func h2GoAway(lastStreamID: Int32, errorCode: UInt32) {
        goingAway = true
        onUnusable?()
        onUnusable = nil
        // Inside nghttp2's receive: close after it returns.
        context?.eventLoop.execute { [weak self] in
            guard let self, self.streams.isEmpty else { return }
            self.close(RPCError(.unavailable, "server at \(self.authority) went away"))
        }
    }
}
