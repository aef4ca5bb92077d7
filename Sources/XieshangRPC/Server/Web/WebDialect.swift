/// How one call's request and response bodies are spelled, told by the request's content type.
/// Native gRPC needs HTTP/2 trailers; the others carry the status in the body or the HTTP status,
/// so browsers, WeChat's `wx.request` and curl can use them over HTTP/1.1 or HTTP/2.
enum WebDialect: Equatable, Sendable {
    /// `application/grpc[+proto]`: the status in HTTP/2 trailers.
    case grpc
    /// `application/grpc-web[+proto]` or `application/grpc-web-text[+proto]` (grpc/grpc
    /// `doc/PROTOCOL-WEB.md`): gRPC's framing, the status as a last frame flagged 0x80; `text`
    /// is the same bytes in base64.
    case grpcWeb(text: Bool)
    /// Connect unary (`application/json`, `application/proto`): the bare message as the body, the
    /// status as the HTTP status with a JSON error body.
    case connectUnary(json: Bool)
    /// Connect streaming (`application/connect+json`, `application/connect+proto`): enveloped
    /// messages and an end-of-stream envelope (flag 0x02) carrying the error and trailers as JSON.
    case connectStream(json: Bool)

    /// The dialect of a request's `content-type`, or nil when it is none of them.
    init?(contentType raw: String) {
        if raw == "application/grpc" {  // what every native call sends: no lower-casing
            self = .grpc
            return
        }
        var t = Substring(raw.lowercased())
        if let semi = t.firstIndex(of: ";") { t = t[..<semi] }
        switch t.trimmingSpaces() {
        case "application/grpc", "application/grpc+proto": self = .grpc
        case "application/grpc-web", "application/grpc-web+proto": self = .grpcWeb(text: false)
        case "application/grpc-web-text", "application/grpc-web-text+proto": self = .grpcWeb(text: true)
        case "application/json": self = .connectUnary(json: true)
        case "application/proto", "application/x-protobuf": self = .connectUnary(json: false)
        case "application/connect+json": self = .connectStream(json: true)
        case "application/connect+proto": self = .connectStream(json: false)
        default: return nil
        }
    }

    /// Whether messages are JSON (transcoded by the server's ``JSONTranscoder``).
    var json: Bool {
        switch self {
        case .connectUnary(let j), .connectStream(let j): return j
        default: return false
        }
    }

    /// Whether the request body is 5-byte-prefixed messages (everything but Connect unary).
    var enveloped: Bool {
        if case .connectUnary = self { return false }
        return true
    }

    /// The response's `content-type`.
    var responseContentType: String {
        switch self {
        case .grpc: return "application/grpc"
        case .grpcWeb(let text): return text ? "application/grpc-web-text+proto" : "application/grpc-web+proto"
        case .connectUnary(let json): return json ? "application/json" : "application/proto"
        case .connectStream(let json): return json ? "application/connect+json" : "application/connect+proto"
        }
    }

    /// The Connect error code of a status (connectrpc.com/docs/protocol, "Error Codes").
    static func connectCode(_ code: StatusCode) -> String {
        switch code {
        case .cancelled: return "canceled"
        case .invalidArgument: return "invalid_argument"
        case .deadlineExceeded: return "deadline_exceeded"
        case .notFound: return "not_found"
        case .alreadyExists: return "already_exists"
        case .permissionDenied: return "permission_denied"
        case .resourceExhausted: return "resource_exhausted"
        case .failedPrecondition: return "failed_precondition"
        case .aborted: return "aborted"
        case .outOfRange: return "out_of_range"
        case .unimplemented: return "unimplemented"
        case .internal: return "internal"
        case .unavailable: return "unavailable"
        case .dataLoss: return "data_loss"
        case .unauthenticated: return "unauthenticated"
        default: return "unknown"
        }
    }

    /// The HTTP status of a Connect unary error (the protocol's table).
    static func connectHTTPStatus(_ code: StatusCode) -> Int {
        switch code {
        case .cancelled: return 499
        case .invalidArgument, .failedPrecondition, .outOfRange: return 400
        case .deadlineExceeded: return 504
        case .notFound: return 404
        case .alreadyExists, .aborted: return 409
        case .permissionDenied: return 403
        case .resourceExhausted: return 429
        case .unimplemented: return 501
        case .unavailable: return 503
        case .unauthenticated: return 401
        default: return 500
        }
    }
}

/// Converts messages between JSON (proto3's JSON mapping) and protobuf bytes by method; the
/// gateway supplies one from its descriptor pool. Errors should be ``RPCError``s
/// (INVALID_ARGUMENT naming the field for a request that does not fit).
public protocol JSONTranscoder: Sendable {
    /// The protobuf bytes of `path`'s request message written as JSON.
    func request(path: String, json: [UInt8]) throws -> [UInt8]
    /// `path`'s response message as compact JSON.
    func response(path: String, proto: [UInt8]) throws -> [UInt8]
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
