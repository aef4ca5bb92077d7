import XieshangAPI
import XieshangRPC

/// `grpc.testing.TestService` as the gRPC interop test descriptions specify for servers.
public struct InteropTestService: Grpc_Testing_TestServiceProvider {
    public init() {}

    static let echoInitial = "x-grpc-test-echo-initial"
    static let echoTrailing = "x-grpc-test-echo-trailing-bin"

    /// Copies the echo headers of the request into the response's metadata.
    private func echoMetadata(_ context: ServerContext) {
        if let v = context.metadata[Self.echoInitial] {
            var m = Metadata()
            m.add(Self.echoInitial, v)
            context.initialMetadata = m
        }
        if let v = context.metadata.binary(Self.echoTrailing) {
            var m = Metadata()
            m.add(Self.echoTrailing, binary: v)
            context.trailingMetadata = m
        }
    }

    private func check(_ status: Grpc_Testing_EchoStatus?) throws {
        if let s = status, s.code != 0 {
            throw RPCError(StatusCode(rawValue: Int(s.code)), s.message)
        }
    }

    /// A payload of `size` zero bytes.
    public static func payload(_ size: Int32) -> Grpc_Testing_Payload {
        var p = Grpc_Testing_Payload()
        p.body = [UInt8](repeating: 0, count: Int(max(size, 0)))
        return p
    }

    public func emptyCall(request: Grpc_Testing_Empty, context: ServerContext) async throws -> Grpc_Testing_Empty {
        Grpc_Testing_Empty()
    }

    public func unaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws -> Grpc_Testing_SimpleResponse {
        echoMetadata(context)
        try check(request.responseStatus)
        var r = Grpc_Testing_SimpleResponse()
        r.payload = Self.payload(request.responseSize)
        return r
    }

    public func cacheableUnaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws -> Grpc_Testing_SimpleResponse {
        try await unaryCall(request: request, context: context)
    }

    public func streamingOutputCall(
        request: Grpc_Testing_StreamingOutputCallRequest,
        responses: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext
    ) async throws {
        echoMetadata(context)
        try await respond(to: request, responses)
        try check(request.responseStatus)
    }

    private func respond(
        to request: Grpc_Testing_StreamingOutputCallRequest, _ responses: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>
    ) async throws {
        for p in request.responseParameters {
            if p.intervalUs > 0 { try await Task.sleep(nanoseconds: UInt64(p.intervalUs) * 1000) }
            var r = Grpc_Testing_StreamingOutputCallResponse()
            r.payload = Self.payload(p.size)
            try await responses.send(r)
        }
    }

    public func streamingInputCall(
        requests: RequestStream<Grpc_Testing_StreamingInputCallRequest>, context: ServerContext
    ) async throws -> Grpc_Testing_StreamingInputCallResponse {
        var total = 0
        for try await r in requests { total += r.payload?.body.count ?? 0 }
        var resp = Grpc_Testing_StreamingInputCallResponse()
        resp.aggregatedPayloadSize = Int32(total)
        return resp
    }

    public func fullDuplexCall(
        requests: RequestStream<Grpc_Testing_StreamingOutputCallRequest>,
        responses: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext
    ) async throws {
        echoMetadata(context)
        for try await r in requests {
            try check(r.responseStatus)
            try await respond(to: r, responses)
        }
    }

    public func halfDuplexCall(
        requests: RequestStream<Grpc_Testing_StreamingOutputCallRequest>,
        responses: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext
    ) async throws {
        echoMetadata(context)
        var all: [Grpc_Testing_StreamingOutputCallRequest] = []
        for try await r in requests { all.append(r) }
        for r in all {
            try check(r.responseStatus)
            try await respond(to: r, responses)
        }
    }

    public func unimplementedCall(request: Grpc_Testing_Empty, context: ServerContext) async throws -> Grpc_Testing_Empty {
        throw RPCError(.unimplemented, "UnimplementedCall is not implemented")
    }
}
