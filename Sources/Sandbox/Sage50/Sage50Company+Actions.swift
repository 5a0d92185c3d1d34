/// Why Sage 50 refuses something typed in it.
public enum Sage50ActionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No such customer A/C.
    case unknownAccount(String)
    /// The nominal code is not a bank account.
    case notABankAccount(String)
    /// No such transaction, or one deleted.
    case unknownTransaction(Int)
    /// The transaction is not of a kind the action applies to.
    case wrongType(Int, Sage50TransactionType)
    /// The transaction belongs to another customer.
    case otherAccount(Int)
    /// More than is outstanding, or not more than zero.
    case badAmount(String)
    /// The transaction has allocations: unallocate first.
    case allocated(Int)
    /// The date is on or before the lock date.
    case locked(Sage50Date)

    /// The message, as plain as Sage's own.
    public var description: String {
        switch self {
        case .unknownAccount(let account): "Account \(account) does not exist."
        case .notABankAccount(let code): "\(code) is not a bank account."
        case .unknownTransaction(let number): "Transaction \(number) does not exist or has been deleted."
        case .wrongType(let number, let type): "Transaction \(number) is an \(type.rawValue)."
        case .otherAccount(let number): "Transaction \(number) belongs to another account."
        case .badAmount(let message): message
        case .allocated(let number):
            "Transaction \(number) has payments allocated to it; unallocate them first."
        case .locked(let date): "\(date) is on or before the lock date."
        }
    }
}

extension Sage50Company {
    /// Bank → Customer Receipt as a finance manager types it: `amount` received from `account` into `bank`,
    /// `allocations` set against invoices (transaction number and amount). The allocated part is posted as one sales
    /// receipt (SR); what is left over as a payment on account (SA), as Sage 50 does. Returns the numbers posted.
    @discardableResult
    public mutating func enterCustomerReceipt(
        account: String, bank: String = "1200", date: Sage50Date, reference: String, amount: Sage50Money,
        allocations: [(invoice: Int, amount: Sage50Money)]
    ) throws(Sage50ActionError) -> [Int] {
        guard customers[account] != nil else { throw .unknownAccount(account) }
        guard bankAccounts.contains(bank) else { throw .notABankAccount(bank) }
        if let lockDate, date <= lockDate { throw .locked(date) }
        guard amount > .zero, amount.pence <= Sage50Money.limit else {
            throw .badAmount("The receipt must be more than 0.00 and at most 99999999.99.")
        }
        var allocated = Sage50Money.zero
        var remaining: [Int: Sage50Money] = [:]
        for (invoice, part) in allocations {
            guard let target = transaction(invoice), !target.isDeleted else { throw .unknownTransaction(invoice) }
            guard target.type == .salesInvoice else { throw .wrongType(invoice, target.type) }
            guard target.account == account else { throw .otherAccount(invoice) }
            let left = remaining[invoice] ?? target.outstanding
            guard part > .zero, part <= left else {
                throw .badAmount("\(part) is more than the \(left) outstanding on transaction \(invoice).")
            }
            remaining[invoice] = left - part
            allocated = allocated + part
        }
        guard allocated <= amount else {
            throw .badAmount("The allocations (\(allocated)) are more than the receipt (\(amount)).")
        }
        var numbers: [Int] = []
        if allocated > .zero {
            let number = post(
                Sage50Transaction(
                    number: 0, type: .salesReceipt, account: account, nominal: bank, department: 0, date: date,
                    reference: reference, details: "Sales Receipt", extraReference: "", net: allocated, taxCode: 9,
                    tax: .zero, userName: userName))
            for (invoice, part) in allocations { link(receipt: number, invoice: invoice, amount: part) }
            numbers.append(number)
        }
        if allocated < amount {
            numbers.append(
                post(
                    Sage50Transaction(
                        number: 0, type: .salesPaymentOnAccount, account: account, nominal: bank, department: 0,
                        date: date, reference: reference, details: "Payment on Account", extraReference: "",
                        net: amount - allocated, taxCode: 9, tax: .zero, userName: userName)))
        }
        return numbers
    }

    /// Customers → Allocate: sets `amount` of a payment on account (SA, as imported receipts arrive) or of a credit
    /// note (SC) against an invoice of the same customer. A payment on account fully allocated becomes a sales
    /// receipt (SR): the reverse of Sage's Unallocate, which turns an SR back into an SA (Sage knowledgebase, "The
    /// Transactions module").
    public mutating func allocate(payment: Int, to invoice: Int, amount: Sage50Money) throws(Sage50ActionError) {
        guard let receipt = transaction(payment), !receipt.isDeleted else { throw .unknownTransaction(payment) }
        guard receipt.type == .salesPaymentOnAccount || receipt.type == .salesCredit else {
            throw .wrongType(payment, receipt.type)
        }
        guard let target = transaction(invoice), !target.isDeleted else { throw .unknownTransaction(invoice) }
        guard target.type == .salesInvoice else { throw .wrongType(invoice, target.type) }
        guard target.account == receipt.account else { throw .otherAccount(invoice) }
        guard amount > .zero, amount <= receipt.outstanding, amount <= target.outstanding else {
            throw .badAmount(
                "\(amount) is more than is left on the payment (\(receipt.outstanding)) or the invoice "
                    + "(\(target.outstanding)).")
        }
        link(receipt: payment, invoice: invoice, amount: amount)
        if receipt.type == .salesPaymentOnAccount, transactions[payment - 1].outstanding == .zero {
            transactions[payment - 1].type = .salesReceipt
        }
    }

    /// Edits an invoice's or credit's net and VAT (File → Maintenance → Corrections). The amount is a critical
    /// field: Sage 50 changes the original transaction and posts a new, deleted one holding the original details,
    /// with the details "Deleted - see tran N" (Sage knowledgebase, "Deleted - see tran", k2dockey=200427112207404).
    /// Returns the number of the deleted copy.
    @discardableResult
    public mutating func editAmount(of number: Int, net: Sage50Money, tax: Sage50Money) throws(Sage50ActionError) -> Int
    {
        guard let original = transaction(number), !original.isDeleted else { throw .unknownTransaction(number) }
        guard original.type == .salesInvoice || original.type == .salesCredit else {
            throw .wrongType(number, original.type)
        }
        guard original.allocations.isEmpty else { throw .allocated(number) }
        guard net > .zero, net.pence <= Sage50Money.limit, tax.pence >= 0, tax.pence <= Sage50Money.limit else {
            throw .badAmount("The net must be more than 0.00 and both amounts at most 99999999.99.")
        }
        var copy = original
        copy.details = "Deleted - see tran \(number)"
        copy.isDeleted = true
        copy.userName = userName
        let copyNumber = post(copy)
        transactions[number - 1].net = net
        transactions[number - 1].tax = tax
        return copyNumber
    }

    /// Deletes a transaction (Transactions → Delete): it stays in the audit trail, marked deleted. One with
    /// allocations is refused until they are unallocated.
    public mutating func delete(_ number: Int) throws(Sage50ActionError) {
        guard let target = transaction(number), !target.isDeleted else { throw .unknownTransaction(number) }
        guard target.allocations.isEmpty else { throw .allocated(number) }
        transactions[number - 1].isDeleted = true
    }

    mutating func link(receipt: Int, invoice: Int, amount: Sage50Money) {
        transactions[receipt - 1].allocations.append(.init(number: invoice, amount: amount))
        transactions[invoice - 1].allocations.append(.init(number: receipt, amount: amount))
    }
}
