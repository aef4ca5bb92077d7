import NIOConcurrencyHelpers
import XieshangRPC

/// `grpc.health.v1.Health` for one process: a status per service name ("" is the whole server).
public final class HealthService: Grpc_Health_V1_HealthProvider {
    public typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: Status] = [:]
        var watchers: [Int: (service: String, continuation: AsyncStream<Status>.Continuation)] = [:]
        var nextID = 0
    }
    private let state = NIOLockedValueBox(State())

    /// A health service reporting `services` (and "") as serving.
    public init(serving services: [String] = []) {
        state.withLockedValue { s in
            s.statuses[""] = .serving
            for name in services { s.statuses[name] = .serving }
        }
    }

    /// Changes a service's status and tells every watcher of it.
    public func setStatus(_ status: Status, for service: String = "") {
        let targets = state.withLockedValue { s -> [AsyncStream<Status>.Continuation] in
            s.statuses[service] = status
            return s.watchers.values.filter { $0.service == service }.map(\.continuation)
        }
        for c in targets { c.yield(status) }
    }

    /// Marks every service not serving (graceful shutdown starts).
    public func markAllNotServing() {
        let names = state.withLockedValue { Array($0.statuses.keys) }
        for n in names { setStatus(.notServing, for: n) }
    }

    public func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard let status = state.withLockedValue({ $0.statuses[request.service] }) else {
            throw RPCError(.notFound, "unknown service \(request.service)")
        }
        var r = Grpc_Health_V1_HealthCheckResponse()
        r.status = status
        return r
    }

    public func watch(
        request: Grpc_Health_V1_HealthCheckRequest, responses: ResponseWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Status.self)
        let id = state.withLockedValue { s -> Int in
            let id = s.nextID
            s.nextID += 1
            s.watchers[id] = (request.service, continuation)
            continuation.yield(s.statuses[request.service] ?? .serviceUnknown)
            return id
        }
        defer { _ = state.withLockedValue { $0.watchers.removeValue(forKey: id) } }
        var last: Status?
        try await withTaskCancellationHandler {
            for await status in stream where status != last {
                last = status
                var r = Grpc_Health_V1_HealthCheckResponse()
                r.status = status
                try await responses.send(r)
            }
        } onCancel: {
            continuation.finish()
        }
    }
}
