/// A transaction type as Sage 50's audit trail codes it (Sage knowledgebase "Transaction Types",
/// gb-kb.sage.com solutionid=200427112211627).
public enum Sage50TransactionType: String, Sendable, Hashable, CaseIterable {
    case bankPayment = "BP", bankReceipt = "BR", cashPayment = "CP", cashReceipt = "CR"
    case cardPayment = "VP", cardReceipt = "VR", journalCredit = "JC", journalDebit = "JD"
    case salesInvoice = "SI", salesCredit = "SC", salesPaymentOnAccount = "SA", salesReceipt = "SR"
    case salesPayment = "SP", salesDiscount = "SD"
    case purchaseInvoice = "PI", purchaseCredit = "PC", purchasePaymentOnAccount = "PA", purchasePayment = "PP"
    case purchaseReceipt = "PR", purchaseDiscount = "PD"

    /// A customer (sales ledger) transaction: its account is a customer's A/C.
    public var isSales: Bool { rawValue.first == "S" }
    /// A supplier (purchase ledger) transaction.
    public var isPurchase: Bool { rawValue.first == "P" }
    /// A journal: no account; debits and credits balance.
    public var isJournal: Bool { self == .journalCredit || self == .journalDebit }
    /// A bank, cash or card payment or receipt: its account is a bank account's nominal code.
    public var isBank: Bool { !isSales && !isPurchase && !isJournal }
    /// Money moving through a bank account on a customer or supplier account: its nominal code is the bank's.
    var movesMoney: Bool {
        switch self {
        case .salesPaymentOnAccount, .salesReceipt, .salesPayment, .purchasePaymentOnAccount, .purchasePayment,
            .purchaseReceipt:
            true
        default: false
        }
    }

    /// Whether File → Import takes the type. Sales receipts, purchase payments and discounts are refused: "You can't
    /// import Sales Receipt (SR) or Purchase Payment (PP) transactions. Instead import (SA) and (PA) … and manually
    /// allocate them" (Sage knowledgebase, gb-kb.sage.com k2dockey=250321114601443 and 200427112357427).
    public var isImportable: Bool {
        switch self {
        case .salesReceipt, .purchasePayment, .salesDiscount, .purchaseDiscount: false
        default: true
        }
    }
}

/// One transaction in a simulated Sage 50 company's audit trail.
public struct Sage50Transaction: Sendable, Hashable {
    /// The transaction number (`No.`), given in sequence from 1 and never reused.
    public var number: Int
    /// The type code.
    public var type: Sage50TransactionType
    /// The customer's A/C, a bank's nominal code for bank transactions, empty for journals.
    public var account: String
    /// The nominal code posted to; for receipts and payments, the bank account's.
    public var nominal: String
    /// The department, 0…999.
    public var department: Int
    /// The transaction date.
    public var date: Sage50Date
    /// `Ref` (≤ 30 characters).
    public var reference: String
    /// `Details` (≤ 60 characters).
    public var details: String
    /// `Ex.Ref` (≤ 30 characters).
    public var extraReference: String
    /// The net amount.
    public var net: Sage50Money
    /// The tax code's number: 1 for `T1`.
    public var taxCode: Int
    /// The VAT amount.
    public var tax: Sage50Money
    /// The Sage user who posted it.
    public var userName: String
    /// Money allocated to or from this transaction, by the other transaction's number.
    public var allocations: [Allocation] = []
    /// Deleted in Sage: kept in the audit trail, shown as deleted.
    public var isDeleted = false

    /// Part of a receipt set against an invoice (or an invoice paid by a receipt).
    public struct Allocation: Sendable, Hashable {
        /// The other transaction's number.
        public var number: Int
        /// The amount allocated.
        public var amount: Sage50Money
    }

    /// Net plus VAT.
    public var gross: Sage50Money { net + tax }
    /// What has been allocated.
    public var amountPaid: Sage50Money { allocations.reduce(.zero) { $0 + $1.amount } }
    /// What is left to allocate.
    public var outstanding: Sage50Money { gross - amountPaid }
    /// `T1`.
    public var taxCodeName: String { "T\(taxCode)" }
}
