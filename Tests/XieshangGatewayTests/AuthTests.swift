import NIOCore
import XCTest
import XieshangAPI
import XieshangKit
import XieshangRPC
@testable import XieshangGateway

final class AuthTests: XCTestCase {
    func testSignaturesHoldOnlyForTheSameSecretAndBytes() throws {
        let signer = try PrincipalSigner(secret: "a shared secret of some length")
        var p = Xieshang_Common_V1_Principal()
        p.committeeId = 2
        p.roles = [.liaisonStaff]
        let m = signer.metadata(for: p)
        XCTAssertNil(signer.check(m))
        XCTAssertEqual(try PrincipalSigner(secret: "another secret of some length").check(m)?.code, .unauthenticated)
        // Claiming another role with the old signature fails.
        p.roles = [.committeeAdmin]
        var forged = Metadata()
        forged.add(Caller.metadataKey, binary: p.serializedBytes())
        forged.add(PrincipalSigner.signatureKey, binary: m.binary(PrincipalSigner.signatureKey)!)
        XCTAssertEqual(signer.check(forged)?.code, .unauthenticated)
        var unsigned = Metadata()
        unsigned.add(Caller.metadataKey, binary: p.serializedBytes())
        XCTAssertEqual(signer.check(unsigned)?.message, "the principal is not signed: call through the gateway")
        XCTAssertEqual(signer.check(Metadata())?.code, .unauthenticated)
        XCTAssertThrowsError(try PrincipalSigner(secret: "short"))
        let filter = signer.callFilter(open: ["grpc.health.v1.Health"])
        XCTAssertNil(filter("/grpc.health.v1.Health/Check", Metadata()))
        XCTAssertNotNil(filter("/xieshang.intake.v1.IntakeService/GetItem", Metadata()))
    }

    func testTheRateLimitRefusesABurstAndRefills() {
        let limiter = RateLimiter(perMinute: 3)
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        XCTAssertEqual((0..<5).map { _ in limiter.admit("10.0.0.1", now: t0) }, [true, true, true, false, false])
        XCTAssertTrue(limiter.admit("10.0.0.2", now: t0), "each address has its own bucket")
        XCTAssertFalse(limiter.admit("10.0.0.1", now: t0 + .seconds(10)))
        XCTAssertTrue(limiter.admit("10.0.0.1", now: t0 + .seconds(21)), "one call a 20 s at 3 a minute")
    }

    func testWrongPasswordsFromAnAddressAreSlowedThenRefused() {
        let throttle = LoginThrottle()
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
        var delays: [Double] = []
        for i in 1..<LoginThrottle.lockAfter {
            let (delay, locked) = throttle.failed("203.0.113.9", now: t0 + .seconds(Int64(i)))
            XCTAssertNil(locked)
            delays.append(delay)
        }
        XCTAssertEqual(Array(delays.prefix(LoginThrottle.freeFailures)), [0, 0, 0], "the first few are answered at once")
        XCTAssertEqual(Array(delays.dropFirst(LoginThrottle.freeFailures).prefix(4)), [0.25, 0.5, 1, 2], "then each waits twice as long")
        XCTAssertEqual(delays.max(), LoginThrottle.longestDelay)
        XCTAssertNil(throttle.refusal("203.0.113.9", now: t0 + .seconds(10)))
        let (_, locked) = throttle.failed("203.0.113.9", now: t0 + .seconds(10))
        XCTAssertEqual(locked, LoginThrottle.lockSeconds)
        XCTAssertEqual(throttle.refusal("203.0.113.9", now: t0 + .seconds(40)), 30)
        XCTAssertNil(throttle.refusal("203.0.113.10", now: t0 + .seconds(40)), "another address is not refused")
        XCTAssertNil(throttle.refusal("203.0.113.9", now: t0 + .seconds(71)), "the lock passes")
        // The next lock is twice as long.
        for i in 0..<LoginThrottle.lockAfter { _ = throttle.failed("203.0.113.9", now: t0 + .seconds(80 + Int64(i))) }
        XCTAssertEqual(throttle.refusal("203.0.113.9", now: t0 + .seconds(89)), 2 * LoginThrottle.lockSeconds)
        throttle.succeeded("203.0.113.9")
        XCTAssertNil(throttle.refusal("203.0.113.9", now: t0 + .seconds(90)), "a right password clears the address")
    }

    func testTargetsParse() {
        XCTAssertEqual(BalancedChannel.parseTargets("proposals:50063")?.map(\.host), ["proposals"])
        XCTAssertEqual(BalancedChannel.parseTargets("127.0.0.1:1, 127.0.0.1:2")?.map(\.port), [1, 2])
        XCTAssertEqual(BalancedChannel.parseTargets("[::1]:9")?.first?.host, "::1")
        XCTAssertNil(BalancedChannel.parseTargets("proposals"))
        XCTAssertNil(BalancedChannel.parseTargets("a:1,b:99999"))
    }
}
