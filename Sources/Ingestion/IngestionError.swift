/// Why a webhook was not taken in. Only `App` turns these into HTTP answers.
public enum IngestionError: Error, Hashable, Sendable {
    /// A header the signature scheme needs is absent.
    case missingHeader(String)
    /// A header the signature scheme needs is present but not in its form (a timestamp that is not a number,
    /// too many signatures). Nothing is recorded.
    case invalidHeader(name: String, reason: String)
    /// No signature matched any active secret of the source.
    case invalidSignature
    /// The signed timestamp is outside the tolerance (replay protection).
    case staleTimestamp(skewSeconds: Int64)
    /// The source has no active secret, so nothing can verify.
    case noActiveSecret(source: String)
    /// A `whsec_` secret that is not base64 after its prefix.
    case invalidSecret
    /// The delivery to replay does not exist or is not visible.
    case deliveryNotFound(String)

    /// A bounded label for logs and metrics.
    public var code: String {
        switch self {
        case .missingHeader: "missing_header"
        case .invalidHeader: "invalid_header"
        case .invalidSignature: "invalid_signature"
        case .staleTimestamp: "stale_timestamp"
        case .noActiveSecret: "no_active_secret"
        case .invalidSecret: "invalid_secret"
        case .deliveryNotFound: "delivery_not_found"
        }
    }

    /// Verification failures: the sender is not who it claims, nothing is applied.
    public var isAuthenticationFailure: Bool {
        switch self {
        case .missingHeader, .invalidHeader, .invalidSignature, .staleTimestamp, .noActiveSecret: true
        case .invalidSecret, .deliveryNotFound: false
        }
    }
}
