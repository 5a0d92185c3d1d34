import Accounting
import Foundation
import Testing

@testable import Persistence

/// Dashboard passwords: scrypt, stored self-describing, verified at the stored cost within bounds (issue 15, item 1).
@Suite struct PasswordHasherTests {
    let hasher = PasswordHasher(cost: .minimum)

    @Test func theStoredFormNamesTheCostAndHoldsASaltAndAHash() throws {
        let stored = try hasher.hash("correct horse battery staple")
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        #expect(parts.count == 4)
        #expect(parts[0] == "scrypt")
        #expect(parts[1] == "ln=10,r=8,p=1")
        #expect(Data(base64Encoded: String(parts[2]))?.count == 16)
        #expect(Data(base64Encoded: String(parts[3]))?.count == 32)
        #expect(!stored.contains("correct horse"))
        // A new salt each time: the same password never hashes to the same string.
        #expect(try hasher.hash("correct horse battery staple") != stored)
        #expect(PasswordHasher().cost == .standard)
        #expect(PasswordHasher.Cost.standard.description == "ln=15,r=8,p=1")
    }

    @Test func theRightPasswordVerifiesAndNoOtherDoes() throws {
        let stored = try hasher.hash("correct horse battery staple")
        #expect(hasher.verify("correct horse battery staple", against: stored))
        #expect(!hasher.verify("correct horse battery stapler", against: stored))
        #expect(!hasher.verify("Correct horse battery staple", against: stored))
        #expect(!hasher.verify("", against: stored))
        #expect(!hasher.verify(String(repeating: "x", count: 5000), against: stored))
    }

    @Test func aPasswordIsTheSameWhicheverWayItsAccentsAreTyped() throws {
        let precomposed = "caf\u{E9} au lait, s'il vous pla\u{EE}t"
        let decomposed = "cafe\u{301} au lait, s'il vous plai\u{302}t"
        #expect(Array(precomposed.utf8) != Array(decomposed.utf8))
        #expect(hasher.verify(decomposed, against: try hasher.hash(precomposed)))
    }

    @Test func verificationReadsTheCostFromTheStoredString() throws {
        let cheap = try hasher.hash("correct horse battery staple")
        // A server hashing new passwords at the standard cost still verifies the ones made at another.
        #expect(PasswordHasher(cost: .standard).verify("correct horse battery staple", against: cheap))
        let eleven = try #require(PasswordHasher.Cost(logN: 11, blockSize: 8, parallelism: 1))
        let stored = try PasswordHasher(cost: eleven).hash("correct horse battery staple")
        #expect(stored.hasPrefix("scrypt$ln=11,r=8,p=1$"))
        #expect(PasswordHasher.cost(of: stored) == eleven)
        #expect(hasher.verify("correct horse battery staple", against: stored))
    }

    @Test func absurdOrMalformedStoredParametersAreRefusedUncomputed() throws {
        let stored = try hasher.hash("correct horse battery staple")
        let tail = stored.split(separator: "$", omittingEmptySubsequences: false)[2...].joined(separator: "$")
        for parameters in [
            "ln=17,r=8,p=1"  // 128 MiB, 4 times the standard's work: the most accepted
        ] {
            #expect(PasswordHasher.cost(of: "scrypt$\(parameters)$\(tail)") != nil, "\(parameters)")
        }
        for parameters in [
            "ln=18,r=8,p=1",  // 256 MiB
            "ln=30,r=8,p=1",  // 128 GiB
            "ln=15,r=8,p=16",  // 16 times the work
            "ln=15,r=999,p=1",
            "ln=9,r=8,p=1",  // too cheap to be a password hash
            "ln=0,r=8,p=1",
            "ln=15,r=0,p=1",
            "ln=15,r=8,p=0",
            "ln=1000,r=8,p=1",
            "ln=-1,r=8,p=1",
            "ln=15,p=1,r=8",
            "ln=15,r=8",
            "ln=15,r=8,p=1,x=1",
            "ln=15,r=8,p=+1",
            "ln= 15,r=8,p=1",
        ] {
            let absurd = "scrypt$\(parameters)$\(tail)"
            #expect(PasswordHasher.cost(of: absurd) == nil, "\(parameters)")
            #expect(!hasher.verify("correct horse battery staple", against: absurd), "\(parameters)")
        }
        let salt = stored.split(separator: "$")[2]
        let hash = stored.split(separator: "$")[3]
        for malformed in [
            "", "scrypt", "scrypt$ln=10,r=8,p=1$\(salt)", "bcrypt$ln=10,r=8,p=1$\(salt)$\(hash)",
            "scrypt$ln=10,r=8,p=1$not base64!$\(hash)", "scrypt$ln=10,r=8,p=1$\(salt)$\(hash)$",
            "scrypt$ln=10,r=8,p=1$$\(hash)", "scrypt$ln=10,r=8,p=1$\(salt)$AAAA",
            "scrypt$ln=10,r=8,p=1$\(salt)$\(hash)" + String(repeating: "A", count: 600),
        ] {
            #expect(!hasher.verify("correct horse battery staple", against: malformed), "\(malformed)")
        }
        #expect(hasher.verify("correct horse battery staple", against: "scrypt$ln=10,r=8,p=1$\(salt)$\(hash)"))
    }

    @Test func costsOutsideTheBoundsCannotBeMade() {
        #expect(PasswordHasher.Cost(logN: 15, blockSize: 8, parallelism: 1) == .standard)
        #expect(PasswordHasher.Cost(logN: 10, blockSize: 8, parallelism: 1) == .minimum)
        #expect(PasswordHasher.Cost(logN: 9, blockSize: 8, parallelism: 1) == nil)
        #expect(PasswordHasher.Cost(logN: 18, blockSize: 8, parallelism: 1) == nil)
        #expect(PasswordHasher.Cost(logN: 15, blockSize: 8, parallelism: 5) == nil)
    }

    @Test func passwordsMustBe12To1024Bytes() throws {
        func refusal(_ password: String) -> String? {
            do {
                _ = try hasher.hash(password)
                return nil
            } catch PersistenceError.invalid(let errors) {
                return errors.map(\.description).joined()
            } catch {
                return "\(error)"
            }
        }
        let short = try #require(refusal("eleven char"))
        #expect(short.hasPrefix("password: must be 12 to 1,024 bytes long"))
        #expect(refusal(String(repeating: "a", count: 1025)) != nil)
        #expect(refusal(String(repeating: "a", count: 12)) == nil)
        #expect(refusal(String(repeating: "a", count: 1024)) == nil)
        // Bytes, not characters: six two-byte letters are long enough, eleven ASCII ones are not.
        #expect(refusal(String(repeating: "\u{E9}", count: 6)) == nil)
        #expect(PasswordHasher.problem(password: "twelve bytes") == nil)
    }
}
