public import Foundation
public import Ingestion

/// Signs bodies as Cognify billing does (Standard Webhooks), for tests and benchmarks.
public struct Signer: Sendable {
    public let secret: String
    private let key: [UInt8]

    public init(secret: String = StandardWebhooks.generateSecret()) {
        self.secret = secret
        self.key = (try? StandardWebhooks.keyBytes(fromSecret: secret)) ?? []
    }

    /// The three Standard Webhooks headers for `body`.
    public func headers(
        for body: [UInt8],
        id: String = "msg_" + UUID().uuidString.lowercased(),
        timestamp: Int64 = Int64(Date().timeIntervalSince1970)
    ) -> [String: String] {
        [
            "webhook-id": id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": StandardWebhooks.sign(id: id, timestamp: timestamp, body: body, key: key),
        ]
    }
}
