import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Sandbox

/// Xero's limits per app and organisation (5 concurrent, 60 a minute, 5,000 a rolling day) and across
/// organisations (the app's minute limit): 429 with `Retry-After` and `X-Rate-Limit-Problem` beyond them, each
/// counted as a violation; the remaining budget on every answer.
@Suite struct XeroLimitsTests {
    static let problem = HTTPField.Name("X-Rate-Limit-Problem")!
    static let minute = HTTPField.Name("X-MinLimit-Remaining")!
    static let day = HTTPField.Name("X-DayLimit-Remaining")!
    static let app = HTTPField.Name("X-AppMinLimit-Remaining")!

    @Test func theMinuteLimitAnswers429WithRetryAfterAndCountsOnlyWhatGoesOver() async throws {
        try await XeroHarness.run { harness in
            for call in 1...60 {
                let answer = try await harness.get("Organisation")
                #expect(answer.status == .ok)
                #expect(answer.headers[Self.minute] == String(60 - call))
                #expect(
                    answer.headers[Self.day] == String(5000 - call) && answer.headers[Self.app] == String(10_000 - call)
                )
            }
            #expect(await harness.sandbox.limitViolations == 0)
            await harness.sandbox.advance(by: 10)
            let over = try await harness.get("Organisation")
            #expect(over.status == .tooManyRequests && over.headers[Self.problem] == "minute")
            // Until the oldest call of the minute leaves the window: 50 s, less the real time the 60 calls took.
            let wait = try #require(over.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...50).contains(wait) && over.headers[Self.minute] == "0")
            #expect(await harness.sandbox.limitViolations == 1)
            await harness.sandbox.advance(by: 51)
            #expect(try await harness.get("Organisation").status == .ok)
            #expect(await harness.sandbox.requestCounts[harness.tenant] == 61)
        }
    }

    @Test func theRollingDayLimit() async throws {
        var limits = XeroSandbox.Limits()
        limits.requestsPerDay = 3
        try await XeroHarness.run(XeroSandbox(limits: limits)) { harness in
            // Minutes apart, within one access token's life.
            for _ in 1...3 {
                #expect(try await harness.get("Contacts").status == .ok)
                await harness.sandbox.advance(by: 500)
            }
            let over = try await harness.get("Contacts")
            #expect(over.status == .tooManyRequests && over.headers[Self.problem] == "day")
            let wait = try #require(over.headers[.retryAfter].flatMap { Int($0) })
            #expect((86_400 - 3 * 500 - 60...86_400 - 3 * 500).contains(wait) && over.headers[Self.day] == "0")
            await harness.sandbox.advance(by: 86_400 - 3 * 500 + 1)
            let (token, _) = await harness.sandbox.issueTokens(clientID: "client-1", tenantIDs: [harness.tenant])
            let next = try await harness.call(.get, "/api.xro/2.0/Contacts", token: .some(token))
            #expect(next.status == .ok && next.headers[Self.day] == "0")
            #expect(await harness.sandbox.limitViolations == 1)
        }
    }

    @Test func theAppMinuteLimitSpansOrganisations() async throws {
        var limits = XeroSandbox.Limits()
        limits.appRequestsPerMinute = 4
        try await XeroHarness.run(XeroSandbox(limits: limits)) { harness in
            let other = await harness.sandbox.addOrganisation(name: "Second school")
            let (token, _) = await harness.sandbox.issueTokens(clientID: "client-1", tenantIDs: [other])
            for _ in 1...2 {
                #expect(try await harness.get("Organisation").status == .ok)
                #expect(
                    try await harness.call(.get, "/api.xro/2.0/Organisation", token: .some(token), tenant: .some(other))
                        .status == .ok)
            }
            let over = try await harness.get("Organisation")
            #expect(over.status == .tooManyRequests && over.headers[Self.problem] == "appminute")
            #expect(over.headers[Self.app] == "0" && over.headers[.retryAfter] != nil)
            #expect(await harness.sandbox.limitViolations == 1)
        }
    }

    @Test func aSixthConcurrentRequestIsRefused() async throws {
        try await XeroHarness.run { harness in
            await harness.sandbox.holdAnswers()
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 1...5 { group.addTask { try await harness.get("Contacts").status } }
                // The five reach the emulator in their own time: a busy machine (the whole suite in parallel) can take
                // half a minute to start them.
                let deadline = ContinuousClock.now + .seconds(180)
                while await harness.sandbox.requestsInFlight < 5, ContinuousClock.now < deadline { await Task.yield() }
                #expect(await harness.sandbox.requestsInFlight == 5)
                let sixth = try await harness.get("Contacts")
                #expect(sixth.status == .tooManyRequests && sixth.headers[Self.problem] == "concurrent")
                await harness.sandbox.releaseAnswers()
                for try await status in group { #expect(status == .ok) }
            }
            #expect(await harness.sandbox.limitViolations == 1)
            #expect(try await harness.get("Contacts").status == .ok)
        }
    }

    @Test func injectedThrottlesAndMaintenanceAreNotTheClientsViolations() async throws {
        try await XeroHarness.run { harness in
            await harness.sandbox.throttle(next: 1)
            let throttled = try await harness.get("Contacts")
            #expect(throttled.status == .tooManyRequests && throttled.headers[Self.problem] == "minute")
            #expect(throttled.headers[.retryAfter] != nil)
            await harness.sandbox.setMaintenance(true)
            #expect(try await harness.get("Contacts").status == .serviceUnavailable)
            await harness.sandbox.setMaintenance(false)
            #expect(try await harness.get("Contacts").status == .ok)
            #expect(await harness.sandbox.limitViolations == 0)
        }
    }

    /// The day's budget spent elsewhere (another install of the app): a 429 naming the day limit, with the seconds
    /// until the day rolls over and no day left in `X-DayLimit-Remaining`; the next call is answered.
    @Test func anInjectedDayThrottleNamesTheDayAndWhenItRollsOver() async throws {
        try await XeroHarness.run { harness in
            await harness.sandbox.throttle(next: 1, problem: "day", retryAfter: 5400)
            let throttled = try await harness.get("Contacts")
            #expect(throttled.status == .tooManyRequests && throttled.headers[Self.problem] == "day")
            #expect(throttled.headers[.retryAfter] == "5400")
            #expect(throttled.headers[Self.day] == "0")
            #expect(try await harness.get("Contacts").status == .ok)
            #expect(await harness.sandbox.limitViolations == 0)
        }
    }
}
