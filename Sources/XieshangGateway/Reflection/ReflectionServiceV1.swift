import XieshangAPI
import XieshangRPC

/// Server reflection, `grpc.reflection.v1.ServerReflection`: answers each request on the stream
/// in order from the ``ReflectionIndex``.
public struct ReflectionServiceV1: Grpc_Reflection_V1_ServerReflectionProvider {
    public let index: ReflectionIndex

    public init(index: ReflectionIndex) { self.index = index }

    public func serverReflectionInfo(requests: RequestStream<Grpc_Reflection_V1_ServerReflectionRequest>,
                                     responses: ResponseWriter<Grpc_Reflection_V1_ServerReflectionResponse>,
                                     context: ServerContext) async throws {
        for try await request in requests {
            var r = Grpc_Reflection_V1_ServerReflectionResponse()
            r.validHost = request.host
            r.originalRequest = request
            switch index.answer(Self.question(request)) {
            case .files(let files):
                var f = Grpc_Reflection_V1_FileDescriptorResponse()
                f.fileDescriptorProto = files
                r.messageResponse = .fileDescriptorResponse(f)
            case .services(let names):
                var l = Grpc_Reflection_V1_ListServiceResponse()
                l.service = names.map { var s = Grpc_Reflection_V1_ServiceResponse(); s.name = $0; return s }
                r.messageResponse = .listServicesResponse(l)
            case .extensionNumbers(let type, let numbers):
                var e = Grpc_Reflection_V1_ExtensionNumberResponse()
                e.baseTypeName = type
                e.extensionNumber = numbers
                r.messageResponse = .allExtensionNumbersResponse(e)
            case .error(let code, let message):
                var e = Grpc_Reflection_V1_ErrorResponse()
                e.errorCode = Int32(code.rawValue)
                e.errorMessage = message
                r.messageResponse = .errorResponse(e)
            }
            try await responses.send(r)
        }
    }

    static func question(_ r: Grpc_Reflection_V1_ServerReflectionRequest) -> ReflectionIndex.Question {
        switch r.messageRequest {
        case .fileByFilename(let n): return .fileByName(n)
        case .fileContainingSymbol(let s): return .fileContainingSymbol(s)
        case .fileContainingExtension(let e): return .fileContainingExtension(type: e.containingType, number: e.extensionNumber)
        case .allExtensionNumbersOfType(let t): return .extensionNumbers(ofType: t)
        case .listServices: return .listServices
        case nil: return .none
        }
    }
}
