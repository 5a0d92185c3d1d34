import Foundation
import Ingestion
import Testing

@Suite struct StandardWebhooksTests {
    /// The reference vector of the Standard Webhooks libraries (standard-webhooks/standard-webhooks, tests).
    @Test func matchesTheSpecificationsTestVector() throws {
        let key = try StandardWebhooks.keyBytes(fromSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = StandardWebhooks.sign(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: body, key: key)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        try StandardWebhooks.verify(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: "1614265330",
            signatureHeader: signature,
            body: body,
            keys: [key],
            now: 1_614_265_330
        )
    }

    let key = Array(repeating: UInt8(7), count: 32)
    let other = Array(repeating: UInt8(9), count: 32)
    let body = Array(#"{"type":"customer.created"}"#.utf8)

    @Test func acceptsAnyListedSignatureFromAnyActiveKey() throws {
        let good = StandardWebhooks.sign(id: "msg_1", timestamp: 1000, body: body, key: key)
        try StandardWebhooks.verify(
            id: "msg_1",
            timestamp: "1000",
            signatureHeader: "v1,AAAA v2,zzz \(good)",
            body: body,
            keys: [other, key],
            now: 1000
        )
    }

    @Test func refusesTamperedBodyWrongKeyAndStaleTimestamps() {
        let good = StandardWebhooks.sign(id: "msg_1", timestamp: 1000, body: body, key: key)
        #expect(throws: IngestionError.invalidSignature) {
            try StandardWebhooks.verify(
                id: "msg_1", timestamp: "1000", signatureHeader: good, body: body + [0x20], keys: [key], now: 1000)
        }
        #expect(throws: IngestionError.invalidSignature) {
            try StandardWebhooks.verify(
                id: "msg_1", timestamp: "1000", signatureHeader: good, body: body, keys: [other], now: 1000)
        }
        #expect(throws: IngestionError.invalidSignature) {
            try StandardWebhooks.verify(
                id: "msg_2", timestamp: "1000", signatureHeader: good, body: body, keys: [key], now: 1000)
        }
        #expect(throws: IngestionError.staleTimestamp(skewSeconds: 360)) {
            try StandardWebhooks.verify(
                id: "msg_1", timestamp: "1000", signatureHeader: good, body: body, keys: [key], now: 1360)
        }
        #expect(throws: IngestionError.staleTimestamp(skewSeconds: -360)) {
            try StandardWebhooks.verify(
                id: "msg_1", timestamp: "1000", signatureHeader: good, body: body, keys: [key], now: 640)
        }
    }

    @Test func acceptsTimestampsWithinFiveMinutes() throws {
        let good = StandardWebhooks.sign(id: "msg_1", timestamp: 1000, body: body, key: key)
        try StandardWebhooks.verify(
            id: "msg_1", timestamp: "1000", signatureHeader: good, body: body, keys: [key], now: 1300)
        try StandardWebhooks.verify(
            id: "msg_1", timestamp: "1000", signatureHeader: good, body: body, keys: [key], now: 700)
    }

    @Test(arguments: [
        "-9223372036854775808", "9223372036854775807", "99999999999999999999", "+1000", " 1000", "1e3", "", "1000.0",
    ])
    func refusesTimestampsThatAreNotPlainSecondsWithoutTrapping(timestamp: String) {
        let good = StandardWebhooks.sign(id: "msg_1", timestamp: 1000, body: body, key: key)
        #expect(throws: IngestionError.self) {
            try StandardWebhooks.verify(
                id: "msg_1", timestamp: timestamp, signatureHeader: good, body: body, keys: [key], now: 1000)
        }
    }

    @Test func aTimestampFarInThePastOrFutureIsStaleNotAnOverflow() {
        let good = StandardWebhooks.sign(id: "msg_1", timestamp: 1000, body: body, key: key)
        #expect(throws: IngestionError.staleTimestamp(skewSeconds: 1000 - 999_999_999_999)) {
            try StandardWebhooks.verify(
                id: "msg_1", timestamp: "999999999999", signatureHeader: good, body: body, keys: [key], now: 1000)
        }
        #expect(throws: IngestionError.staleTimestamp(skewSeconds: .max)) {
            try StandardWebhooks.verify(
                id: "msg_1", timestamp: "1", signatureHeader: good, body: body, keys: [key], now: .min)
        }
    }

    @Test func takesAtMostEightSignaturesInOneHeader() throws {
        let good = StandardWebhooks.sign(id: "msg_1", timestamp: 1000, body: body, key: key)
        let seven = Array(repeating: "v1,AAAA", count: 7).joined(separator: " ")
        try StandardWebhooks.verify(
            id: "msg_1", timestamp: "1000", signatureHeader: "\(seven) \(good)", body: body, keys: [key], now: 1000)
        #expect(
            throws: IngestionError.invalidHeader(
                name: "webhook-signature", reason: "lists more than 8 signatures")
        ) {
            try StandardWebhooks.verify(
                id: "msg_1", timestamp: "1000", signatureHeader: "v1,AAAA \(seven) \(good)", body: body,
                keys: [key], now: 1000)
        }
    }
}
