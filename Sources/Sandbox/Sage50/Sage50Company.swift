/// A customer record in a simulated Sage 50 company: the 31 fields of the customer record layout.
public struct Sage50Customer: Sendable, Hashable {
    /// The fields in `Sage50Layout.customer` order; `fields[0]` is the A/C.
    public var fields: [String]

    /// The A/C.
    public var reference: String { field(Sage50Layout.CustomerField.reference) }
    /// The company name.
    public var name: String { field(Sage50Layout.CustomerField.name) }
    /// The first e-mail address.
    public var email: String { field(Sage50Layout.CustomerField.email) }

    /// The field at `index`, empty if the record is shorter.
    public func field(_ index: Int) -> String {
        fields.indices.contains(index) ? fields[index] : ""
    }
}

/// A simulated Sage 50 UK company: the state File → Import changes and the audit trail export reads.
///
/// A value: importing or typing in Sage is a `mutating` call, so a test holds a company, imports the files
/// Ledgerwire exported, acts as the finance manager would, and reads the export back. Imports are all or nothing:
/// the whole file is validated first and nothing is posted if Sage 50 would refuse any row (the import "validates
/// and lists errors such as 'Account not found', 'Date out of range'" before it posts: gtsagedev.co.uk daybook
/// import, written to behave as Sage 50's).
public struct Sage50Company: Sendable {
    /// The company's name.
    public var name: String
    /// The chart of accounts: nominal code → name.
    public var nominalCodes: [String: String]
    /// The nominal codes that are bank accounts (receipts and payments post to one of them).
    public var bankAccounts: Set<String>
    /// VAT rates by tax code number (`1` for T1) in hundredths of a per cent: 2000 = 20 %.
    public var taxRates: [Int: Int64]
    /// The first day of the financial year.
    public var financialYearStart: Sage50Date
    /// Sage 50's program date: what a blank date in an import file becomes.
    public var programDate: Sage50Date
    /// Transactions dated on or before it are refused (Settings → Lock date); `nil` when none is set.
    public var lockDate: Sage50Date?
    /// The Sage user typing transactions in (`MANAGER` in a new company).
    public var userName = "MANAGER"
    /// Customer records by A/C.
    public internal(set) var customers: [String: Sage50Customer] = [:]
    /// The audit trail: `transactions[n - 1]` is transaction number `n`.
    public internal(set) var transactions: [Sage50Transaction] = []

    /// A new company with the UK default chart (the codes a school's billing uses of Sage 50's default layout) and
    /// tax codes: T0 zero rated, T1 standard 20 %, T2 exempt, T5 reduced 5 %, T9 outside the scope of VAT, T8
    /// standard-rated EC purchases 20 %; every other code of T0…T99 exists at 0 %, as in a new Sage 50 company.
    public init(name: String, financialYearStart: Sage50Date, programDate: Sage50Date) {
        self.name = name
        self.financialYearStart = financialYearStart
        self.programDate = programDate
        nominalCodes = [
            "1100": "Debtors Control Account", "1103": "Prepayments", "1200": "Bank Current Account",
            "1210": "Bank Deposit Account", "1220": "Building Society Account", "1230": "Petty Cash",
            "1240": "Company Credit Card", "2100": "Creditors Control Account", "2200": "Sales Tax Control Account",
            "2201": "Purchase Tax Control Account", "3200": "Profit and Loss Account", "4000": "Sales Type A",
            "4001": "Sales Type B", "4002": "Sales Type C", "4009": "Discounts Allowed", "4900": "Miscellaneous Income",
            "5000": "Materials Purchased", "7502": "Telephone", "9998": "Suspense Account",
            "9999": "Mispostings Account",
        ]
        bankAccounts = ["1200", "1210", "1220", "1230", "1240"]
        var rates: [Int: Int64] = [:]
        for code in 0...99 { rates[code] = 0 }
        rates[1] = 2000
        rates[5] = 500
        rates[8] = 2000
        taxRates = rates
    }

    /// Transaction number `number`, if there is one.
    public func transaction(_ number: Int) -> Sage50Transaction? {
        guard number >= 1, number <= transactions.count else { return nil }
        return transactions[number - 1]
    }

    /// What `account` owes: its invoices less its credits and receipts, deleted transactions left out.
    public func balance(of account: String) -> Sage50Money {
        transactions.filter { $0.account == account && !$0.isDeleted }.reduce(.zero) { total, transaction in
            switch transaction.type {
            case .salesInvoice, .salesPayment: total + transaction.gross
            case .salesCredit, .salesReceipt, .salesPaymentOnAccount, .salesDiscount: total - transaction.gross
            default: total
            }
        }
    }

    /// The last day of the financial year.
    public var financialYearEnd: Sage50Date { financialYearStart.endOfYearStartingHere }

    mutating func post(_ transaction: Sage50Transaction) -> Int {
        var transaction = transaction
        transaction.number = transactions.count + 1
        transactions.append(transaction)
        return transaction.number
    }
}
