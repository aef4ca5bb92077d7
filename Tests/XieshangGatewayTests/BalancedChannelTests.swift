import XCTest
import XieshangAPI
import XieshangRPC

/// Two replicas behind one balanced channel: calls spread, a dead one is skipped, all dead is
/// UNAVAILABLE within the deadline, and a replica that comes back is used again.
final class BalancedChannelTests: XCTestCase {
    /// A replica whose health service knows only its own `name`: asking for "a" is SERVING from
    /// replica a and NOT_FOUND from replica b, which tells the replicas apart.
    func replica(_ name: String, port: Int = 0) async throws -> (RPCServer, Int) {
        var config = ServerConfiguration()
        config.port = port
        let server = RPCServer(configuration: config, services: [HealthService(serving: [name])])
        return (server, try await server.start())
    }

    func ask(_ client: Grpc_Health_V1_HealthClient, timeout: Double = 2) async -> String {
        var req = Grpc_Health_V1_HealthCheckRequest()
        req.service = "a"
        do {
            _ = try await client.check(req, options: CallOptions(timeout: timeout))
            return "a"
        } catch let e as RPCError {
            return e.code == .notFound ? "b" : "\(e.code)"
        } catch {
            return "\(error)"
        }
    }

    func testSpreadsSkipsTheDeadAndRecovers() async throws {
        let (a, portA) = try await replica("a")
        var (b, portB) = try await replica("b")
        var config = ChannelConfiguration()
        config.initialBackoff = 0.05
        config.maxBackoff = 0.2
        let channel = BalancedChannel(targets: [("127.0.0.1", portA), ("localhost", portB)], configuration: config)
        let client = Grpc_Health_V1_HealthClient(channel: channel)

        var seen: [String] = []
        for _ in 0..<10 { seen.append(await ask(client)) }
        XCTAssertEqual(Set(seen), ["a", "b"], "calls go to both replicas")

        await b.shutdown()
        for _ in 0..<10 { seen.append(await ask(client)) }
        XCTAssertEqual(seen.suffix(10), Array(repeating: "a", count: 10), "the dead replica is skipped")

        await a.shutdown()
        let started = ContinuousClock.now
        let down = await ask(client, timeout: 1)
        XCTAssertEqual(down, "\(StatusCode.unavailable)")
        XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(1500), "UNAVAILABLE within the deadline")

        (b, _) = try await replica("b", port: portB)
        var recovered = false
        for _ in 0..<50 where !recovered {
            recovered = await ask(client) == "b"
            if !recovered { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        XCTAssertTrue(recovered, "the replica that came back is used again")
        await channel.close()
        await b.shutdown()
    }
}
