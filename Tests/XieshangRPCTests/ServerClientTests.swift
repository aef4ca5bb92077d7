import XCTest
import XieshangAPI
import XieshangInterop
@testable import XieshangRPC
import XieshangTestSupport

/// Real servers and clients over loopback HTTP/2.
final class ServerClientTests: XCTestCase {
    typealias TS = Grpc_Testing_TestService

    func startServer(_ services: [RPCService] = [InteropTestService(), HealthService()], configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> (RPCServer, Int) {
        var c = ServerConfiguration()
        c.threads = 1
        configure(&c)
        let s = RPCServer(configuration: c, services: services)
        let port = try await s.start()
        return (s, port)
    }

    func testEveryInteropCaseInProcess() async throws {
        let (server, port) = try await startServer()
        let channel = RPCChannel(host: "127.0.0.1", port: port)
        let client = InteropClient(channel: channel)
        for name in InteropClient.caseNames {
            do { try await client.run(name) } catch { XCTFail("\(name): \(error)") }
        }
        await channel.close()
        await server.shutdown()
    }

    func testTwoThousandConcurrentCallsOnOneConnection() async throws {
        let (server, port) = try await startServer()
        let channel = RPCChannel(host: "127.0.0.1", port: port)
        let client = Grpc_Testing_TestServiceClient(channel: channel)
        let sizes = try await withThrowingTaskGroup(of: (Int, Int).self) { g in
            for i in 0..<2000 {
                g.addTask {
                    var r = Grpc_Testing_SimpleRequest()
                    r.responseSize = Int32(i)
                    r.payload = InteropTestService.payload(Int32(i % 97))
                    let resp = try await client.unaryCall(r)
                    return (i, resp.payload?.body.count ?? -1)
                }
            }
            var out: [(Int, Int)] = []
            for try await x in g { out.append(x) }
            return out
        }
        XCTAssertEqual(sizes.count, 2000)
        for (i, n) in sizes { XCTAssertEqual(n, i) }
        XCTAssertEqual(server.connectionCount, 1)
        await channel.close()
        await server.shutdown()
    }

    func testDeadlineIsPassedOnToFurtherCalls() async throws {
        let (backend, backendPort) = try await startServer([DeadlineRecorder()])
        let backendChannel = RPCChannel(host: "127.0.0.1", port: backendPort)
        let (front, frontPort) = try await startServer([Relay(next: backendChannel)])
        let channel = RPCChannel(host: "127.0.0.1", port: frontPort)
        let client = Grpc_Testing_TestServiceClient(channel: channel)
        let r = try await client.unaryCall(Grpc_Testing_SimpleRequest(), options: CallOptions(timeout: 2))
        // The backend saw a deadline at most the caller's 2 s, less what the hops used.
        let seenMillis = Int(r.username) ?? -1
        XCTAssertGreaterThan(seenMillis, 1000)
        XCTAssertLessThanOrEqual(seenMillis, 2000)
        // And a call whose budget runs out in the backend fails with DEADLINE_EXCEEDED.
        var slow = Grpc_Testing_SimpleRequest()
        slow.responseSize = 1
        await assertStatus(.deadlineExceeded, "slow backend call") { _ = try await client.unaryCall(slow, options: CallOptions(timeout: 0.2)) }
        for c in [channel, backendChannel] { await c.close() }
        await front.shutdown()
        await backend.shutdown()
    }

    func testGracefulShutdownFinishesInFlightCallsAndRefusesNewOnes() async throws {
        let (server, port) = try await startServer()
        let channel = RPCChannel(host: "127.0.0.1", port: port)
        let client = Grpc_Testing_TestServiceClient(channel: channel)
        var req = Grpc_Testing_StreamingOutputCallRequest()
        req.responseParameters = (0..<5).map { _ in
            var p = Grpc_Testing_ResponseParameters()
            p.size = 10
            p.intervalUs = 100_000
            return p
        }
        let call = client.streamingOutputCall(req)
        var it = call.responses.makeAsyncIterator()
        _ = try await it.next()
        let shutdown = Task { await server.shutdown() }
        var received = 1
        while try await it.next() != nil { received += 1 }
        XCTAssertEqual(received, 5)
        await shutdown.value
        await assertStatus(.unavailable, "call after shutdown") { _ = try await client.emptyCall(Grpc_Testing_Empty(), options: CallOptions(timeout: 2)) }
        await channel.close()
    }

    func testUnavailableWhileDownThenRecovers() async throws {
        // Find a free port, then leave it closed.
        let (probe, port) = try await startServer()
        await probe.shutdown()
        var cfg = ChannelConfiguration()
        cfg.initialBackoff = 0.05
        cfg.maxBackoff = 0.1
        let channel = RPCChannel(host: "127.0.0.1", port: port, configuration: cfg)
        let client = Grpc_Testing_TestServiceClient(channel: channel)
        await assertStatus(.unavailable, "call to a closed port") { _ = try await client.emptyCall(Grpc_Testing_Empty(), options: CallOptions(timeout: 2)) }
        let (server, _) = try await startServer { $0.port = port }
        var ok = false
        for _ in 0..<50 where !ok {
            if (try? await client.emptyCall(Grpc_Testing_Empty(), options: CallOptions(timeout: 1))) != nil { ok = true }
            else { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        XCTAssertTrue(ok, "the channel did not reconnect")
        await channel.close()
        await server.shutdown()
    }

    func testMessageSizeLimitsBothWays() async throws {
        let (server, port) = try await startServer()
        let channel = RPCChannel(host: "127.0.0.1", port: port)
        let client = Grpc_Testing_TestServiceClient(channel: channel)
        var big = Grpc_Testing_SimpleRequest()
        big.payload = InteropTestService.payload(5 << 20)
        await assertStatus(.resourceExhausted, "oversized request") { _ = try await client.unaryCall(big) }
        var bigAnswer = Grpc_Testing_SimpleRequest()
        bigAnswer.responseSize = 5 << 20
        await assertStatus(.resourceExhausted, "oversized response") { _ = try await client.unaryCall(bigAnswer) }
        // The connection is still good afterwards.
        _ = try await client.emptyCall(Grpc_Testing_Empty())
        await channel.close()
        await server.shutdown()
    }

    func testMultiMegabyteMessagesBothWays() async throws {
        let (server, port) = try await startServer { $0.maxReceiveMessageSize = 32 << 20 }
        var cfg = ChannelConfiguration()
        cfg.maxReceiveMessageSize = 32 << 20
        let channel = RPCChannel(host: "127.0.0.1", port: port, configuration: cfg)
        let client = Grpc_Testing_TestServiceClient(channel: channel)
        var req = Grpc_Testing_SimpleRequest()
        req.payload = InteropTestService.payload(12 << 20)
        req.responseSize = 20 << 20
        let r = try await client.unaryCall(req)
        XCTAssertEqual(r.payload?.body.count, 20 << 20)
        await channel.close()
        await server.shutdown()
    }

    func testAHandlerThatDoesNotReadHoldsItsClientBack() async throws {
        let gate = Gate()
        let (server, port) = try await startServer([StalledReader(gate: gate)])
        let channel = RPCChannel(host: "127.0.0.1", port: port)
        let call = Grpc_Testing_TestServiceClient(channel: channel).streamingInputCall()
        let sent = Counter()
        let sender = Task {
            var r = Grpc_Testing_StreamingInputCallRequest()
            r.payload = InteropTestService.payload(1 << 20)
            for _ in 0..<48 {
                try await call.send(r)
                await sent.increment()
            }
        }
        try await Task.sleep(nanoseconds: 700_000_000)
        let whileStalled = await sent.value
        // Flow control: the server's 1 MiB stream window plus the client's 1 MiB queue, not 48 MiB.
        XCTAssertLessThan(whileStalled, 8, "the client was not held back by the stalled handler")
        await gate.open()
        try await sender.value
        let r = try await call.response()
        XCTAssertEqual(r.aggregatedPayloadSize, 48 << 20)
        await channel.close()
        await server.shutdown()
    }

    func testHealthCheckAndWatch() async throws {
        let health = HealthService(serving: ["xieshang.demo"])
        let (server, port) = try await startServer([health])
        let channel = RPCChannel(host: "127.0.0.1", port: port)
        let client = Grpc_Health_V1_HealthClient(channel: channel)
        var req = Grpc_Health_V1_HealthCheckRequest()
        let first = try await client.check(req)
        XCTAssertEqual(first.status, .serving)
        req.service = "nope"
        await assertStatus(.notFound, "health of an unknown service") { _ = try await client.check(req) }
        req.service = "xieshang.demo"
        let watch = client.watch(req)
        var it = watch.responses.makeAsyncIterator()
        let w1 = try await it.next()
        XCTAssertEqual(w1?.status, .serving)
        health.setStatus(.notServing, for: "xieshang.demo")
        let w2 = try await it.next()
        XCTAssertEqual(w2?.status, .notServing)
        watch.cancel()
        await channel.close()
        await server.shutdown()
    }
}

/// A TestService whose methods other than UnaryCall do nothing (test doubles override UnaryCall).
protocol UnaryTestDouble: Grpc_Testing_TestServiceProvider {}

extension UnaryTestDouble {
    func emptyCall(request: Grpc_Testing_Empty, context: ServerContext) async throws -> Grpc_Testing_Empty { .init() }
    func cacheableUnaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws -> Grpc_Testing_SimpleResponse { .init() }
    func streamingOutputCall(request: Grpc_Testing_StreamingOutputCallRequest, responses: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext) async throws {}
    func streamingInputCall(requests: RequestStream<Grpc_Testing_StreamingInputCallRequest>, context: ServerContext) async throws -> Grpc_Testing_StreamingInputCallResponse { .init() }
    func fullDuplexCall(requests: RequestStream<Grpc_Testing_StreamingOutputCallRequest>, responses: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext) async throws {}
    func halfDuplexCall(requests: RequestStream<Grpc_Testing_StreamingOutputCallRequest>, responses: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext) async throws {}
    func unimplementedCall(request: Grpc_Testing_Empty, context: ServerContext) async throws -> Grpc_Testing_Empty { .init() }
}

/// An async flag a test opens once.
actor Gate {
    private var isOpen = false
    func open() { isOpen = true }
    func wait() async throws {
        while !isOpen { try await Task.sleep(nanoseconds: 10_000_000) }
    }
}

/// A counter shared between tasks.
actor Counter {
    private(set) var value = 0
    func increment() { value += 1 }
}

/// StreamingInputCall that reads nothing until its gate opens, then sums like the interop server.
struct StalledReader: UnaryTestDouble {
    let gate: Gate
    func unaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws -> Grpc_Testing_SimpleResponse { .init() }
    func streamingInputCall(requests: RequestStream<Grpc_Testing_StreamingInputCallRequest>, context: ServerContext) async throws -> Grpc_Testing_StreamingInputCallResponse {
        try await gate.wait()
        var total: Int32 = 0
        for try await r in requests { total += Int32(r.payload?.body.count ?? 0) }
        var resp = Grpc_Testing_StreamingInputCallResponse()
        resp.aggregatedPayloadSize = total
        return resp
    }
}

/// Records the deadline its unary handler sees (in ms, in `username`); sleeps when asked for a response.
struct DeadlineRecorder: UnaryTestDouble {
    func unaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws -> Grpc_Testing_SimpleResponse {
        if request.responseSize > 0 { try await Task.sleep(nanoseconds: 5_000_000_000) }
        var r = Grpc_Testing_SimpleResponse()
        r.username = context.deadline.map { String($0.remainingNanoseconds / 1_000_000) } ?? "none"
        return r
    }
}

/// Forwards UnaryCall to another server without passing a deadline explicitly.
struct Relay: UnaryTestDouble {
    let next: RPCChannel
    func unaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws -> Grpc_Testing_SimpleResponse {
        try await Grpc_Testing_TestServiceClient(channel: next).unaryCall(request)
    }
}
