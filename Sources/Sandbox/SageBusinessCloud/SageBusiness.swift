import Accounting
import Foundation

/// One Sage Business Cloud Accounting business as the emulator keeps it: its records by resource (`contacts`,
/// `sales_invoices`, …) and id, each as Sage answers it with `attributes=all`; when each was created, changed and
/// deleted (for `updated_or_created_since` and `deleted_since`); and its numbering.
///
/// The rules Sage enforces live in the extensions: references that must exist (`contact_id`, `ledger_account_id`,
/// `tax_rate_id`, `bank_account_id`, `artefact_id`), totals computed per line, allocations no larger than what is
/// outstanding, voids only without payments.
struct SageBusiness: Sendable {
    typealias Object = [String: JSONValue]

    /// A business's country: its currency and its tax rates (platforms.md §5.4: tax rates are fixed per region).
    enum Region: String, Sendable, CaseIterable {
        case unitedKingdom = "GB"
        case ireland = "IE"

        var currency: String {
            switch self {
            case .unitedKingdom: "GBP"
            case .ireland: "EUR"
            }
        }
    }

    let id: String
    let name: String
    let region: Region
    let created: Date
    private(set) var records: [String: [String: Object]] = [:]
    private(set) var order: [String: [String]] = [:]
    private(set) var changed: [String: [String: Date]] = [:]
    private(set) var deleted: [String: [(id: String, object: Object, at: Date)]] = [:]
    var nextInvoiceNumber = 1
    var nextCreditNoteNumber = 1

    init(id: String, name: String, region: Region, now: Date) {
        self.id = id
        self.name = name
        self.region = region
        self.created = now
        seed(now: now)
    }

    func all(_ resource: String) -> [Object] {
        (order[resource] ?? []).compactMap { records[resource]?[$0] }
    }

    func record(_ resource: String, _ id: String) -> Object? { records[resource]?[id] }

    func changedAt(_ resource: String, _ id: String) -> Date { changed[resource]?[id] ?? created }

    func deletions(_ resource: String) -> [(id: String, object: Object, at: Date)] { deleted[resource] ?? [] }

    /// Stores a record, stamping `created_at` (when new) and `updated_at` unless `stamped` is false (reference
    /// data whose schema has neither, such as currencies).
    mutating func store(_ resource: String, _ object: Object, now: Date, stamped: Bool = true) {
        guard let id = object["id"]?.stringValue else { return }
        var object = object
        let stamp = JSONValue.string(Self.instant(now))
        if records[resource]?[id] == nil {
            order[resource, default: []].append(id)
            if stamped { object["created_at"] = object["created_at"] ?? stamp }
        }
        if stamped { object["updated_at"] = stamp }
        object["$path"] = .string("/\(resource)/\(id)")
        records[resource, default: [:]][id] = object
        changed[resource, default: [:]][id] = now
    }

    /// Removes a record; `deleted_since` lists it from now on.
    mutating func remove(_ resource: String, _ id: String, now: Date) {
        guard var object = records[resource]?.removeValue(forKey: id) else { return }
        order[resource]?.removeAll { $0 == id }
        changed[resource]?.removeValue(forKey: id)
        object["deleted_at"] = .string(Self.instant(now))
        deleted[resource, default: []].append((id, object, now))
    }

    /// A reference to another record, as Sage nests one (`{"id", "displayed_as", "$path"}`).
    func link(_ resource: String, _ id: String) -> JSONValue {
        let displayed = records[resource]?[id]?["displayed_as"] ?? .string(id)
        return ["id": .string(id), "displayed_as": displayed, "$path": .string("/\(resource)/\(id)")]
    }

    // MARK: Seed

    /// A starting chart like a new Sage Accounting business's (nominal codes of Sage's UK and Irish charts), its
    /// region's tax rates, one current account and one of each catalogue item.
    private mutating func seed(now: Date) {
        for code in Self.currencies.keys.sorted() {
            var currency = currencyLink(code).objectValue ?? [:]
            currency.removeValue(forKey: "$path")
            store("currencies", currency, now: now, stamped: false)
        }
        for (id, name, percent) in Self.taxRates(region) {
            store(
                "tax_rates",
                [
                    "id": .string(id), "displayed_as": .string("\(name) \(Self.fixed(percent, places: 2))%"),
                    "name": .string(name), "percentage": Self.money(percent),
                    "percentages": [["percentage": Self.money(percent), "from_date": "2011-01-04"]],
                    "is_visible": true, "retailer": false, "editable": false, "deletable": false,
                    "is_combined_rate": false,
                ], now: now)
        }
        let standard = region == .unitedKingdom ? "GB_STANDARD" : "IE_STANDARD"
        for (code, name, type, sales) in Self.chart {
            store(
                "ledger_accounts",
                [
                    "id": .string(Self.newID()), "displayed_as": .string("\(name) (\(code))"), "name": .string(name),
                    "display_name": .string(name), "nominal_code": .number(String(code)),
                    "ledger_account_type": ["id": .string(type), "displayed_as": .string(Self.displayed(type))],
                    "included_in_chart": true, "visible_in_sales": .bool(sales), "visible_in_banking": true,
                    "visible_in_expenses": .bool(type == "OVERHEADS" || type == "DIRECT_EXPENSES"),
                    "visible_in_journals": true, "visible_in_other_payments": true,
                    "visible_in_other_receipts": .bool(sales), "visible_in_reporting": true,
                    "tax_rate": sales ? link("tax_rates", standard) : link("tax_rates", Self.noTax(region)),
                    "fixed_tax_rate": false, "is_control_account": .bool(code == 1100 || code == 2200),
                ], now: now)
        }
        let bankLedger = ledgerAccount(nominalCode: 1200) ?? ""
        store(
            "bank_accounts",
            [
                "id": .string(Self.newID()), "displayed_as": "Current (1200)", "nominal_code": 1200,
                "ledger_account": link("ledger_accounts", bankLedger),
                "bank_account_type": ["id": "CHECKING", "displayed_as": "Current"],
                "bank_account_details": [
                    "account_name": "Current", "account_number": "12345678", "sort_code": "401234",
                ],
                "balance": Self.money(0), "editable": true, "deletable": false,
            ], now: now)
        let sales = ledgerAccount(nominalCode: 4000) ?? ""
        let purchases = ledgerAccount(nominalCode: 5000) ?? ""
        store(
            "products",
            [
                "id": .string(Self.newID()), "displayed_as": "School uniform", "item_code": "UNIFORM",
                "description": "School uniform", "sales_ledger_account": link("ledger_accounts", sales),
                "purchase_ledger_account": link("ledger_accounts", purchases),
                "sales_tax_rate": link("tax_rates", standard), "cost_price": Self.money(12), "active": true,
                "deletable": true, "deactivatable": true, "used_on_recurring_invoice": false,
            ], now: now)
        store(
            "services",
            [
                "id": .string(Self.newID()), "displayed_as": "Tuition", "item_code": "TUITION",
                "description": "Tuition", "sales_ledger_account": link("ledger_accounts", sales),
                "sales_tax_rate": link("tax_rates", Self.exemptTax(region)), "active": true, "deletable": true,
                "deactivatable": true, "used_on_recurring_invoice": false,
            ], now: now)
    }

    /// `GET /financial_settings`: the business's currency, multi-currency on, accrual accounting, a financial year
    /// ending 31 March, VAT on invoices.
    var financialSettings: Object {
        [
            "$path": "/financial_settings", "base_currency": currencyLink(region.currency),
            "multi_currency_enabled": true, "use_live_exchange_rates": false, "accounting_type": "accrual",
            "year_end_date": "2027-03-31", "accounts_start_date": .string(Self.day(created)),
            "sales_tax_calculation": "invoice", "purchase_tax_calculation": "invoice",
            "updated_at": .string(Self.instant(created)),
        ]
    }

    /// The ledger account with a nominal code.
    func ledgerAccount(nominalCode: Int) -> String? {
        all("ledger_accounts").first { $0["nominal_code"]?.intValue == nominalCode }?["id"]?.stringValue
    }

    /// Each region's tax rates, by Sage's ids (`GB_STANDARD`, …): the UK's VAT rates and Ireland's.
    static func taxRates(_ region: Region) -> [(id: String, name: String, percent: Decimal)] {
        switch region {
        case .unitedKingdom:
            [
                ("GB_STANDARD", "Standard", 20), ("GB_REDUCED", "Reduced", 5), ("GB_ZERO", "Zero", 0),
                ("GB_EXEMPT", "Exempt", 0), ("GB_NO_TAX", "No Tax", 0),
            ]
        case .ireland:
            [
                ("IE_STANDARD", "Standard", 23), ("IE_REDUCED", "Reduced", Decimal(string: "13.5") ?? 0),
                ("IE_SECOND_REDUCED", "Second Reduced", 9), ("IE_ZERO", "Zero", 0), ("IE_EXEMPT", "Exempt", 0),
                ("IE_NO_TAX", "No Tax", 0),
            ]
        }
    }

    static func noTax(_ region: Region) -> String { region == .unitedKingdom ? "GB_NO_TAX" : "IE_NO_TAX" }
    static func exemptTax(_ region: Region) -> String { region == .unitedKingdom ? "GB_EXEMPT" : "IE_EXEMPT" }

    /// Part of a new business's chart: nominal code, name, `ledger_account_type` id, visible in sales.
    static let chart: [(Int, String, String, Bool)] = [
        (1100, "Trade Debtors", "CURRENT_ASSETS", false), (1200, "Current", "BANK", false),
        (1210, "Savings", "BANK", false), (2100, "Trade Creditors", "CURRENT_LIABILITY", false),
        (2200, "VAT on Sales", "CURRENT_LIABILITY", false), (4000, "Sales Type A", "SALES", true),
        (4010, "Sales Type B", "SALES", true), (4020, "Sales Type C", "SALES", true),
        (4900, "Other Income", "OTHER_INCOME", true), (4905, "Tuition Fees", "SALES", true),
        (5000, "Cost of sales - goods", "DIRECT_EXPENSES", false), (7500, "Office costs", "OVERHEADS", false),
    ]

    static func displayed(_ type: String) -> String {
        type.split(separator: "_").map { $0.prefix(1) + $0.dropFirst().lowercased() }.joined(separator: " ")
    }
}
