import Accounting
import Foundation
import Testing

@testable import Connectors

/// The Sage connector's pure parts: how Sage's answers become the engine's errors, the ids and rates it writes, and
/// its change feed's cursor.
@Suite struct SageBusinessCloudMappingTests {
    static func answer(_ status: Int, _ body: String, headers: [String: String] = [:]) -> TransportResponse {
        TransportResponse(status: status, headers: headers, body: Data(body.utf8))
    }

    @Test func aValidationRefusalCarriesSagesMessageAndSource() {
        let body = """
            [{"$severity":"error","$dataCode":"RecordInvalid","$message":"can't be blank",\
            "$source":"invoice_lines[0].unit_price"}]
            """
        #expect(
            throws: ConnectorError.validation(
                code: "sage_validation",
                message: "Sage refused it (422): can't be blank ($source: invoice_lines[0].unit_price)")
        ) {
            try SageBusinessCloudSession.answer(Self.answer(422, body))
        }
    }

    @Test func aThrottleWaitsWhatSageSaysOrAMinute() {
        let body = #"[{"$severity":"error","$dataCode":"TooManyRequests","$message":"Too many requests."}]"#
        for (headers, wait) in [(["retry-after": "7"], Duration.seconds(7)), ([:], .seconds(60))] {
            do {
                _ = try SageBusinessCloudSession.answer(Self.answer(429, body, headers: headers))
                Issue.record("a 429 is an error")
            } catch {
                guard case .busy(code: "throttled", _, let retryAfter) = error else {
                    Issue.record("\(error)")
                    continue
                }
                #expect(retryAfter == wait)
            }
        }
    }

    @Test func anExpiredTokenIsRefreshedAndAForeignBusinessRefused() {
        let body = #"[{"$severity":"error","$dataCode":"AuthorizationFailure","$message":"Access token has expired."}]"#
        #expect {
            try SageBusinessCloudSession.answer(Self.answer(401, body))
        } throws: { error in
            guard case ConnectorError.authentication(let message) = error else { return false }
            return message.contains("Access token has expired.")
        }
        #expect {
            try SageBusinessCloudSession.answer(Self.answer(403, "[]"))
        } throws: { error in
            if case ConnectorError.credentialsRefused = error { return true } else { return false }
        }
    }

    @Test func idempotencyIDsAre32HexDigitsAndTheSameForEveryAttempt() {
        let first = SageBusinessCloudSession.idempotencyID("job-1:v3")
        #expect(first.count == 32 && SageBusinessCloudSession.isBusinessID(first))
        #expect(first == SageBusinessCloudSession.idempotencyID("job-1:v3"))
        #expect(first != SageBusinessCloudSession.idempotencyID("job-1:v4"))
    }

    @Test func billingsRateIsInvertedToSagesSixDecimals() throws {
        #expect(
            try SageBusinessCloudMapping.exchangeRate(ScaledDecimal(parsing: "0.8", maximumFractionDigits: 8)) == "1.25"
        )
        #expect(
            try SageBusinessCloudMapping.exchangeRate(ScaledDecimal(parsing: "0.0123", maximumFractionDigits: 8))
                == "81.300813")
        #expect(throws: ConnectorError.self) {
            try SageBusinessCloudMapping.exchangeRate(ScaledDecimal(parsing: "0", maximumFractionDigits: 8))
        }
    }

    @Test func theFeedsCursorComesBackAsItWentAndAForeignOneStartsOver() {
        var position = SageFeedPosition()
        position.step = 4
        position.page = 3
        position.latest = 1_795_000_000
        position.since[0] = 1_794_000_000
        position.since[5] = 0
        #expect(SageFeedPosition(position.cursor) == position)
        #expect(SageFeedPosition("xero2:0:1::::d") == nil)
        #expect(SageFeedPosition("sage1:9:1::::::::") == nil, "no such list")
        #expect(SageFeedPosition("sage1:0:0::::::::") == nil, "no page 0")
        #expect(SageFeedPosition("sage1:0:1:-5:::::::") == nil, "no instant before 1970")
        #expect(SageTime.parameter(1_795_000_000) == "2026-11-18T11:06:40+00:00")
        #expect(SageTime.seconds("2026-11-18T11:06:40Z") == 1_795_000_000)
    }
}
