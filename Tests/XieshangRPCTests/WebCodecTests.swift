import NIOCore
import XCTest
@testable import XieshangRPC

/// The browser dialects' spelling, checked byte for byte against the specs (grpc/grpc
/// doc/PROTOCOL-WEB.md, connectrpc.com/docs/protocol), and who a call comes from behind proxies.
final class WebCodecTests: XCTestCase {
    func testContentTypesNameTheirDialects() {
        XCTAssertEqual(WebDialect(contentType: "application/grpc"), .grpc)
        XCTAssertEqual(WebDialect(contentType: "application/grpc+proto"), .grpc)
        XCTAssertEqual(WebDialect(contentType: "application/grpc-web+proto"), .grpcWeb(text: false))
        XCTAssertEqual(WebDialect(contentType: "application/grpc-web-text"), .grpcWeb(text: true))
        XCTAssertEqual(WebDialect(contentType: "Application/JSON; charset=utf-8"), .connectUnary(json: true))
        XCTAssertEqual(WebDialect(contentType: "application/proto"), .connectUnary(json: false))
        XCTAssertEqual(WebDialect(contentType: "application/connect+json"), .connectStream(json: true))
        XCTAssertNil(WebDialect(contentType: "text/plain"))
        XCTAssertNil(WebDialect(contentType: "application/grpc+json"))
        XCTAssertNil(WebDialect(contentType: ""))
    }

    func testConnectCodesAndHTTPStatuses() {
        let table: [(StatusCode, String, Int)] = [
            (.cancelled, "canceled", 499), (.unknown, "unknown", 500), (.invalidArgument, "invalid_argument", 400),
            (.deadlineExceeded, "deadline_exceeded", 504), (.notFound, "not_found", 404), (.alreadyExists, "already_exists", 409),
            (.permissionDenied, "permission_denied", 403), (.resourceExhausted, "resource_exhausted", 429),
            (.failedPrecondition, "failed_precondition", 400), (.aborted, "aborted", 409), (.outOfRange, "out_of_range", 400),
            (.unimplemented, "unimplemented", 501), (.internal, "internal", 500), (.unavailable, "unavailable", 503),
            (.dataLoss, "data_loss", 500), (.unauthenticated, "unauthenticated", 401),
        ]
        for (code, name, http) in table {
            XCTAssertEqual(WebDialect.connectCode(code), name)
            XCTAssertEqual(WebDialect.connectHTTPStatus(code), http, name)
        }
    }

    func testGRPCWebTrailerFrame() {
        let codec = WebCodec(dialect: .grpcWeb(text: false), path: "/a.B/C", transcoder: nil)
        var trailing = Metadata()
        trailing.add("x-cursor", "42")
        let frame = codec.endOfStream(error: RPCError(.notFound, "委员 9 不存在"), trailing: trailing)
        XCTAssertEqual(frame[0], 0x80)
        let n = Int(frame[1]) << 24 | Int(frame[2]) << 16 | Int(frame[3]) << 8 | Int(frame[4])
        XCTAssertEqual(n, frame.count - 5)
        let text = String(decoding: frame[5...], as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("grpc-status: 5\r\ngrpc-message: %E5%A7%94"), text)
        XCTAssertTrue(text.hasSuffix("x-cursor: 42\r\n"), text)
        // Text: the same bytes, base64 with padding so chunks can be joined.
        let textCodec = WebCodec(dialect: .grpcWeb(text: true), path: "/a.B/C", transcoder: nil)
        let encoded = textCodec.endOfStream(error: nil, trailing: Metadata())
        XCTAssertEqual(encoded.count % 4, 0)
        XCTAssertEqual(Base64.decode(encoded), codec.endOfStream(error: nil, trailing: Metadata()))
    }

    func testGRPCWebTextRequestsDecodeAcrossReadsAndPaddedChunks() throws {
        var codec = WebCodec(dialect: .grpcWeb(text: true), path: "/a.B/C", transcoder: nil)
        let message: [UInt8] = [0, 0, 0, 0, 4, 1, 2, 3, 4]
        // Two padded chunks, delivered in reads that split base64 groups.
        let body = Base64.encode(Array(message[0..<4]), padded: true) + Base64.encode(Array(message[4...]), padded: true)
        var out: [UInt8] = []
        for cut in stride(from: 0, to: body.count, by: 3) {
            let piece = Array(body[cut..<min(cut + 3, body.count)])
            out += try piece.withUnsafeBytes { try codec.requestBytes($0) }
        }
        XCTAssertEqual(out, message)
        XCTAssertFalse(codec.textLeftOver)
        var bad = WebCodec(dialect: .grpcWeb(text: true), path: "/a.B/C", transcoder: nil)
        XCTAssertThrowsError(try Array("!!!!".utf8).withUnsafeBytes { try bad.requestBytes($0) })
    }

    func testConnectUnaryResponses() {
        let codec = WebCodec(dialect: .connectUnary(json: false), path: "/a.B/C", transcoder: nil)
        var initial = Metadata()
        initial.add("x-request", "1")
        var trailing = Metadata()
        trailing.add("x-cursor", "7")
        let ok = codec.unaryResponse(message: [0, 0, 0, 0, 2, 8, 1], error: nil, initial: initial, trailing: trailing)
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.contentType, "application/proto")
        XCTAssertEqual(ok.body, [8, 1], "the bare message, without gRPC's prefix")
        XCTAssertEqual(ok.headers.map(\.0), ["x-request", "trailer-x-cursor"])
        let failed = codec.unaryResponse(message: nil, error: RPCError(.invalidArgument, "text: \"required\"\n"), initial: initial, trailing: trailing)
        XCTAssertEqual(failed.status, 400)
        XCTAssertEqual(failed.contentType, "application/json")
        XCTAssertEqual(String(decoding: failed.body, as: UTF8.self), #"{"code":"invalid_argument","message":"text: \"required\"\n"}"#)
    }

    func testConnectEndOfStream() {
        let codec = WebCodec(dialect: .connectStream(json: true), path: "/a.B/C", transcoder: nil)
        XCTAssertEqual(codec.endOfStream(error: nil, trailing: Metadata()), [2, 0, 0, 0, 2] + Array("{}".utf8))
        var trailing = Metadata()
        trailing.add("x-cursor", "7")
        trailing.add("x-cursor", "8")
        let end = codec.endOfStream(error: RPCError(.unavailable, "down"), trailing: trailing)
        XCTAssertEqual(end[0], 2)
        XCTAssertEqual(String(decoding: end[5...], as: UTF8.self),
                       #"{"error":{"code":"unavailable","message":"down"},"metadata":{"x-cursor":["7","8"]}}"#)
    }

    func testTrustedProxiesDecideTheClientAddress() throws {
        let proxy = try SocketAddress(ipAddress: "10.1.2.3", port: 443)
        let trusted = try IPRange.parseList("10.0.0.0/8, ::1/128")
        XCTAssertEqual(ClientAddress.peer(proxy), "ipv4:10.1.2.3:443")
        XCTAssertEqual(ClientAddress.peer(try SocketAddress(ipAddress: "::1", port: 9)), "ipv6:[::1]:9")
        // Without trusted proxies, or from a peer that is not one, the header is ignored.
        XCTAssertEqual(ClientAddress.resolve(socket: proxy, forwardedFor: ["203.0.113.5"], trusted: []), "10.1.2.3")
        let stranger = try SocketAddress(ipAddress: "198.51.100.1", port: 1)
        XCTAssertEqual(ClientAddress.resolve(socket: stranger, forwardedFor: ["203.0.113.5"], trusted: trusted), "198.51.100.1")
        // From a trusted proxy: the nearest untrusted hop, whatever the client wrote before it.
        XCTAssertEqual(ClientAddress.resolve(socket: proxy, forwardedFor: ["203.0.113.5"], trusted: trusted), "203.0.113.5")
        XCTAssertEqual(ClientAddress.resolve(socket: proxy, forwardedFor: ["1.1.1.1, 203.0.113.5", "10.9.9.9"], trusted: trusted), "203.0.113.5")
        XCTAssertEqual(ClientAddress.resolve(socket: proxy, forwardedFor: ["garbage"], trusted: trusted), "10.1.2.3")
        XCTAssertTrue(IPRange("2001:db8::/32")!.contains("2001:db8:1::5"))
        XCTAssertFalse(IPRange("2001:db8::/32")!.contains("2001:db9::5"))
        XCTAssertTrue(IPRange("192.168.0.0/16")!.contains("192.168.200.1"))
        XCTAssertFalse(IPRange("192.168.0.0/16")!.contains("192.169.0.1"))
        XCTAssertFalse(IPRange("192.168.0.0/16")!.contains("::1"))
        XCTAssertNil(IPRange("10.0.0.0/33"))
        XCTAssertNil(IPRange("host.example"))
        XCTAssertThrowsError(try IPRange.parseList("10.0.0.0/8,nope"))
    }
}
