import Testing

@testable import App

@Suite struct AuthenticationThrottleTests {
    @Test func anAddressIsRefusedAfterItsFailuresUntilTheWindowEnds() {
        let throttle = AuthenticationThrottle(limit: 3, window: .seconds(60))
        let start = ContinuousClock.now
        for _ in 0..<3 {
            #expect(throttle.wait(for: "203.0.113.7", now: start) == nil)
            throttle.recordFailure(from: "203.0.113.7", now: start)
        }
        #expect(throttle.wait(for: "203.0.113.7", now: start + .seconds(10)) == .seconds(50))
        #expect(throttle.wait(for: "203.0.113.8", now: start + .seconds(10)) == nil)
        #expect(throttle.wait(for: "203.0.113.7", now: start + .seconds(60)) == nil)
    }

    @Test func ipv6IsCountedByItsSlash64AndMappedIPv4ByItsAddress() {
        #expect(
            AuthenticationThrottle.clientKey(forIP: "2001:db8:1:2:aaaa::1")
                == AuthenticationThrottle.clientKey(forIP: "2001:db8:1:2:ffff:ffff:ffff:ffff"))
        #expect(
            AuthenticationThrottle.clientKey(forIP: "2001:db8:1:2::1")
                != AuthenticationThrottle.clientKey(forIP: "2001:db8:1:3::1"))
        #expect(AuthenticationThrottle.clientKey(forIP: "::ffff:192.0.2.1") == "192.0.2.1")
        #expect(AuthenticationThrottle.clientKey(forIP: "192.0.2.1") == "192.0.2.1")
    }

    @Test func aFullTableMakesRoomSoNewAttackersAreStillCounted() {
        let throttle = AuthenticationThrottle(limit: 2, window: .seconds(60), maximumAddresses: 3)
        let start = ContinuousClock.now
        for index in 0..<3 { throttle.recordFailure(from: "10.0.0.\(index)", now: start + .seconds(Int64(index))) }
        throttle.recordFailure(from: "10.0.0.9", now: start + .seconds(5))
        throttle.recordFailure(from: "10.0.0.9", now: start + .seconds(5))
        #expect(throttle.wait(for: "10.0.0.9", now: start + .seconds(6)) != nil)
    }
}
