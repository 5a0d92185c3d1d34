/// The column layouts of Sage 50 UK's import files and of the exports the simulated company writes. The checker's
/// doc comment (`Sage50Checker`) says where each comes from.
public enum Sage50Layout {
    /// What a column holds and the limit Sage 50 puts on it.
    public enum Kind: Sendable, Hashable {
        /// Text of at most this many characters.
        case text(Int)
        /// The customer A/C: up to 8 characters, A–Z and 0–9.
        case accountReference
        /// A whole number in the range.
        case integer(ClosedRange<Int>)
        /// Money: 8 digits and 2 decimals.
        case money
        /// A percentage 0…99.99.
        case percentage
        /// A nominal code that exists in the company's chart.
        case nominalCode
        /// `T0`…`T99`.
        case taxCode
        /// `0` or `1`.
        case flag
    }

    /// One column: its header as the checker expects it and what it holds.
    public struct Column: Sendable, Hashable {
        /// The header text.
        public var name: String
        /// What the column holds.
        public var kind: Kind
    }

    /// The customer record import layout, columns A…AE. Names and sizes A…W from Sage's "Customer record data
    /// fields you can import" (gb-kb.sage.com k2dockey=250321114620507); X…AE in the order of the standard
    /// import (makingithappen.co.uk/CI/std/customer.htm), e-mail and web address sizes from excel2sage.co.uk.
    public static let customer: [Column] = [
        Column(name: "A/C", kind: .accountReference),
        Column(name: "Name", kind: .text(60)),
        Column(name: "Address Line 1", kind: .text(60)),
        Column(name: "Address Line 2", kind: .text(60)),
        Column(name: "Address Line 3", kind: .text(60)),
        Column(name: "Address Line 4", kind: .text(60)),
        Column(name: "Address Line 5", kind: .text(60)),
        Column(name: "Contact Name", kind: .text(30)),
        Column(name: "Telephone", kind: .text(30)),
        Column(name: "Fax", kind: .text(30)),
        Column(name: "Analysis 1", kind: .text(30)),
        Column(name: "Analysis 2", kind: .text(30)),
        Column(name: "Analysis 3", kind: .text(30)),
        Column(name: "Department", kind: .integer(0...999)),
        Column(name: "VAT Number", kind: .text(30)),
        Column(name: "M.T.D.", kind: .money),
        Column(name: "Y.T.D.", kind: .money),
        Column(name: "Prior Y.T.D.", kind: .money),
        Column(name: "Credit Limit", kind: .money),
        Column(name: "Trading Terms Text", kind: .text(30)),
        Column(name: "Settlement Due Days", kind: .integer(0...365)),
        Column(name: "Sett. Discount (%)", kind: .percentage),
        Column(name: "Default Nominal Code", kind: .nominalCode),
        Column(name: "Default Tax Code", kind: .taxCode),
        Column(name: "Trade Contact", kind: .text(30)),
        Column(name: "Telephone 2", kind: .text(30)),
        Column(name: "E-mail", kind: .text(255)),
        Column(name: "Web Address", kind: .text(255)),
        Column(name: "Discount (%)", kind: .percentage),
        Column(name: "Payment Due Days", kind: .integer(0...365)),
        Column(name: "Terms Agreed", kind: .flag),
    ]

    /// Indexes into `customer`.
    enum CustomerField {
        static let reference = 0, name = 1, firstAddressLine = 2, vatNumber = 14, email = 26
    }

    /// The audit trail transactions import layout, columns A…M, with the project and cost code columns N and O that
    /// later releases add (Sage's "Audit trail transaction data fields you can import", gb-kb.sage.com
    /// k2dockey=250321114601443; headers as the Audit Trail Transaction template spells them).
    public static let transaction: [Column] = [
        Column(name: "Type", kind: .text(2)),
        Column(name: "Account Reference", kind: .text(8)),
        Column(name: "Nominal A/C Ref", kind: .nominalCode),
        Column(name: "Department Code", kind: .integer(0...999)),
        Column(name: "Date", kind: .text(10)),
        Column(name: "Reference", kind: .text(30)),
        Column(name: "Details", kind: .text(60)),
        Column(name: "Net Amount", kind: .money),
        Column(name: "Tax Code", kind: .taxCode),
        Column(name: "Tax Amount", kind: .money),
        Column(name: "Exchange Rate", kind: .text(11)),
        Column(name: "Extra Reference", kind: .text(30)),
        Column(name: "User Name", kind: .text(32)),
        Column(name: "Project Refn", kind: .text(12)),
        Column(name: "Cost Code Refn", kind: .text(8)),
    ]

    /// Columns A…M: what every release takes; N and O are optional.
    static let transactionRequiredColumns = 13

    /// Indexes into `transaction`.
    enum TransactionField {
        static let type = 0, account = 1, nominal = 2, department = 3, date = 4, reference = 5, details = 6
        static let net = 7, taxCode = 8, tax = 9, exchangeRate = 10, extraReference = 11, userName = 12
        static let project = 13, costCode = 14
    }

    /// The audit trail export: one line per transaction, the columns of Sage 50's audit trail (Financials) list
    /// — No, Type, Account, Nominal, Dept, Details, Date, Ref, Ex.Ref, Net, Tax, T/C, Paid, Amount Paid, Bank,
    /// Bank Rec. Date, VAT (Sage Line 50 help "The Audit Trail"; Sage knowledgebase "The Transactions module") — then
    /// two of the simulator's: `Deleted` (Y when deleted in Sage) and `Allocations` (`12=50.00;13=20.00`: the other
    /// transactions' numbers and amounts, what Sage's detailed audit trail prints under "Payment allocations").
    public static let auditTrailExport = [
        "No", "Type", "Account", "Nominal", "Dept", "Details", "Date", "Ref", "Ex.Ref", "Net", "Tax", "T/C", "Paid",
        "Amount Paid", "Bank", "Bank Rec. Date", "VAT", "Deleted", "Allocations",
    ]
}
