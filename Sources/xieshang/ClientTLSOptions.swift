import ArgumentParser
import Foundation
import XieshangRPC

/// `--tls`, `--tls-ca` and `--tls-server-name` for the commands that call a process (`call`,
/// `health`): the channel settings they make.
struct ClientTLSOptions: ParsableArguments {
    @Flag(help: "Call over TLS (ALPN h2), checking the server's certificate against --tls-ca or the system's roots.")
    var tls = false

    @Option(name: .customLong("tls-ca"), help: "PEM bundle to trust for --tls (env XIESHANG_TLS_CA); implies --tls.")
    var tlsCA: String?

    @Option(name: .customLong("tls-server-name"), help: "Name the server's certificate must carry, when it is not the address's host.")
    var tlsServerName: String?

    /// Plaintext, or TLS as asked.
    func channelConfiguration() throws -> ChannelConfiguration {
        var config = ChannelConfiguration()
        let ca = tlsCA ?? ProcessInfo.processInfo.environment["XIESHANG_TLS_CA"]
        if tls || ca != nil {
            if let ca, !FileManager.default.isReadableFile(atPath: ca) { throw ValidationError("TLS CA file \(ca) cannot be read") }
            config.tls = ClientTLS(trustRootsFile: ca, serverHostname: tlsServerName)
        }
        return config
    }
}
