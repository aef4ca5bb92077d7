import XieshangAPI
import XieshangRPC

/// A failed expectation in an interop test case.
public struct InteropFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// The portable gRPC interop test cases, run against any TestService server.
public struct InteropClient: Sendable {
    /// Every case this client runs, by its official name.
    public static let caseNames = [
        "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
        "timeout_on_sleeping_server", "cancel_after_begin", "cancel_after_first_response", "custom_metadata",
        "status_code_and_message", "special_status_message", "unimplemented_method", "unimplemented_service",
    ]

    let channel: RPCChannel
    var client: Grpc_Testing_TestServiceClient { Grpc_Testing_TestServiceClient(channel: channel) }

    /// A client calling through `channel`.
    public init(channel: RPCChannel) { self.channel = channel }

    /// Runs one case by name; throws ``InteropFailure`` or the call's error when it fails.
    public func run(_ name: String) async throws {
        switch name {
        case "empty_unary": try await emptyUnary()
        case "large_unary": try await largeUnary()
        case "client_streaming": try await clientStreaming()
        case "server_streaming": try await serverStreaming()
        case "ping_pong": try await pingPong()
        case "empty_stream": try await emptyStream()
        case "timeout_on_sleeping_server": try await timeoutOnSleepingServer()
        case "cancel_after_begin": try await cancelAfterBegin()
        case "cancel_after_first_response": try await cancelAfterFirstResponse()
        case "custom_metadata": try await customMetadata()
        case "status_code_and_message": try await statusCodeAndMessage()
        case "special_status_message": try await specialStatusMessage()
        case "unimplemented_method": try await unimplementedMethod()
        case "unimplemented_service": try await unimplementedService()
        default: throw InteropFailure("unknown test case \(name)")
        }
    }

    func expect(_ ok: Bool, _ what: @autoclosure () -> String) throws {
        if !ok { throw InteropFailure(what()) }
    }

    func expectStatus(_ code: StatusCode, message: String? = nil, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let e as RPCError {
            try expect(e.code == code, "expected \(code), got \(e)")
            if let message { try expect(e.message == message, "expected message \(message.debugDescription), got \(e.message.debugDescription)") }
            return
        }
        throw InteropFailure("expected \(code), but the call succeeded")
    }

    static func request(size: Int32, payload: Int) -> Grpc_Testing_StreamingOutputCallRequest {
        var r = Grpc_Testing_StreamingOutputCallRequest()
        var p = Grpc_Testing_ResponseParameters()
        p.size = size
        r.responseParameters = [p]
        r.payload = InteropTestService.payload(Int32(payload))
        return r
    }

    func emptyUnary() async throws {
        let r = try await client.emptyCall(Grpc_Testing_Empty())
        try expect(r == Grpc_Testing_Empty(), "response is not empty")
    }

    func largeUnary() async throws {
        var req = Grpc_Testing_SimpleRequest()
        req.responseSize = 314_159
        req.payload = InteropTestService.payload(271_828)
        let r = try await client.unaryCall(req)
        try expect(r.payload?.body.count == 314_159, "payload size \(r.payload?.body.count ?? -1), expected 314159")
        try expect(r.payload?.body.allSatisfy { $0 == 0 } == true, "payload is not all zeros")
    }

    func clientStreaming() async throws {
        let call = client.streamingInputCall()
        for size in [27_182, 8, 1_828, 45_904] {
            var r = Grpc_Testing_StreamingInputCallRequest()
            r.payload = InteropTestService.payload(Int32(size))
            try await call.send(r)
        }
        let resp = try await call.response()
        try expect(resp.aggregatedPayloadSize == 74_922, "aggregated size \(resp.aggregatedPayloadSize), expected 74922")
    }

    func serverStreaming() async throws {
        var req = Grpc_Testing_StreamingOutputCallRequest()
        let sizes: [Int32] = [31_415, 9, 2_653, 58_979]
        req.responseParameters = sizes.map { var p = Grpc_Testing_ResponseParameters(); p.size = $0; return p }
        var got: [Int] = []
        for try await r in client.streamingOutputCall(req).responses { got.append(r.payload?.body.count ?? -1) }
        try expect(got == sizes.map(Int.init), "response sizes \(got), expected \(sizes)")
    }

    func pingPong() async throws {
        let call = client.fullDuplexCall()
        var it = call.responses.makeAsyncIterator()
        for (req, resp) in zip([27_182, 8, 1_828, 45_904], [31_415, 9, 2_653, 58_979]) {
            try await call.send(Self.request(size: Int32(resp), payload: req))
            let r = try await it.next()
            try expect(r?.payload?.body.count == resp, "response size \(r?.payload?.body.count ?? -1), expected \(resp)")
        }
        try await call.closeSend()
        let end = try await it.next()
        try expect(end == nil, "expected the stream to end")
    }

    func emptyStream() async throws {
        let call = client.fullDuplexCall()
        try await call.closeSend()
        var n = 0
        for try await _ in call.responses { n += 1 }
        try expect(n == 0, "expected no responses, got \(n)")
    }

    func timeoutOnSleepingServer() async throws {
        let call = client.fullDuplexCall(options: CallOptions(timeout: 0.001))
        try await expectStatus(.deadlineExceeded) {
            try? await call.send(Self.request(size: 31_415, payload: 27_182))
            for try await _ in call.responses {}
        }
    }

    func cancelAfterBegin() async throws {
        let call = client.streamingInputCall()
        call.cancel()
        try await expectStatus(.cancelled) { for try await _ in call.responses {} }
    }

    func cancelAfterFirstResponse() async throws {
        let call = client.fullDuplexCall()
        var it = call.responses.makeAsyncIterator()
        try await call.send(Self.request(size: 31_415, payload: 27_182))
        let first = try await it.next()
        try expect(first?.payload?.body.count == 31_415, "first response size \(first?.payload?.body.count ?? -1)")
        call.cancel()
        try await expectStatus(.cancelled) { while try await it.next() != nil {} }
    }

    func customMetadata() async throws {
        let initialValue = "test_initial_metadata_value"
        let trailingValue: [UInt8] = [0xAB, 0xAB, 0xAB]
        var md = Metadata()
        md.add(InteropTestService.echoInitial, initialValue)
        md.add(InteropTestService.echoTrailing, binary: trailingValue)

        var req = Grpc_Testing_SimpleRequest()
        req.responseSize = 314_159
        req.payload = InteropTestService.payload(271_828)
        let r = try await channel.unary(Grpc_Testing_TestService.Method.unaryCall, req, options: CallOptions(metadata: md))
        try expect(r.initialMetadata[InteropTestService.echoInitial] == initialValue, "unary: initial metadata not echoed: \(r.initialMetadata)")
        try expect(r.trailingMetadata.binary(InteropTestService.echoTrailing) == trailingValue, "unary: trailing metadata not echoed: \(r.trailingMetadata)")

        let call = client.fullDuplexCall(options: CallOptions(metadata: md))
        try await call.send(Self.request(size: 314_159, payload: 271_828))
        try await call.closeSend()
        var n = 0
        for try await _ in call.responses { n += 1 }
        try expect(n == 1, "full duplex: \(n) responses, expected 1")
        let initial = try await call.initialMetadata
        try expect(initial[InteropTestService.echoInitial] == initialValue, "full duplex: initial metadata not echoed: \(initial)")
        let trailing = await call.trailingMetadata
        try expect(trailing.binary(InteropTestService.echoTrailing) == trailingValue, "full duplex: trailing metadata not echoed: \(trailing)")
    }

    func statusCase(code: Int32, message: String) async throws {
        var s = Grpc_Testing_EchoStatus()
        s.code = code
        s.message = message
        var req = Grpc_Testing_SimpleRequest()
        req.responseStatus = s
        try await expectStatus(StatusCode(rawValue: Int(code)), message: message) { _ = try await client.unaryCall(req) }

        var sreq = Grpc_Testing_StreamingOutputCallRequest()
        sreq.responseStatus = s
        let call = client.fullDuplexCall()
        try await call.send(sreq)
        try await call.closeSend()
        try await expectStatus(StatusCode(rawValue: Int(code)), message: message) { for try await _ in call.responses {} }
    }

    func statusCodeAndMessage() async throws {
        try await statusCase(code: 2, message: "test status message")
    }

    func specialStatusMessage() async throws {
        try await statusCase(code: 2, message: "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n")
    }

    func unimplementedMethod() async throws {
        try await expectStatus(.unimplemented) { _ = try await client.unimplementedCall(Grpc_Testing_Empty()) }
    }

    func unimplementedService() async throws {
        let other = Grpc_Testing_UnimplementedServiceClient(channel: channel)
        try await expectStatus(.unimplemented) { _ = try await other.unimplementedCall(Grpc_Testing_Empty()) }
    }
}
