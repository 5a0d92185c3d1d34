import Crypto
import Foundation

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

    /// Verifies a message against any of `keys`; throws the reason it does not verify.
    ///
    /// Every comparison is constant-time (`HMAC.isValidAuthenticationCode`), and every listed `v1`
    /// signature is tried against every key, so timing tells nothing about which part matched.
    public static func verify(
        id: String,
        timestamp: String,
        signatureHeader: String,
        body: some DataProtocol,
        keys: [[UInt8]],
        now: Int64,
        tolerance: Int64 = defaultTolerance
    ) throws(IngestionError) {
        guard let sentAt = Int64(timestamp) else { throw .staleTimestamp(skewSeconds: Int64.max) }
        let skew = now - sentAt
        guard abs(skew) <= tolerance else { throw .staleTimestamp(skewSeconds: skew) }
        let signatures = signatureHeader.split(separator: " ").compactMap { entry -> Data? in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1" else { return nil }
            return Data(base64Encoded: String(parts[1]))
        }
        guard !signatures.isEmpty, !keys.isEmpty else { throw .invalidSignature }
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(contentsOf: body)
        var matched = false
        for key in keys {
            let symmetricKey = SymmetricKey(data: key)
            for signature in signatures
            where HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: symmetricKey) {
                matched = true
            }
        }
        guard matched else { throw .invalidSignature }
    }
}
