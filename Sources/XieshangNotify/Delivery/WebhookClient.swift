import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import XieshangKit

/// Where a webhook posts: parsed from its URL, and allowed only to loopback or to the hosts the
/// operator named (`XIESHANG_WEBHOOK_HOSTS`: names, or `*.example.cn` for a domain's hosts), so an
/// admin's URL cannot make notify call into the deployment's private network.
public struct WebhookTarget: Equatable, Sendable {
    public var secure: Bool
    public var host: String
    public var port: Int
    /// Path and query, e.g. `/hooks/xieshang?k=1`.
    public var path: String

    /// The target of `url`, or INVALID_ARGUMENT (field `url`) saying what is wrong with it.
    public init(url: String, allowedHosts: [String]) throws {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw DomainError.invalid(field: "url", message: "must be an http:// or https:// URL")
        }
        guard let host = c.host?.lowercased(), !host.isEmpty else { throw DomainError.invalid(field: "url", message: "names no host") }
        guard c.user == nil && c.password == nil else { throw DomainError.invalid(field: "url", message: "must not carry a user or password") }
        guard Self.isLoopback(host) || allowedHosts.contains(where: { Self.matches(host, $0) }) else {
            throw DomainError.invalid(field: "url", message: "host \(host) is neither loopback nor allowed by the operator (XIESHANG_WEBHOOK_HOSTS)")
        }
        secure = scheme == "https"
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        port = c.port ?? (secure ? 443 : 80)
        let p = c.percentEncodedPath.isEmpty ? "/" : c.percentEncodedPath
        path = c.percentEncodedQuery.map { "\(p)?\($0)" } ?? p
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    static func matches(_ host: String, _ pattern: String) -> Bool {
        let p = pattern.lowercased()
        if p.hasPrefix("*.") { return host.hasSuffix(String(p.dropFirst())) }
        return host == p
    }
}

/// One HTTP/1.1 POST per delivery over its own connection (TLS for https, the system's roots
/// or `XIESHANG_WEBHOOK_CA`), with a deadline on the whole exchange.
public final class WebhookClient: Sendable {
    let group: MultiThreadedEventLoopGroup
    let tls: NIOSSLContext?

    public init(threads: Int = 1, trustRootsFile: String? = nil) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        if let file = trustRootsFile { config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file)) }
        tls = try? NIOSSLContext(configuration: config)
    }

    public func shutdown() async {
        try? await group.shutdownGracefully()
    }

    /// Posts `body` to `target` with `headers`; returns the answer's status code.
    public func post(_ target: WebhookTarget, headers: [(String, String)], body: [UInt8], timeout: TimeAmount = .seconds(10)) async throws -> Int {
        let loop = group.next()
        let answer = Answer(loop.makePromise(of: Int.self))
        let tls = target.secure ? self.tls : nil
        if target.secure && tls == nil { throw DomainError.notAllowed("TLS is not available for https webhooks") }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                do {
                    if let tls {
                        let name = target.host.contains(":") || target.host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : target.host
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(StatusReader(answer: answer))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let deadline = loop.scheduleTask(in: timeout) { answer.fail(DomainError.notAllowed("no answer within \(timeout.nanoseconds / 1_000_000_000) s")) }
        defer { deadline.cancel() }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: target.host, port: target.port).get()
        } catch {
            loop.execute { answer.fail(error) }
            throw error
        }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.path)
        head.headers.add(name: "Host", value: target.port == (target.secure ? 443 : 80) ? target.host : "\(target.host):\(target.port)")
        head.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        head.headers.add(name: "Content-Length", value: "\(body.count)")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "User-Agent", value: "xieshang-notify")
        for (n, v) in headers { head.headers.add(name: n, value: v) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer { channel.close(promise: nil) }
        return try await answer.promise.futureResult.get()
    }
}

/// The promise of an exchange's status, completed once: by the answer, the connection closing,
/// an error or the deadline, whichever comes first (all on the connection's loop).
private final class Answer: @unchecked Sendable {
    let promise: EventLoopPromise<Int>
    private var done = false

    init(_ promise: EventLoopPromise<Int>) {
        self.promise = promise
    }

    func succeed(_ status: Int) {
        guard !done else { return }
        done = true
        promise.succeed(status)
    }

    func fail(_ error: Error) {
        guard !done else { return }
        done = true
        promise.fail(error)
    }
}

/// Reads the status of the answer and completes once the answer has ended (or the connection did).
private final class StatusReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let answer: Answer
    var status: Int?

    init(answer: Answer) {
        self.answer = answer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): status = Int(h.status.code)
        case .body: break
        case .end:
            answer.succeed(status ?? 0)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let status { answer.succeed(status) } else { answer.fail(DomainError.notAllowed("the receiver closed the connection without an answer")) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        answer.fail(error)
        context.close(promise: nil)
    }
}
