import Crypto
public import Foundation

/// Standard Webhooks signatures (https://www.standardwebhooks.com/, spec "Verifying webhooks"):
/// `webhook-signature: v1,<base64 HMAC-SHA256("{webhook-id}.{webhook-timestamp}.{body}")>`, a space-separated
/// list so a sender can sign with an old and a new secret during rotation.
public enum StandardWebhooks {
    /// ±5 minutes, as the specification recommends.
    public static let defaultTolerance: Int64 = 300

    /// The key bytes of a `whsec_<base64>` secret (a secret without the prefix is taken as base64 too).
    public static func keyBytes(fromSecret secret: String) throws(IngestionError) -> [UInt8] {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else { throw .invalidSecret }
        return Array(bytes)
    }

    /// A new random secret in `whsec_` form.
    public static func generateSecret() -> String {
        "whsec_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// The `webhook-signature` value for a message.
    public static func sign(id: String, timestamp: Int64, body: some DataProtocol, key: [UInt8]) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: key))
        mac.update(data: Array("\(id).\(timestamp).".utf8))
        mac.update(data: body)
        return "v1," + Data(mac.finalize()).base64EncodedString()
    }

    /// The most signatures one `webhook-signature` header may list (a sender rotating secrets lists two or three).
    public static let maximumSignatures = 8

    /// Verifies a message against any of `keys`; throws the reason it does not verify.
    ///
    /// The cost is one MAC per key, whatever the header lists: each key's MAC is computed once and compared in
    /// constant time against every offered `v1` signature, so timing tells nothing about which part matched. A
    /// header listing more than `maximumSignatures` entries is refused before any MAC is computed.
    public static func verify(
        id: String,
        timestamp: String,
        signatureHeader: String,
        body: some DataProtocol,
        keys: [[UInt8]],
        now: Int64,
        tolerance: Int64 = defaultTolerance
    ) throws(IngestionError) {
        guard let sentAt = seconds(timestamp) else {
            throw .invalidHeader(name: "webhook-timestamp", reason: "must be whole seconds since 1970-01-01 UTC")
        }
        let (skew, overflow) = now.subtractingReportingOverflow(sentAt)
        guard !overflow, skew.magnitude <= tolerance.magnitude else {
            throw .staleTimestamp(skewSeconds: overflow ? .max : skew)
        }
        let entries = signatureHeader.split(separator: " ", omittingEmptySubsequences: true)
        guard entries.count <= maximumSignatures else {
            throw .invalidHeader(
                name: "webhook-signature", reason: "lists more than \(maximumSignatures) signatures")
        }
        let signatures = entries.compactMap { entry -> Data? in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1" else { return nil }
            return Data(base64Encoded: String(parts[1]))
        }
        guard !signatures.isEmpty, !keys.isEmpty else { throw .invalidSignature }
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(contentsOf: body)
        var matched = false
        for key in keys {
            let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key))
            for signature in signatures {
                // `==` between a MAC and bytes is swift-crypto's constant-time comparison.
                let equal = mac == signature
                matched = matched || equal
            }
        }
        guard matched else { throw .invalidSignature }
    }

    /// Unix seconds as Standard Webhooks sends them: 1 to 12 ASCII digits, nothing else (no sign, no space).
    static func seconds(_ text: String) -> Int64? {
        let digits = text.utf8
        guard (1...12).contains(digits.count) else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
