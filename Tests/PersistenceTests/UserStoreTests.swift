import Accounting
import Foundation
import Testing

@testable import Persistence

/// The dashboard's users and their sessions (issue 15, item 1).
@Suite struct UserStoreTests {
    static let password = "correct horse battery staple"
    let t0 = Timestamp(secondsSinceEpoch: 1_900_000_000)

    func database() throws -> AppDatabase {
        try AppDatabase.inMemory().hashingPasswords(with: PasswordHasher(cost: .minimum))
    }

    func add(
        _ database: AppDatabase, _ email: String = "asha@greenfield.example", role: User.Role = .financeManager,
        tenantID: String? = nil
    ) async throws -> User {
        try await database.addUser(
            email: email, name: "Asha Rao", role: role, tenantID: tenantID, password: Self.password, actor: "test")
    }

    func audit(_ database: AppDatabase) async throws -> [AuditEntry] {
        try await database.auditEntries(page: PageRequest(limit: 500)).items
    }

    func hours(_ count: Int) -> Duration { .seconds(count * 3600) }

    @Test func emailsAreStoredTrimmedAndLowercasedAndUniqueWhateverTheirCase() async throws {
        let database = try database()
        let user = try await add(database, "  Asha.Rao@Greenfield.Example \n")
        #expect(user.email == "asha.rao@greenfield.example")
        #expect(user.id.hasPrefix("usr_"))
        #expect(try await database.user(email: "ASHA.RAO@greenfield.example")?.id == user.id)
        await #expect(throws: PersistenceError.emailInUse("asha.rao@greenfield.example")) {
            _ = try await add(database, "asha.rao@GREENFIELD.example")
        }
        #expect(try await database.users(page: PageRequest()).items.map(\.id) == [user.id])
    }

    @Test func eachRuleBrokenIsNamedByItsField() async throws {
        let database = try database()
        func errors(email: String, name: String = "Asha", password: String = Self.password) async -> [String] {
            do {
                _ = try await database.addUser(
                    email: email, name: name, role: .viewer, tenantID: nil, password: password, actor: "test")
                return []
            } catch PersistenceError.invalid(let errors) {
                return errors.map(\.field)
            } catch {
                return ["\(error)"]
            }
        }
        #expect(await errors(email: "asha.greenfield.example") == ["email"])
        #expect(await errors(email: "asha@rao@greenfield.example") == ["email"])
        #expect(await errors(email: "@greenfield.example") == ["email"])
        #expect(await errors(email: "asha rao@greenfield.example") == ["email"])
        #expect(await errors(email: String(repeating: "a", count: 243) + "@example.com") == ["email"])
        #expect(await errors(email: String(repeating: "a", count: 242) + "@example.com") == [])
        #expect(await errors(email: "ok@example.com", name: "  ") == ["name"])
        #expect(await errors(email: "ok2@example.com", name: String(repeating: "n", count: 201)) == ["name"])
        #expect(await errors(email: "", name: "", password: "short") == ["email", "name", "password"])
        #expect(try await database.users(page: PageRequest()).items.count == 1)
    }

    @Test func signInChecksThePasswordAndStartsASession() async throws {
        let database = try database()
        let user = try await add(database)
        let (signedIn, token) = try #require(
            try await database.signIn(email: "Asha@Greenfield.Example", password: Self.password, now: t0))
        #expect(signedIn == user)
        #expect(token.utf8.count == 43)
        let session = try #require(try await database.session(token: token, now: t0.adding(.seconds(5))))
        #expect(session.user == user)
        #expect(session.sessionID.hasPrefix("ses_"))
        #expect(try await database.signIn(email: user.email, password: Self.password + "!", now: t0) == nil)
        #expect(try await database.signIn(email: "nobody@greenfield.example", password: Self.password, now: t0) == nil)
        #expect(try await database.session(token: token + "x", now: t0) == nil)
        #expect(try await database.session(token: "", now: t0) == nil)
        // Each sign-in has its own token.
        let second = try #require(try await database.signIn(email: user.email, password: Self.password, now: t0))
        #expect(second.token != token)

        let entries = try await audit(database)
        #expect(entries.filter { $0.action == "user.signed_in" }.count == 2)
        let failed = entries.filter { $0.action == "user.sign_in_failed" }
        #expect(failed.map(\.entityID) == [user.id, "unknown"])
        #expect(failed.compactMap(\.newValue).joined().contains("nobody@greenfield.example"))
        for entry in entries {
            let text = [entry.oldValue, entry.newValue, entry.actor].compactMap { $0 }.joined()
            #expect(!text.contains("correct horse"))
            #expect(!text.contains("scrypt"))
            #expect(!text.contains(token) && !text.contains(APIKey.hash(token: token)))
        }
        #expect(try await database.verifyAuditChain() == .intact(entries: entries.count))
    }

    @Test func aSessionEndsAfter12HoursIdleAndSlidesWhenUsed() async throws {
        let database = try database()
        let user = try await add(database)
        let token = try #require(try await database.signIn(email: user.email, password: Self.password, now: t0)).token
        #expect(try await database.session(token: token, now: t0.adding(hours(11))) != nil)
        // Used at 11 h, so it lasts until 23 h.
        #expect(try await database.session(token: token, now: t0.adding(hours(22))) != nil)
        #expect(try await database.session(token: token, now: t0.adding(hours(22 + 12))) == nil)
        #expect(try await database.activeSessionCount(userID: user.id, now: t0.adding(hours(22 + 12))) == 0)
    }

    @Test func aSessionIsMarkedUsedAtMostOnceAMinute() async throws {
        let database = try database()
        let user = try await add(database)
        let quiet = try #require(try await database.signIn(email: user.email, password: Self.password, now: t0)).token
        let busy = try #require(try await database.signIn(email: user.email, password: Self.password, now: t0)).token
        // 30 s after sign-in the quiet one is not written to; 61 s after, the busy one is.
        #expect(try await database.session(token: quiet, now: t0.adding(.seconds(30))) != nil)
        #expect(try await database.session(token: busy, now: t0.adding(.seconds(61))) != nil)
        let idleEnd = t0.adding(hours(12)).adding(.seconds(10))
        #expect(try await database.session(token: quiet, now: idleEnd) == nil)
        #expect(try await database.session(token: busy, now: idleEnd) != nil)
    }

    @Test func aSessionEndsSevenDaysAfterSignInHoweverMuchItIsUsed() async throws {
        let database = try database()
        let user = try await add(database)
        let token = try #require(try await database.signIn(email: user.email, password: Self.password, now: t0)).token
        for hour in stride(from: 6, to: 7 * 24, by: 6) {
            #expect(try await database.session(token: token, now: t0.adding(hours(hour))) != nil, "\(hour) h")
        }
        #expect(try await database.session(token: token, now: t0.adding(.seconds(7 * 86_400 - 1))) != nil)
        #expect(try await database.session(token: token, now: t0.adding(.seconds(7 * 86_400))) == nil)
    }

    @Test func resettingAPasswordEndsEverySessionAndOnlyTheNewOneOpens() async throws {
        let database = try database()
        let user = try await add(database)
        let other = try await add(database, "ravi@greenfield.example")
        let token = try #require(try await database.signIn(email: user.email, password: Self.password, now: t0)).token
        let bystander = try #require(try await database.signIn(email: other.email, password: Self.password, now: t0))
        #expect(
            try await database.resetPassword(id: user.id, password: "a brand new passphrase", actor: "admin", at: t0))
        #expect(try await database.session(token: token, now: t0) == nil)
        #expect(try await database.session(token: bystander.token, now: t0) != nil)
        #expect(try await database.signIn(email: user.email, password: Self.password, now: t0) == nil)
        #expect(try await database.signIn(email: user.email, password: "a brand new passphrase", now: t0) != nil)
        await #expect(throws: PersistenceError.self) {
            _ = try await database.resetPassword(id: user.id, password: "too short", actor: "admin")
        }
        #expect(
            try await database.resetPassword(id: "usr_nobody", password: "a brand new passphrase", actor: "a") == false)
        let reset = try #require(try await audit(database).first { $0.action == "user.password_reset" })
        #expect(reset.actor == "admin" && reset.entityID == user.id)
        #expect(reset.newValue?.contains("\"sessions_ended\":1") == true)
    }

    @Test func removingAUserEndsTheirSessions() async throws {
        let database = try database()
        let user = try await add(database)
        let token = try #require(try await database.signIn(email: user.email, password: Self.password, now: t0)).token
        #expect(try await database.removeUser(id: user.id, actor: "admin"))
        #expect(try await database.session(token: token, now: t0) == nil)
        #expect(try await database.signIn(email: user.email, password: Self.password, now: t0) == nil)
        #expect(try await database.user(id: user.id) == nil)
        #expect(try await database.removeUser(id: user.id, actor: "admin") == false)
        #expect(try await audit(database).contains { $0.action == "user.removed" && $0.entityID == user.id })
        // The email is free again.
        _ = try await add(database)
    }

    @Test func signingOutEndsOnlyThatSession() async throws {
        let database = try database()
        let user = try await add(database)
        let first = try #require(try await database.signIn(email: user.email, password: Self.password, now: t0)).token
        let second = try #require(try await database.signIn(email: user.email, password: Self.password, now: t0)).token
        #expect(try await database.signOut(token: first, now: t0))
        #expect(try await database.signOut(token: first, now: t0) == false)
        #expect(try await database.session(token: first, now: t0) == nil)
        #expect(try await database.session(token: second, now: t0) != nil)
    }

    @Test func aTenantsScopeSeesAndChangesOnlyItsUsers() async throws {
        let database = try database()
        let greenfield = try await add(database, "a@greenfield.example", tenantID: "greenfield")
        let sherborne = try await add(database, "b@sherborne.example", tenantID: "st-aldhelms-sherborne")
        let everyone = try await add(database, "c@ledgerwire.example", role: .admin)
        #expect(try await database.users(tenantID: "greenfield", page: PageRequest()).items == [greenfield])
        #expect(try await database.users(page: PageRequest()).items == [greenfield, sherborne, everyone])
        #expect(try await database.user(id: sherborne.id, tenantID: "greenfield") == nil)
        #expect(try await database.user(id: greenfield.id, tenantID: "greenfield") == greenfield)
        #expect(try await database.removeUser(id: sherborne.id, tenantID: "greenfield", actor: "x") == false)
        #expect(
            try await database.resetPassword(
                id: everyone.id, tenantID: "greenfield", password: "a brand new passphrase", actor: "x") == false)
        #expect(try await database.signIn(email: everyone.email, password: Self.password, now: t0) != nil)
        #expect(try await database.users(page: PageRequest()).items.count == 3)
    }

    @Test func usersArePagedInTheOrderTheyWereAdded() async throws {
        let database = try database()
        var added: [User] = []
        for index in 1...5 { added.append(try await add(database, "user\(index)@greenfield.example")) }
        let first = try await database.users(page: PageRequest(limit: 2))
        #expect(first.items == Array(added[0..<2]))
        let second = try await database.users(page: PageRequest(limit: 2, cursor: first.nextCursor))
        #expect(second.items == Array(added[2..<4]))
        let last = try await database.users(page: PageRequest(limit: 2, cursor: second.nextCursor))
        #expect(last.items == [added[4]])
        #expect(last.nextCursor == nil)
    }

    @Test func retentionDeletesEndedSessionsOnly() async throws {
        let database = try database()
        let user = try await add(database)
        let old = try #require(try await database.signIn(email: user.email, password: Self.password, now: t0)).token
        let later = t0.adding(hours(13))
        let fresh = try #require(try await database.signIn(email: user.email, password: Self.password, now: later))
        let summary = try await database.pruneHistory(before: Timestamp(secondsSinceEpoch: 0), now: later)
        #expect(summary.sessions == 1)
        #expect(try await database.session(token: fresh.token, now: later) != nil)
        #expect(try await database.session(token: old, now: t0) == nil)
    }

    @Test func rolesMapToTheAPIKeyRoleOfTheSameLevel() {
        #expect(User.Role.admin.access == .admin)
        #expect(User.Role.financeManager.access == .financeManager)
        #expect(APIKey.Role.operator < .financeManager && APIKey.Role.financeManager < .admin)
        #expect(User.Role.viewer.access == .viewer)
        #expect(User.Role(rawValue: "finance_manager") == .financeManager)
    }
}
