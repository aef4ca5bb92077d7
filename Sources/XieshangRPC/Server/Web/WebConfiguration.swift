/// What a server that speaks to browsers needs besides gRPC: the gRPC-Web and Connect dialects
/// (over HTTP/2, and over HTTP/1.1 on the same port), the origins allowed to call it from other
/// sites, and how to spell messages as JSON.
public struct WebConfiguration: Sendable {
    /// Origins allowed to call cross-origin, exactly as browsers send them
    /// (`https://app.example.cn`), or `*` for any; empty allows same-origin callers only.
    public var corsOrigins: [String] = []
    /// JSON ↔ protobuf by method, for `application/json` and `application/connect+json`; without
    /// one only the binary dialects are served.
    public var transcoder: (any JSONTranscoder)?
    /// Seconds an HTTP/1.1 client gets to send a whole request (head and body); a client that
    /// trickles bytes slower is cut off.
    public var requestTimeout: Double = 30
    /// Seconds an idle HTTP/1.1 keep-alive connection stays open.
    public var idleTimeout: Double = 75
    /// Largest HTTP/1.1 request head (bytes); a larger one is answered 431.
    public var maxHeaderBytes: Int = 16 << 10

    public init(corsOrigins: [String] = [], transcoder: (any JSONTranscoder)? = nil) {
        self.corsOrigins = corsOrigins
        self.transcoder = transcoder
    }

    /// Whether `origin` may call cross-origin.
    func allows(origin: String) -> Bool {
        corsOrigins.contains("*") || corsOrigins.contains(origin)
    }

    /// Headers browsers need to read a cross-origin response: empty without an allowed origin.
    func corsHeaders(origin: String?) -> [(String, [UInt8])] {
        guard let origin, allows(origin: origin) else { return [] }
        return [
            ("access-control-allow-origin", Array(origin.utf8)),
            ("vary", Array("origin".utf8)),
            ("access-control-expose-headers", Array(Self.exposed.utf8)),
        ]
    }

    /// The answer to a CORS preflight (`OPTIONS` with `access-control-request-method`): 204 with
    /// what may be sent, or 403 for an origin not allowed.
    func preflight(origin: String?, requestHeaders: String?) -> (status: Int, headers: [(String, [UInt8])]) {
        guard let origin, allows(origin: origin) else { return (403, []) }
        let asked = requestHeaders.map { $0.lowercased() } ?? ""
        return (204, [
            ("access-control-allow-origin", Array(origin.utf8)),
            ("vary", Array("origin".utf8)),
            ("access-control-allow-methods", Array("POST, OPTIONS".utf8)),
            ("access-control-allow-headers", Array((asked.isEmpty ? Self.allowed : asked).utf8)),
            ("access-control-max-age", Array("7200".utf8)),
        ])
    }

    /// What a request's method and content type make of it before any call: a plain answer (a
    /// preflight, a wrong method or content type) or a call in a dialect. One rule for both
    /// transports; native gRPC (HTTP/2 only) keeps its own answers.
    func admit(method: String, contentType: String, origin: String?, requestHeaders: String?, http2: Bool) -> WebAdmission {
        if method == "OPTIONS" {
            let (status, headers) = preflight(origin: origin, requestHeaders: requestHeaders)
            return .answer(status: status, headers: headers, text: "")
        }
        let dialect = WebDialect(contentType: contentType)
        if dialect == .grpc && http2 { return .call(.grpc) }
        guard method == "POST" else {
            return .answer(status: 405, headers: [("allow", Array("POST, OPTIONS".utf8))], text: "method \(method) not allowed: calls are POST")
        }
        guard let dialect, dialect != .grpc else {
            return .answer(status: 415, headers: [], text: dialect == .grpc
                ? "native gRPC needs HTTP/2; over HTTP/1.1 use gRPC-Web or Connect"
                : "content-type '\(contentType)' is none of application/grpc, application/grpc-web(-text), application/json, application/proto, application/connect+json or application/connect+proto")
        }
        guard !dialect.json || transcoder != nil else {
            return .answer(status: 415, headers: [], text: "content-type \(contentType) is not served here")
        }
        return .call(dialect)
    }

    /// What a browser may send: credentials, the public's committee, and both protocols' headers.
    static let allowed = "authorization, content-type, x-xieshang-committee, x-grpc-web, x-user-agent, grpc-timeout, "
        + "connect-protocol-version, connect-timeout-ms"
    /// What a browser may read besides the simple headers.
    static let exposed = "grpc-status, grpc-message, grpc-status-details-bin, connect-protocol-version, *"
}

/// See ``WebConfiguration/admit(method:contentType:origin:requestHeaders:http2:)``.
enum WebAdmission {
    case answer(status: Int, headers: [(String, [UInt8])], text: String)
    case call(WebDialect)
}

/// Request headers that are about the HTTP exchange or the browser, not the call: kept out of a
/// call's metadata so they are not forwarded to services.
enum BrowserHeaders {
    static func isTransport(_ name: String) -> Bool {
        switch name {
        case "host", "connection", "keep-alive", "content-length", "transfer-encoding", "upgrade", "te", "expect",
             "accept", "accept-encoding", "accept-language", "origin", "referer", "cookie", "user-agent", "pragma",
             "cache-control", "priority", "dnt", "x-grpc-web", "x-user-agent", "connect-protocol-version",
             "connect-timeout-ms", "connect-accept-encoding", "connect-content-encoding", "x-forwarded-for",
             "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "forwarded", "via":
            return true
        default:
            return name.hasPrefix("sec-") || name.hasPrefix("access-control-")
        }
    }
}
