public import Accounting
import Crypto
import CryptoExtras
import Foundation

/// Hashes and checks the dashboard users' passwords with scrypt (RFC 7914), memory-hard, from swift-crypto.
///
/// The stored string describes itself, `scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64 of a 16-byte random salt and of
/// the 32-byte derived key), so a later change of cost still verifies the hashes made before it: verification reads
/// the cost from the string, within ``Cost``'s bounds, and compares in constant time.
public struct PasswordHasher: Sendable, Hashable {
    /// scrypt's parameters: N = 2^`logN` (CPU and memory), `blockSize` (r) and `parallelism` (p).
    public struct Cost: Sendable, Hashable, CustomStringConvertible {
        public let logN: Int
        public let blockSize: Int
        public let parallelism: Int

        /// What new passwords are hashed with: N = 2^15, r = 8, p = 1, 32 MiB, RFC 7914's setting for interactive
        /// logins. On the 2-core development machine, with other builds keeping both cores busy, an optimized scrypt
        /// (OpenSSL's) at this cost took 125–170 ms, and BoringSSL in a debug build 370–540 ms. OWASP asks for 2^17 (or
        /// 2^15 at p = 3): three to four times that, more than a 2-core server should spend per sign-in.
        public static let standard = Cost(checked: 15, 8, 1)
        /// The cheapest cost accepted (1 MiB, about 2 ms): for tests, which hash many passwords.
        public static let minimum = Cost(checked: 10, 8, 1)

        /// At most 128 MiB per hash and 4 times the standard's work: a stored string asking for more is refused
        /// rather than computed (someone who can write the table must not make each sign-in take minutes).
        static let maximumMemory = 128 << 20
        static let maximumWork = 4 * (1 << 15) * 8

        /// - Returns: `nil` outside the bounds: `logN` 10…20, `blockSize` 1…32, `parallelism` 1…16, at most 128 MiB
        ///   (128·r·N bytes) and 4 times the standard's work (N·r·p).
        public init?(logN: Int, blockSize: Int, parallelism: Int) {
            guard (10...20).contains(logN), (1...32).contains(blockSize), (1...16).contains(parallelism) else {
                return nil
            }
            let rounds = 1 << logN
            guard 128 * blockSize * rounds <= Self.maximumMemory, rounds * blockSize * parallelism <= Self.maximumWork
            else { return nil }
            self.logN = logN
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        private init(checked logN: Int, _ blockSize: Int, _ parallelism: Int) {
            self.logN = logN
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// As stored: `ln=15,r=8,p=1`.
        public var description: String { "ln=\(logN),r=\(blockSize),p=\(parallelism)" }

        /// Reads `ln=…,r=…,p=…` exactly, each a number of at most 3 digits; `nil` for anything else or out of bounds.
        init?(parsing text: Substring) {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 3 else { return nil }
            func value(_ part: Substring, _ name: String) -> Int? {
                guard part.hasPrefix(name + "=") else { return nil }
                let digits = part.dropFirst(name.count + 1)
                guard (1...3).contains(digits.utf8.count), digits.utf8.allSatisfy({ (48...57).contains($0) }) else {
                    return nil
                }
                return Int(digits)
            }
            guard let logN = value(parts[0], "ln"), let blockSize = value(parts[1], "r"),
                let parallelism = value(parts[2], "p")
            else { return nil }
            self.init(logN: logN, blockSize: blockSize, parallelism: parallelism)
        }
    }

    /// How long a password may be, in UTF-8 bytes (NIST SP 800-63B: at least 8; long passphrases welcome, bounded
    /// so that nobody makes the server hash megabytes).
    public static let passwordLength = 12...1024
    static let saltLength = 16
    static let hashLength = 32

    /// The cost new hashes are made with.
    public var cost: Cost

    public init(cost: Cost = .standard) {
        self.cost = cost
    }

    /// What is wrong with `password` under the rule, or `nil` when it follows it.
    public static func problem(password: String) -> FieldError? {
        let length = normalized(password).count
        guard passwordLength.contains(length) else {
            return FieldError(
                field: "password",
                message: "must be 12 to 1,024 bytes long (UTF-8); this one has \(length)")
        }
        return nil
    }

    /// The stored form of `password`, with a new random salt.
    /// - Throws: `PersistenceError.invalid` naming the rule when the password is too short or too long.
    public func hash(_ password: String) throws -> String {
        if let problem = Self.problem(password: password) { throw PersistenceError.invalid([problem]) }
        let salt = SymmetricKey(size: SymmetricKeySize(bitCount: Self.saltLength * 8)).withUnsafeBytes { Array($0) }
        let key = try Self.derive(Self.normalized(password), salt: salt, cost: cost, length: Self.hashLength)
        return "scrypt$\(cost)$\(Data(salt).base64EncodedString())$\(Data(key).base64EncodedString())"
    }

    /// Whether `password` is the one `stored` was made from. `false` for a malformed string or one whose cost is out
    /// of ``Cost``'s bounds (without computing it), and for a password outside the length rule (after spending one
    /// hash, so its timing tells nothing).
    public func verify(_ password: String, against stored: String) -> Bool {
        guard let (cost, salt, expected) = Self.parse(stored) else { return false }
        let bytes = Self.normalized(password)
        guard Self.passwordLength.contains(bytes.count) else {
            spendOneHash()
            return false
        }
        guard let key = try? Self.derive(bytes, salt: salt, cost: cost, length: expected.count) else { return false }
        return ConstantTime.equal(key, expected)
    }

    /// Does the work of one verification at this cost and throws it away: a sign-in with an email nobody has takes
    /// as long as a wrong password does.
    public func spendOneHash() {
        _ = try? Self.derive(
            Array("not anyone's password".utf8), salt: Array(repeating: 0, count: 16), cost: cost,
            length: Self.hashLength)
    }

    /// The cost `stored` was made with, or `nil` when it is not a string this type reads.
    public static func cost(of stored: String) -> Cost? {
        parse(stored)?.cost
    }

    static func parse(_ stored: String) -> (cost: Cost, salt: [UInt8], hash: [UInt8])? {
        // A stored hash is about 100 bytes; anything far longer is not one, and is not decoded.
        guard stored.utf8.count <= 512 else { return nil }
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "scrypt", let cost = Cost(parsing: parts[1]),
            let salt = Data(base64Encoded: String(parts[2])), (8...64).contains(salt.count),
            let hash = Data(base64Encoded: String(parts[3])), (16...64).contains(hash.count)
        else { return nil }
        return (cost, Array(salt), Array(hash))
    }

    /// Passwords are compared as Unicode NFC, so the same password typed on two keyboards (é precomposed or not)
    /// is the same password (NIST SP 800-63B § 5.1.1.2).
    static func normalized(_ password: String) -> [UInt8] {
        Array(password.precomposedStringWithCanonicalMapping.utf8)
    }

    private static func derive(_ password: [UInt8], salt: [UInt8], cost: Cost, length: Int) throws -> [UInt8] {
        try KDF.Scrypt.deriveKey(
            from: password, salt: salt, outputByteCount: length, rounds: 1 << cost.logN, blockSize: cost.blockSize,
            parallelism: cost.parallelism
        ).withUnsafeBytes { Array($0) }
    }
}
