#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import XieshangAPI
import XieshangRPC

/// `xieshang health`: a probe for container health checks and operators.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a process's grpc.health.v1 service whether it is serving; exit 0 when it is.",
        discussion: "Prints SERVING, NOT_SERVING or the error. Exit status: 0 serving, 1 not serving, 2 unreachable.")

    @Option(help: "host:port of the process.")
    var address: String = "127.0.0.1:50060"

    @Option(help: "The service to ask about; empty: the process as a whole.")
    var service: String = ""

    @Option(help: "Seconds to wait.")
    var timeout: Double = 3

    @OptionGroup var tlsOptions: ClientTLSOptions

    func run() async throws {
        guard let target = BalancedChannel.parseTargets(address)?.first else {
            throw ValidationError("address '\(address)' is not host:port")
        }
        let channel = RPCChannel(host: target.host, port: target.port, configuration: try tlsOptions.channelConfiguration())
        var req = Grpc_Health_V1_HealthCheckRequest()
        req.service = service
        let answer: Result<Grpc_Health_V1_HealthCheckResponse, Error>
        do {
            answer = .success(try await Grpc_Health_V1_HealthClient(channel: channel).check(req, options: CallOptions(timeout: timeout)))
        } catch {
            answer = .failure(error)
        }
        await channel.close()
        switch answer {
        case .success(let r) where r.status == .serving:
            print("SERVING")
        case .success:
            print("NOT_SERVING")
            throw ExitCode(1)
        case .failure(let e):
            print("unreachable: \(RPCError.from(e))")
            throw ExitCode(2)
        }
    }
}
