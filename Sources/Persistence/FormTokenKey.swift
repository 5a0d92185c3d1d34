import Crypto
import Foundation

/// The key the dashboard's form tokens (CSRF) are made with, derived from the master key: a form token is the HMAC
/// of the session's token, so it is never stored, differs per session, and cannot be made without the master key.
public struct FormTokenKey: Sendable {
    let key: SymmetricKey

    /// HKDF-SHA256 of the master key, bound to this one purpose.
    init(masterKey: SymmetricKey) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: masterKey, salt: Data("ledgerwire".utf8), info: Data("dashboard-form-token-v1".utf8),
            outputByteCount: 32)
    }

    /// The form token of the session whose token is `sessionToken`: 43 characters of base64url.
    public func token(forSession sessionToken: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(("form:" + sessionToken).utf8), using: key))
            .base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether `given` is the form token of `sessionToken`, compared in constant time.
    public func isValid(_ given: String, forSession sessionToken: String) -> Bool {
        ConstantTime.equal(Array(token(forSession: sessionToken).utf8), Array(given.utf8))
    }
}
