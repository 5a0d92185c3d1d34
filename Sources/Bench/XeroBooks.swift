import Accounting
import Foundation
import Sandbox

/// The Xero bench's part of the world: the integration connected and mapped, and the books read, through the Xero
/// emulator.
struct XeroBooks: Sendable {
    let world: BenchWorld
    let sandbox: XeroSandbox
    /// The organisation's tenant id.
    let organisation: String
    /// The Accounting API calls the emulator answered, by method.
    let calls: XeroCalls

    typealias Failure = BenchWorld.Failure

    /// Billing's invoice numbers: this and the invoice's index.
    static let numberPrefix = "XB-"
    static let clientID = "bench-client"
    static let clientSecret = "bench-secret"

    /// An integration pointed at the emulator, connected to the organisation through its OAuth consent.
    func connect() async throws -> String {
        let callback = world.ledgerwire + "/oauth/callback"
        // Xero takes only the redirect URIs registered on the app, exactly.
        await sandbox.registerClient(id: Self.clientID, secret: Self.clientSecret, redirectURIs: [callback])
        let emulator = world.emulator
        return try await world.connect(
            platform: "xero",
            settings: [
                "client_id": .string(Self.clientID), "client_secret": .string(Self.clientSecret),
                "redirect_uri": .string(callback), "api_base_url": .string(emulator + "/api.xro/2.0"),
                "connections_url": .string(emulator + "/connections"),
                "oauth_authorize_url": .string(emulator + "/identity/connect/authorize"),
                "oauth_token_url": .string(emulator + "/connect/token"),
                "oauth_revoke_url": .string(emulator + "/connect/revocation"),
            ],
            consent: { authorizeURL in
                XeroConsent(authorizeURL: authorizeURL, tenantIDs: [organisation]).map {
                    ($0.action, XeroConsent.contentType, $0.body)
                }
            })
    }

    /// Both revenue accounts to Sales (200), GST 18 % to the organisation's tax rate, the bank account 090.
    func map(_ integrationID: String) async throws {
        let chart = try await world.api("GET", "/integrations/\(integrationID)/remote-accounts")
        let taxes = chart["tax_codes"]?.arrayValue ?? []
        guard let gst = taxes.first(where: { $0["name"]?.stringValue?.contains("18") == true })?["id"] else {
            throw Failure(description: "no GST 18 % tax rate among \(taxes)")
        }
        try await world.api(
            "PUT", "/integrations/\(integrationID)/mappings",
            [
                "accounts": ["4000-TUITION": "200", "4100-TRANSPORT": "200"], "tax_codes": ["GST18": gst],
                "deposit_accounts": ["BANK-MAIN": "090"],
            ])
    }

    // MARK: The books

    func count() async -> BooksCount {
        BooksCount(
            invoices: await sandbox.count(tenantID: organisation, collection: "Invoices"),
            customers: await sandbox.count(tenantID: organisation, collection: "Contacts"))
    }

    func stats() async -> (requests: Int, writes: Int, reads: Int, violations: Int, refreshGrants: Int) {
        let byMethod = calls.all
        return (
            await sandbox.requestCounts[organisation] ?? 0, (byMethod["PUT"] ?? 0) + (byMethod["POST"] ?? 0),
            byMethod["GET"] ?? 0, await sandbox.limitViolations, await sandbox.refreshGrants
        )
    }

    /// Each billing invoice once in the books (by `InvoiceNumber`), with billing's total; each contact once.
    func verify(invoices: Int, customers: Int) async throws -> String {
        let books = await sandbox.objects(tenantID: organisation, collection: "Invoices")
        let numbers = Set(books.compactMap { $0["InvoiceNumber"]?.stringValue })
        let expected = Set((1...invoices).map { Self.numberPrefix + String($0) })
        guard books.count == invoices, numbers == expected else {
            throw Failure(
                description: "the books hold \(books.count) invoices with \(numbers.count) distinct numbers,"
                    + " \(expected.subtracting(numbers).count) of billing's missing")
        }
        let wrongTotals = books.filter { invoice in
            guard case .number(let total) = invoice["Total"] else { return true }
            return Decimal(string: total) != 57_820
        }
        guard wrongTotals.isEmpty else {
            throw Failure(description: "\(wrongTotals.count) invoices without billing's total, e.g. \(wrongTotals[0])")
        }
        let families = await sandbox.objects(tenantID: organisation, collection: "Contacts")
            .filter { $0["Name"]?.stringValue?.hasPrefix("Family ") == true }
        guard families.count == customers, Set(families.compactMap { $0["Name"]?.stringValue }).count == customers
        else { throw Failure(description: "the books hold \(families.count) of billing's \(customers) contacts") }
        return "\(invoices) invoices, each once, each totalling 57,820.00; \(customers) contacts, each once"
    }
}
