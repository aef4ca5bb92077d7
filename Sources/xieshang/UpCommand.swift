#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import XieshangDirectory
import XieshangKit
import XieshangRPC

/// `xieshang up`: the whole system in one process on its embedded default.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run every service and the gateway in one process (SQLite under --data-dir), with demo data on first start.",
        discussion: """
            The services listen on loopback ports of their own and talk real HTTP/2 to each other, as in a deployment; \
            only the gateway is for callers. The first start creates the demo prefecture (黔南州 and eight counties) and \
            an API token per role, kept in <data-dir>/demo-tokens.tsv and printed on every start; later starts keep the \
            data. Ctrl-C (or SIGTERM) stops the gateway first, lets calls in flight finish, then the services.
            """)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        var options = self.options
        // One process: a fresh secret per run unless one is configured (nothing outside shares it).
        if options.principalSecret == nil && ProcessInfo.processInfo.environment["XIESHANG_PRINCIPAL_SECRET"] == nil {
            options.principalSecret = Secrets.newTokenSecret()
        }
        let signer = try options.installSigner()
        let dataDirectory = options.dataDirectory ?? ProcessInfo.processInfo.environment["XIESHANG_DATA_DIR"] ?? "./data"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let gatewayPort = try options.resolvedPort(default: 50060)
        var inner = options
        inner.host = "127.0.0.1"
        inner.port = nil
        inner.withoutTLS()  // the services talk over loopback; TLS is for the gateway's callers

        var tokens: [(role: String, username: String, token: String)] = []
        var running: [(String, RunningService)] = []
        do {
            let directory = try await RunningService.directory(options: inner, port: 0, seedDemo: true) { demo in
                tokens = try await Self.demoTokens(demo, file: dataDirectory + "/demo-tokens.tsv")
            }
            running.append(("directory", directory))
            inner.setAddress(of: .directory, "127.0.0.1:\(directory.port)")
            // In the order each needs the ones before it: analytics and notify read the others' feeds.
            let starters: [(PeerService, (ServiceOptions) async throws -> RunningService)] = [
                (.intake, { try await RunningService.intake(options: $0, port: 0) }),
                (.proposals, { try await RunningService.proposals(options: $0, port: 0) }),
                (.consultation, { try await RunningService.consultation(options: $0, port: 0) }),
                (.analytics, { try await RunningService.analytics(options: $0, port: 0) }),
                (.notify, { try await RunningService.notify(options: $0, port: 0) }),
            ]
            for (peer, start) in starters {
                let service = try await start(inner)
                running.append((peer.rawValue, service))
                inner.setAddress(of: peer, "127.0.0.1:\(service.port)")
            }
            var outer = inner
            outer.host = options.host
            outer.tlsCert = options.tlsCert
            outer.tlsKey = options.tlsKey
            let gateway = try await RunningService.gateway(options: outer, port: gatewayPort, signer: signer)
            running.append(("gateway", gateway))
        } catch {
            for (_, r) in running.reversed() { await r.stop() }
            throw error
        }

        for (name, r) in running where name != "gateway" { print("  \(name) on 127.0.0.1:\(r.port)") }
        let gatewayAddress = "\(options.resolvedHost()):\(running.last!.1.port)"
        print("gateway listening on \(gatewayAddress)")
        print("demo tokens (send as 'authorization: Bearer <token>'; demo password for every account: xieshang-demo):")
        for t in tokens { print("  \(t.role.padding(toLength: 17, withPad: " ", startingAt: 0)) \(t.username.padding(toLength: 20, withPad: " ", startingAt: 0)) \(t.token)") }
        print("try: xieshang call xieshang.gateway.v1.GatewayService/WhoAmI --address \(gatewayAddress) --token \(tokens.first?.token ?? "<token>")")
        fflush(stdout)
        try await SignalWaiter.waitForTermination()
        print("stopping…")
        fflush(stdout)
        for (_, r) in running.reversed() { await r.stop() }
    }

    /// The demo tokens: read from `file` when an earlier start wrote it, else issued and written
    /// (readable by the owner only).
    static func demoTokens(_ demo: DemoDirectory, file: String) async throws -> [(role: String, username: String, token: String)] {
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            let rows = text.split(separator: "\n").compactMap { line -> (String, String, String)? in
                let f = line.split(separator: "\t").map(String.init)
                return f.count == 3 ? (f[0], f[1], f[2]) : nil
            }
            if !rows.isEmpty { return rows.map { (role: $0.0, username: $0.1, token: $0.2) } }
        }
        let issued = try await demo.issueDemoTokens()
        let text = issued.map { "\($0.role)\t\($0.username)\t\($0.token)" }.joined(separator: "\n") + "\n"
        FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        return issued
    }
}
