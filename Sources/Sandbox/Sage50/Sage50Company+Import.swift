/// The outcome of File → Import in a simulated Sage 50 company.
public enum Sage50ImportResult: Sendable, Hashable {
    /// Nothing imported: the problems, every error among them.
    case refused([Sage50Problem])
    /// Imported: how many records or the transaction numbers given, and the warnings Sage 50 passed over.
    case imported(count: Int, numbers: [Int], warnings: [Sage50Problem])

    /// The transaction numbers given, empty when refused or for customer records.
    public var numbers: [Int] {
        if case .imported(_, let numbers, _) = self { numbers } else { [] }
    }

    /// The problems: every one when refused, the warnings when imported.
    public var problems: [Sage50Problem] {
        switch self {
        case .refused(let problems): problems
        case .imported(_, _, let warnings): warnings
        }
    }
}

extension Sage50Company {
    /// Imports a customer records file, all or nothing: checked first, and nothing changes if any row has an
    /// error. An A/C already in the company updates that record (the import is also how Sage users "amend a field in
    /// each of your records": "Importing Data into Sage", Sage guide); a blank field leaves the existing value
    /// ("Importing a blank unit of data does not overwrite data", Sage Line 50 help, "Comma Separated Values").
    public mutating func importCustomers(_ text: String) -> Sage50ImportResult {
        let file = Sage50Checker(company: self).checkCustomers(text)
        guard file.isImportable else { return .refused(file.problems) }
        for record in file.records {
            if var existing = customers[record.reference] {
                for (index, field) in record.fields.enumerated() where !field.isEmpty && index < existing.fields.count {
                    existing.fields[index] = field
                }
                customers[record.reference] = existing
            } else {
                customers[record.reference] = record
            }
        }
        return .imported(count: file.records.count, numbers: [], warnings: file.problems)
    }

    /// Imports an audit trail transactions file, all or nothing: checked first against the company as it is, and
    /// nothing is posted if any row has an error. Each line becomes one transaction, numbered in sequence in file
    /// order (the ungrouped import: one header per line). Sales payments on account (SA) stay unallocated until
    /// someone allocates them in Sage 50, as Sage's own advice for imported receipts says.
    public mutating func importTransactions(_ text: String) -> Sage50ImportResult {
        let file = Sage50Checker(company: self).checkTransactions(text)
        guard file.isImportable else { return .refused(file.problems) }
        var numbers: [Int] = []
        for line in file.lines {
            numbers.append(
                post(
                    Sage50Transaction(
                        number: 0, type: line.type, account: line.account, nominal: line.nominal,
                        department: line.department, date: line.date, reference: line.reference,
                        details: line.details, extraReference: line.extraReference, net: line.net,
                        taxCode: line.taxCode, tax: line.tax,
                        userName: line.userName.isEmpty ? userName : line.userName)))
        }
        return .imported(count: numbers.count, numbers: numbers, warnings: file.problems)
    }
}
