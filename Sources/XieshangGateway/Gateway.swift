import XieshangAPI
import XieshangKit
import XieshangRPC

/// Everything the gateway process serves: the services' RPCs forwarded, its own
/// `xieshang.gateway.v1`, server reflection (v1 and v1alpha) and health.
public struct Gateway: Sendable {
    public let routes: Routes
    public let gate: Gate
    public let health: HealthService

    public init(routes: Routes, signer: PrincipalSigner, publicPerMinute: Int = 60, sessionSeconds: Double = 12 * 3600) {
        self.routes = routes
        let auth = Authenticator(directory: routes.directory, signer: signer, sessionSeconds: sessionSeconds)
        gate = Gate(authenticator: auth, limiter: RateLimiter(perMinute: publicPerMinute), signer: signer)
        health = HealthService(serving: ["xieshang.gateway.v1.GatewayService"])
    }

    /// The services to host on the gateway's server.
    public var services: [RPCService] {
        let forwarder = Forwarder(routes: routes.byService, gate: gate)
        let own = GatewayService(gate: gate, routes: routes)
        let names = Array(routes.byService.keys) + [
            Xieshang_Gateway_V1_GatewayService.name, "grpc.health.v1.Health",
            Grpc_Reflection_V1_ServerReflection.name, Grpc_Reflection_V1alpha_ServerReflection.name,
        ]
        let index = ReflectionIndex(services: names)
        return [forwarder, own, health, ReflectionServiceV1(index: index), ReflectionServiceV1Alpha(index: index)]
    }
}
