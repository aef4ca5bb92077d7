import CNGHTTP2
import NIOCore

/// What an nghttp2 session reports to the connection that owns it. All calls happen on the
/// connection's event loop, from inside `receive` or `drainOutput`.
protocol H2SessionDelegate: AnyObject {
    /// A header block starts (request headers, response headers or trailers).
    func h2BeginHeaders(stream: Int32)
    /// One header field; return false to reset the stream (e.g. the block is too large).
    func h2Header(stream: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool
    /// A complete header block; `endStream` when the peer sends nothing more.
    func h2HeadersComplete(stream: Int32, endStream: Bool)
    /// Body bytes for a stream.
    func h2Data(stream: Int32, bytes: UnsafeRawBufferPointer)
    /// The peer ended its side of a stream with a DATA frame.
    func h2EndStream(stream: Int32)
    /// The stream is gone (ended normally, or reset with `errorCode`).
    func h2StreamClosed(stream: Int32, errorCode: UInt32)
    /// Fills `buffer` with body bytes; returns the count and whether the body is complete.
    /// Returns nil when nothing is queued yet (the stream is resumed later).
    func h2ReadBody(stream: Int32, into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, end: Bool)?
    /// The body is done: trailers to send now, or nil to end the stream with the last DATA frame.
    func h2Trailers(stream: Int32) -> [(String, [UInt8])]?
    /// A PING acknowledgement arrived.
    func h2PingAck()
    /// The peer sent GOAWAY.
    func h2GoAway(lastStreamID: Int32, errorCode: UInt32)
    /// This side's END_STREAM for `stream` went out.
    func h2SentEndStream(stream: Int32)
}

/// Settings applied to each session.
struct H2Settings {
    var maxConcurrentStreams: UInt32 = 1000
    var initialWindowSize: UInt32 = 1 << 20
    var connectionWindowSize: Int32 = 16 << 20
    var maxFrameSize: UInt32 = 1 << 14
    var maxHeaderListSize: UInt32 = 16 << 10
}

/// One nghttp2 session fed through `mem_recv` / `mem_send` (Debian's 1.52 has no `*2` API).
final class H2Session {
    private(set) var raw: OpaquePointer?
    unowned let delegate: H2SessionDelegate
    let isServer: Bool

    init(server: Bool, delegate: H2SessionDelegate, settings: H2Settings, manualWindow: Bool = false) {
        self.isServer = server
        self.delegate = delegate
        var cbs: OpaquePointer?
        nghttp2_session_callbacks_new(&cbs)
        defer { nghttp2_session_callbacks_del(cbs) }
        Self.install(cbs)
        var opt: OpaquePointer?
        nghttp2_option_new(&opt)
        defer { nghttp2_option_del(opt) }
        nghttp2_option_set_max_send_header_block_length(opt, 1 << 20)
        // With a manual window, the peer may send only as much as the application has taken.
        if manualWindow { nghttp2_option_set_no_auto_window_update(opt, 1) }
        let ud = Unmanaged.passUnretained(self).toOpaque()
        var s: OpaquePointer?
        if server {
            nghttp2_session_server_new2(&s, cbs, ud, opt)
        } else {
            nghttp2_session_client_new2(&s, cbs, ud, opt)
        }
        raw = s
        var iv = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: settings.maxConcurrentStreams),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: settings.initialWindowSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue), value: settings.maxFrameSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: settings.maxHeaderListSize),
        ]
        if !server {
            // Clients take no server push (and PUSH_PROMISE headers never reach a call).
            iv[0] = nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0)
        }
        nghttp2_submit_settings(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), &iv, iv.count)
        nghttp2_session_set_local_window_size(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, settings.connectionWindowSize)
    }

    deinit { close() }

    /// Frees the session; later calls do nothing.
    func close() {
        if let r = raw { nghttp2_session_del(r) }
        raw = nil
    }

    /// Feeds received bytes; returns false when the connection must be closed (after a final flush).
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let raw, let base = bytes.baseAddress else { return raw != nil }
        let n = nghttp2_session_mem_recv(raw, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        return n >= 0
    }

    /// Serialises everything pending into `append`, one chunk at a time.
    func drainOutput(_ append: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard let raw else { return false }
        while true {
            var p: UnsafePointer<UInt8>?
            let n = nghttp2_session_mem_send(raw, &p)
            if n < 0 { return false }
            if n == 0 { return true }
            append(UnsafeRawBufferPointer(start: p, count: n))
        }
    }

    /// Everything pending as one buffer (nil when nothing is), and whether the session is still sound.
    func drainOutput(allocator: ByteBufferAllocator) -> (bytes: ByteBuffer?, ok: Bool) {
        var out: ByteBuffer?
        let ok = drainOutput { bytes in
            if out == nil { out = allocator.buffer(capacity: max(bytes.count, 1024)) }
            out!.writeBytes(bytes)
        }
        return (out, ok)
    }

    /// Whether the session still has anything to read or write.
    var isAlive: Bool {
        guard let raw else { return false }
        return nghttp2_session_want_read(raw) != 0 || nghttp2_session_want_write(raw) != 0
    }

    // MARK: submitting

    /// Response or request headers with an optional body provider.
    @discardableResult
    func submitHeaders(stream: Int32, headers: [(String, [UInt8])], body: Bool) -> Int32 {
        guard let raw else { return -1 }
        var provider = nghttp2_data_provider(source: nghttp2_data_source(fd: 0), read_callback: H2Session.readCallback)
        return withUnsafeMutablePointer(to: &provider) { prd in
            H2Session.withNV(headers) { nva, n in
                if isServer {
                    return nghttp2_submit_response(raw, stream, nva, n, body ? prd : nil)
                } else {
                    return nghttp2_submit_request(raw, nil, nva, n, body ? prd : nil, nil)
                }
            }
        }
    }

    /// Trailers (a HEADERS frame with END_STREAM).
    func submitTrailers(stream: Int32, headers: [(String, [UInt8])]) {
        guard let raw else { return }
        _ = H2Session.withNV(headers) { nva, n in nghttp2_submit_trailer(raw, stream, nva, n) }
    }

    /// Tells nghttp2 a deferred body has more bytes.
    func resume(stream: Int32) {
        guard let raw else { return }
        nghttp2_session_resume_data(raw, stream)
    }

    /// Reopens `count` bytes of `stream`'s flow-control window (manual-window sessions).
    func consumeStream(_ stream: Int32, count: Int) {
        guard let raw, count > 0 else { return }
        nghttp2_session_consume_stream(raw, stream, count)
    }

    /// Reopens `count` bytes of the connection's flow-control window (manual-window sessions).
    func consumeConnection(count: Int) {
        guard let raw, count > 0 else { return }
        nghttp2_session_consume_connection(raw, count)
    }

    /// RST_STREAM with an HTTP/2 error code.
    func reset(stream: Int32, code: UInt32) {
        guard let raw else { return }
        nghttp2_submit_rst_stream(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, code)
    }

    /// A PING (keepalive).
    func ping() {
        guard let raw else { return }
        nghttp2_submit_ping(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    }

    /// GOAWAY naming the last stream that will be processed.
    func goAway(code: UInt32, lastStreamID: Int32? = nil) {
        guard let raw else { return }
        let last = lastStreamID ?? nghttp2_session_get_last_proc_stream_id(raw)
        nghttp2_submit_goaway(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, code, nil, 0)
    }

    /// Whether the peer has already closed its side of `stream`.
    func remoteClosed(stream: Int32) -> Bool {
        guard let raw else { return true }
        return nghttp2_session_get_stream_remote_close(raw, stream) != 0
    }

    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS.
    var remoteMaxConcurrentStreams: UInt32 {
        guard let raw else { return 0 }
        return nghttp2_session_get_remote_settings(raw, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
    }

    // MARK: C plumbing

    static func withNV<R>(_ headers: [(String, [UInt8])], _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        var total = 0
        for (n, v) in headers { total += n.utf8.count + v.count }
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(total, 1))
        let nvs = UnsafeMutablePointer<nghttp2_nv>.allocate(capacity: max(headers.count, 1))
        defer {
            storage.deallocate()
            nvs.deallocate()
        }
        var off = 0
        for (i, (n, v)) in headers.enumerated() {
            let np = storage + off
            var nl = 0
            for b in n.utf8 { np[nl] = b; nl += 1 }
            off += nl
            let vp = storage + off
            v.withUnsafeBufferPointer { if let b = $0.baseAddress { vp.initialize(from: b, count: v.count) } }
            off += v.count
            (nvs + i).initialize(to: nghttp2_nv(name: np, value: vp, namelen: nl, valuelen: v.count, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
        }
        return body(nvs, headers.count)
    }

    private static func me(_ ud: UnsafeMutableRawPointer?) -> H2Session {
        Unmanaged<H2Session>.fromOpaque(ud!).takeUnretainedValue()
    }

    private static let readCallback: nghttp2_data_source_read_callback = { _, stream, buf, length, flags, _, ud in
        let s = H2Session.me(ud)
        guard let r = s.delegate.h2ReadBody(stream: stream, into: UnsafeMutableRawBufferPointer(start: buf, count: length)) else {
            return ssize_t(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        if r.end {
            flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_EOF.rawValue)
            if let t = s.delegate.h2Trailers(stream: stream) {
                flags!.pointee |= UInt32(NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue)
                s.submitTrailers(stream: stream, headers: t)
            }
        }
        return ssize_t(r.count)
    }

    private static func install(_ cbs: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(cbs) { _, frame, ud in
            guard Int(frame!.pointee.hd.type) == Int(NGHTTP2_HEADERS.rawValue) else { return 0 }
            H2Session.me(ud).delegate.h2BeginHeaders(stream: frame!.pointee.hd.stream_id)
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(cbs) { _, frame, name, nlen, value, vlen, _, ud in
            guard Int(frame!.pointee.hd.type) == Int(NGHTTP2_HEADERS.rawValue) else { return 0 }
            let ok = H2Session.me(ud).delegate.h2Header(
                stream: frame!.pointee.hd.stream_id,
                name: UnsafeRawBufferPointer(start: name, count: nlen),
                value: UnsafeRawBufferPointer(start: value, count: vlen))
            return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs) { _, frame, ud in
            let s = H2Session.me(ud)
            let hd = frame!.pointee.hd
            let end = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            switch Int(hd.type) {
            case Int(NGHTTP2_HEADERS.rawValue):
                s.delegate.h2HeadersComplete(stream: hd.stream_id, endStream: end)
            case Int(NGHTTP2_DATA.rawValue):
                if end { s.delegate.h2EndStream(stream: hd.stream_id) }
            case Int(NGHTTP2_PING.rawValue):
                if hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0 { s.delegate.h2PingAck() }
            case Int(NGHTTP2_GOAWAY.rawValue):
                s.delegate.h2GoAway(lastStreamID: frame!.pointee.goaway.last_stream_id, errorCode: frame!.pointee.goaway.error_code)
            default:
                break
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs) { _, _, stream, data, len, ud in
            H2Session.me(ud).delegate.h2Data(stream: stream, bytes: UnsafeRawBufferPointer(start: data, count: len))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(cbs) { _, frame, ud in
            let hd = frame!.pointee.hd
            if hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0,
               Int(hd.type) == Int(NGHTTP2_HEADERS.rawValue) || Int(hd.type) == Int(NGHTTP2_DATA.rawValue) {
                H2Session.me(ud).delegate.h2SentEndStream(stream: hd.stream_id)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs) { _, stream, code, ud in
            H2Session.me(ud).delegate.h2StreamClosed(stream: stream, errorCode: code)
            return 0
        }
    }
}
