import ArgumentParser
import XieshangInterop
import XieshangRPC

/// `xieshang interop-client`: runs the portable interop cases against any TestService server.
struct InteropClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interop-client",
        abstract: "Run gRPC interop test cases against a grpc.testing.TestService server.",
        discussion: "Cases: \(InteropClient.caseNames.joined(separator: ", ")), or all.")

    @Option(name: [.customLong("host"), .customLong("server_host")], help: "Server host.")
    var host: String = "127.0.0.1"

    @Option(name: [.customLong("port"), .customLong("server_port")], help: "Server port.")
    var port: Int = 50051

    @Option(name: .customLong("test_case"), help: "The case to run, or all.")
    var testCase: String = "all"

    func run() async throws {
        let cases = testCase == "all" ? InteropClient.caseNames : [testCase]
        guard cases.allSatisfy(InteropClient.caseNames.contains) else {
            throw ValidationError("unknown test case \(testCase); known: \(InteropClient.caseNames.joined(separator: ", "))")
        }
        let channel = RPCChannel(host: host, port: port)
        let client = InteropClient(channel: channel)
        var failed = 0
        for name in cases {
            do {
                try await client.run(name)
                print("PASS \(name)")
            } catch {
                failed += 1
                print("FAIL \(name): \(error)")
            }
        }
        await channel.close()
        if failed > 0 { throw ExitCode(1) }
    }
}
