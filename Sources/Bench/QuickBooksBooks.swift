import Accounting
import Foundation
import Hummingbird
import Sandbox

/// The QuickBooks bench's part of the world: the integration connected and mapped, and the books read, through the
/// QuickBooks Online emulator.
struct QuickBooksBooks: Sendable {
    let world: BenchWorld
    let sandbox: QuickBooksOnlineSandbox

    typealias Failure = BenchWorld.Failure

    /// Ledgerwire and the QuickBooks Online emulator (its company `QuickBooksBench.realm`) for as long as `body` runs.
    static func run(_ body: (QuickBooksBooks) async throws -> Void) async throws {
        let sandbox = QuickBooksOnlineSandbox()
        await sandbox.registerClient(id: "bench-client", secret: "bench-secret")
        await sandbox.addCompany(realmID: QuickBooksBench.realm)
        let emulator = sandbox.router().buildResponder()
        try await BenchServers.run(emulator: emulator, serverName: "quickbooks-online-sandbox") { world in
            try await body(QuickBooksBooks(world: world, sandbox: sandbox))
        }
    }

    /// An integration pointed at the emulator, connected through its OAuth consent.
    func connect() async throws -> String {
        await sandbox.registerClient(id: "bench-client", secret: "bench-secret")
        let emulator = world.emulator
        return try await world.connect(
            platform: "quickbooks_online",
            settings: [
                "client_id": "bench-client", "client_secret": "bench-secret",
                "redirect_uri": .string(world.ledgerwire + "/oauth/callback"), "environment": "sandbox",
                "api_base_url": .string(emulator), "oauth_authorize_url": .string(emulator + "/connect/oauth2"),
                "oauth_token_url": .string(emulator + "/oauth2/v1/tokens/bearer"),
                "oauth_revoke_url": .string(emulator + "/v2/oauth2/tokens/revoke"),
            ],
            consent: { authorizeURL in
                QuickBooksConsent(authorizeURL: authorizeURL).map {
                    ($0.action, QuickBooksConsent.contentType, $0.body)
                }
            })
    }

    /// Billing's revenue accounts mapped to the chart's suggestions, GST 18 % and the company's first item.
    func mapAccounts(_ integrationID: String) async throws {
        let codes = ["4000-TUITION", "4100-TRANSPORT"]
        let chart = try await world.api(
            "GET", "/integrations/\(integrationID)/remote-accounts?codes=\(codes.joined(separator: ","))")
        var accounts: [String: JSONValue] = [:]
        for code in codes {
            guard let suggested = chart["suggested_mappings"]?["accounts"]?[code] else {
                throw Failure(description: "no suggested account for \(code)")
            }
            accounts[code] = suggested
        }
        let taxCode = chart["tax_codes"]?.arrayValue?.first { $0["name"] == "GST 18%" }?["id"] ?? .null
        let item = chart["items"]?.arrayValue?.first?["id"] ?? .null
        try await world.api(
            "PUT", "/integrations/\(integrationID)/mappings",
            ["accounts": .object(accounts), "tax_codes": ["GST18": taxCode], "items": ["*": item]])
    }

    // MARK: The books

    func stats() async -> (requests: Int, batches: Int, violations: Int, refreshGrants: Int) {
        (
            await sandbox.requestCounts[QuickBooksBench.realm] ?? 0,
            await sandbox.batchCounts[QuickBooksBench.realm] ?? 0, await sandbox.limitViolations,
            await sandbox.refreshGrants
        )
    }

    /// Each billing invoice once in the books, with its customer and billing's total; each customer once.
    func verify(invoices: Int, customers: Int) async throws -> String {
        let books = await sandbox.objects(realmID: QuickBooksBench.realm, entity: "Invoice")
        let numbers = Set(books.compactMap { $0["DocNumber"]?.stringValue })
        let expected = Set((1...invoices).map { "QB-\($0)" })
        guard books.count == invoices, numbers == expected else {
            throw Failure(
                description: "the books hold \(books.count) invoices with \(numbers.count) distinct numbers,"
                    + " \(expected.subtracting(numbers).count) of billing's missing")
        }
        let wrongTotals = books.filter { invoice in
            guard case .number(let total) = invoice["TotalAmt"] else { return true }
            return Decimal(string: total) != 57_820
        }
        guard wrongTotals.isEmpty else {
            throw Failure(description: "\(wrongTotals.count) invoices without billing's total, e.g. \(wrongTotals[0])")
        }
        let families = await sandbox.objects(realmID: QuickBooksBench.realm, entity: "Customer")
            .filter { $0["DisplayName"]?.stringValue?.hasPrefix("Family ") == true }
        guard families.count == customers,
            Set(families.compactMap { $0["DisplayName"]?.stringValue }).count == customers
        else { throw Failure(description: "the books hold \(families.count) of billing's \(customers) customers") }
        return "\(invoices) invoices, each once, each totalling 57,820.00; \(customers) customers, each once"
    }
}
