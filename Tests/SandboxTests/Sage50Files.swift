@testable import Sandbox

/// Files and a company for the Sage 50 checker and company tests, written as a school's export would be.
enum Sage50Files {
    /// A company whose financial year starts on 1 September 2026, program date 2 December 2026.
    static func company() -> Sage50Company {
        Sage50Company(name: "Hillside School", financialYearStart: date("01/09/2026"), programDate: date("02/12/2026"))
    }

    static func date(_ text: String) -> Sage50Date {
        Sage50Date(parsing: text) ?? Sage50Date(day: 1, month: 1, year: 2000)!
    }

    static func money(_ text: String) -> Sage50Money { Sage50Money(parsing: text) ?? .zero }

    /// The customer layout's header row.
    static let customerHeader = Sage50CSV.line(Sage50Layout.customer.map(\.name))

    /// One customer row of 31 fields; `changes` sets fields by column name.
    static func customer(_ reference: String, _ name: String, _ changes: [String: String] = [:]) -> String {
        var fields = Array(repeating: "", count: Sage50Layout.customer.count)
        fields[0] = reference
        fields[1] = name
        fields[2] = "1 High Street"
        fields[5] = "Leeds"
        fields[6] = "LS1 1AA"
        fields[26] = "accounts@\(reference.lowercased()).example"
        fields[23] = "T1"
        for (column, value) in changes {
            if let index = Sage50Layout.customer.firstIndex(where: { $0.name == column }) { fields[index] = value }
        }
        return Sage50CSV.line(fields)
    }

    /// The transaction layout's header row (13 columns).
    static let transactionHeader = Sage50CSV.line(Sage50Layout.transaction.prefix(13).map(\.name))

    /// One transaction row of 13 fields.
    static func line(
        _ type: String, _ account: String, _ nominal: String, date: String = "15/10/2026", reference: String,
        details: String = "Autumn term fees", net: String, code: String = "T1", tax: String,
        extra: String = "", user: String = "LEDGERWIRE"
    ) -> String {
        Sage50CSV.line([type, account, nominal, "0", date, reference, details, net, code, tax, "1", extra, user])
    }

    /// Two customers, no header.
    static let customers = customer("PARK01", "Mrs J Park") + customer("OKAFOR02", "Okafor, Mr & Mrs \"Ade\"")

    /// An invoice per customer, a credit and a payment on account.
    static let transactions =
        transactionHeader
        + line("SI", "PARK01", "4000", reference: "LW-INV-1001", net: "1500.00", tax: "300.00", extra: "lw:inv_1")
        + line("SI", "OKAFOR02", "4000", reference: "LW-INV-1002", net: "1250.50", code: "T0", tax: "0.00")
        + line("SC", "PARK01", "4000", reference: "LW-CRN-1", details: "Sibling discount", net: "100.00", tax: "20.00")
        + line(
            "SA", "PARK01", "1200", reference: "LW-PAY-1", details: "Card payment", net: "500.00", code: "T9",
            tax: "0.00")

    /// A company holding the two customers.
    static func companyWithCustomers() -> Sage50Company {
        var company = company()
        _ = company.importCustomers(customers)
        return company
    }

    /// The audit trail export's rows as fields, header first.
    static func exported(_ text: String) -> [[String]] {
        Sage50CSV.read(text).rows.map(\.fields)
    }
}
