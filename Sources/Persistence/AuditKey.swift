import Accounting
import Crypto
import Foundation

/// The key the audit chain's entries and checkpoint are signed with (HMAC-SHA256), derived from the master key.
///
/// Someone holding only the database file cannot recompute a signed entry or checkpoint, so cannot rewrite, remove
/// or truncate the chain without `audit verify` noticing. Derived with HKDF, so the master key itself never signs
/// anything and the chain's key says nothing about the key that seals secrets.
public struct AuditKey: Sendable {
    let key: SymmetricKey

    /// HKDF-SHA256 of the master key, bound to this one purpose.
    init(masterKey: SymmetricKey) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: masterKey,
            salt: Data("ledgerwire".utf8),
            info: Data("audit-chain-v1".utf8),
            outputByteCount: 32
        )
    }

    /// A key for a throw-away database (in memory) that nobody verifies after it is gone.
    static func random() -> AuditKey {
        AuditKey(masterKey: SymmetricKey(size: .bits256))
    }

    /// Lower-case hex HMAC-SHA256 of `message`.
    func sign(_ message: some DataProtocol) -> String {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: key)).hexString
    }

    /// Whether `hexCode` is the HMAC of `message`, compared in constant time.
    func isValid(_ hexCode: String, for message: some DataProtocol) -> Bool {
        guard let code = [UInt8](hex: hexCode) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: key)
    }
}

extension Array where Element == UInt8 {
    /// Bytes from lower- or upper-case hexadecimal; `nil` for anything else.
    init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
