extension Sage50Company {
    /// The audit trail as a CSV file (`Sage50Layout.auditTrailExport`): a header row, then one line per transaction
    /// from number `first` on, in number order, deleted ones included and flagged. Dates `DD/MM/YYYY`, amounts with
    /// two decimals, lines ended by CRLF.
    ///
    /// `Paid` is Sage's paid flag (`Y` when nothing is outstanding, `N` otherwise); `Amount Paid` what is allocated;
    /// `Bank` the bank account of a receipt or payment; `Bank Rec. Date` is blank (the simulated company does not
    /// reconcile); `VAT` is `N` (not VAT-reconciled) for a transaction carrying VAT and `-` for one that cannot.
    public func auditTrailCSV(from first: Int = 1) -> String {
        var text = Sage50CSV.line(Sage50Layout.auditTrailExport)
        for transaction in transactions where transaction.number >= first {
            let carriesVAT = !transaction.type.movesMoney && !transaction.type.isJournal
            let bank =
                transaction.type.movesMoney ? transaction.nominal : (transaction.type.isBank ? transaction.account : "")
            text += Sage50CSV.line([
                "\(transaction.number)",
                transaction.type.rawValue,
                transaction.account,
                transaction.nominal,
                "\(transaction.department)",
                transaction.details,
                "\(transaction.date)",
                transaction.reference,
                transaction.extraReference,
                "\(transaction.net)",
                "\(transaction.tax)",
                transaction.taxCodeName,
                transaction.outstanding == .zero ? "Y" : "N",
                "\(transaction.amountPaid)",
                bank,
                "",
                carriesVAT ? "N" : "-",
                transaction.isDeleted ? "Y" : "N",
                transaction.allocations.map { "\($0.number)=\($0.amount)" }.joined(separator: ";"),
            ])
        }
        return text
    }

    /// The customer list as Sage 50's "Customer Record CSV" report writes it: the customer record import layout
    /// (Sage's data fields article names that report as the one writing the import format), with a header row, one
    /// customer per line in A/C order. The checker reads it back as an import file.
    public func customerListCSV() -> String {
        var text = Sage50CSV.line(Sage50Layout.customer.map(\.name))
        for reference in customers.keys.sorted() {
            if let customer = customers[reference] { text += Sage50CSV.line(customer.fields) }
        }
        return text
    }
}
