/// One audit trail transaction line as the checker read it, blanks replaced by Sage 50's defaults.
public struct Sage50TransactionLine: Sendable, Hashable {
    /// The row in the file.
    public var row: Int
    /// The type.
    public var type: Sage50TransactionType
    /// `Account Reference`.
    public var account: String
    /// `Nominal A/C Ref`.
    public var nominal: String
    /// `Department Code` (blank: 0).
    public var department: Int
    /// `Date` (blank: the program date).
    public var date: Sage50Date
    /// `Reference`.
    public var reference: String
    /// `Details`.
    public var details: String
    /// `Net Amount`.
    public var net: Sage50Money
    /// `Tax Code`'s number (blank: 0).
    public var taxCode: Int
    /// `Tax Amount` (blank: 0.00).
    public var tax: Sage50Money
    /// `Extra Reference`.
    public var extraReference: String
    /// `User Name`.
    public var userName: String
}

/// An audit trail transactions file as the checker read it.
public struct Sage50TransactionFile: Sendable {
    /// The lines that could be read, in file order; a line with an error in a field it cannot do without (type,
    /// date, net amount, tax code) is left out.
    public var lines: [Sage50TransactionLine]
    /// Every problem found, in row order.
    public var problems: [Sage50Problem]
    /// Whether the first row was taken as a header.
    public var hasHeaderRow: Bool

    /// Whether Sage 50 would import the file: no problem is an error.
    public var isImportable: Bool { !problems.contains { $0.severity == .error } }
}

extension Sage50Checker {
    /// Checks an audit trail transactions import file (layout `Sage50Layout.transaction`). Sales accounts may be in
    /// the company or in `customers`, the customer file imported just before.
    public func checkTransactions(_ text: String, customers: Sage50CustomerFile? = nil) -> Sage50TransactionFile {
        let layout = Sage50Layout.transaction
        typealias F = Sage50Layout.TransactionField
        var (rows, problems) = Sage50CSV.read(text)
        var hasHeader = false
        if let first = rows.first, Self.isHeader(first, of: layout) {
            hasHeader = true
            problems += Self.headerProblems(first, layout: layout)
            if first.fields.count < Sage50Layout.transactionRequiredColumns {
                problems.append(
                    .init(
                        row: first.number, column: nil,
                        "The header has \(first.fields.count) columns; Sage 50's layout has "
                            + "\(Sage50Layout.transactionRequiredColumns) (Type to User Name)."
                    ))
            }
            rows.removeFirst()
        }
        if rows.isEmpty, problems.isEmpty {
            problems.append(.init(row: 1, column: nil, "The file holds no transactions."))
        }
        let fileCustomers = Set(customers?.records.map(\.reference) ?? [])
        var lines: [Sage50TransactionLine] = []
        for row in rows {
            guard row.fields.count == Sage50Layout.transactionRequiredColumns || row.fields.count == layout.count
            else {
                problems.append(
                    .init(
                        row: row.number, column: nil,
                        "The row has \(row.fields.count) fields; the audit trail layout has 13 (Type to User Name), "
                            + "or 15 with Project Refn and Cost Code Refn, empty ones included."))
                continue
            }
            func problem(_ index: Int, _ message: String, _ severity: Sage50Problem.Severity = .error) {
                problems.append(.init(row: row.number, column: layout[index].name, message, severity: severity))
            }
            for index in [F.department, F.reference, F.details, F.extraReference, F.userName] {
                if let message = fieldProblem(row[index], kind: layout[index].kind) { problem(index, message) }
            }
            for index in [F.account, F.reference, F.details, F.extraReference, F.userName] {
                if let problem = Self.encodingProblem(row[index], row: row.number, column: layout[index].name) {
                    problems.append(problem)
                }
            }
            for index in [F.project, F.costCode] where !row[index].isEmpty {
                // A new company has no projects or cost codes, so any is unknown.
                problem(index, "\(Self.shortened(row[index])) is not a project or cost code in the company.")
            }

            let type = Sage50TransactionType(rawValue: row[F.type])
            if let type, !type.isImportable {
                problem(
                    F.type,
                    "Sage 50 cannot import \(type.rawValue) transactions; import a "
                        + (type.isSales ? "sales payment on account (SA)" : "purchase payment on account (PA)")
                        + " and allocate it in Sage 50.")
            } else if type == nil {
                problem(
                    F.type,
                    "\"\(Self.shortened(row[F.type]))\" is not a transaction type Sage 50 imports (BP, BR, CP, CR, VP, "
                        + "VR, JC, JD, SI, SC, SA, SP, PI, PC, PA, PR).")
            }

            let account = row[F.account]
            if let type {
                if type.isSales {
                    if account.isEmpty {
                        problem(F.account, "The customer's account reference is required for \(type.rawValue).")
                    } else if company.customers[account] == nil, !fileCustomers.contains(account) {
                        problem(
                            F.account,
                            "Account not found: \(Self.shortened(account)) is not a customer in the company or in "
                                + "the customer file.")
                    }
                } else if type.isPurchase {
                    problem(
                        F.account,
                        account.isEmpty
                            ? "The supplier's account reference is required for \(type.rawValue)."
                            : "Account not found: \(Self.shortened(account)) is not a supplier in the company.")
                } else if type.isBank, !company.bankAccounts.contains(account) {
                    problem(
                        F.account,
                        account.isEmpty
                            ? "The bank account is required for \(type.rawValue)."
                            : "\(Self.shortened(account)) is not a bank account in the company.")
                }
            }

            let nominal = row[F.nominal]
            if nominal.isEmpty {
                problem(F.nominal, "The nominal code is required.")
            } else if company.nominalCodes[nominal] == nil {
                problem(F.nominal, "Nominal code \(Self.shortened(nominal)) is not in the company's chart of accounts.")
            } else if let type, type.movesMoney, !company.bankAccounts.contains(nominal) {
                problem(
                    F.nominal,
                    "For \(type.rawValue) the nominal code is the bank account the money moved through; \(nominal) "
                        + "is not a bank account.")
            }

            var date: Sage50Date? = company.programDate
            if !row[F.date].isEmpty {
                date = Sage50Date(parsing: row[F.date])
                if date == nil {
                    problem(F.date, "\"\(Self.shortened(row[F.date]))\" is not a date as Sage 50 takes it: DD/MM/YYYY.")
                }
            }
            if let date {
                if let lock = company.lockDate, date <= lock {
                    problem(F.date, "\(date) is on or before the lock date \(lock); Sage 50 refuses it.")
                } else if date < company.financialYearStart || date > company.financialYearEnd {
                    problem(
                        F.date,
                        "\(date) is outside the financial year \(company.financialYearStart) to "
                            + "\(company.financialYearEnd).", .warning)
                }
            }

            let net = netAmount(row[F.net], problem: { problem(F.net, $0) })
            let taxCode: Int? = row[F.taxCode].isEmpty ? 0 : Self.taxCode(row[F.taxCode])
            if taxCode == nil {
                problem(F.taxCode, "\"\(Self.shortened(row[F.taxCode]))\" is not a tax code T0 to T99.")
            }
            var tax: Sage50Money? = .zero
            if !row[F.tax].isEmpty {
                tax = Sage50Money(parsing: row[F.tax])
                if tax == nil {
                    problem(
                        F.tax,
                        "\"\(Self.shortened(row[F.tax]))\" is not an amount as Sage 50 takes it: up to 8 digits "
                            + "and 2 decimals, no sign.")
                }
            }
            if let type, let net, let taxCode, let tax {
                let rate = company.taxRates[taxCode] ?? 0
                if type.movesMoney || type.isJournal {
                    if tax != .zero {
                        problem(
                            F.tax, "A \(type.rawValue) carries no VAT; Sage 50 would post \(tax) to the VAT account.",
                            .warning)
                    }
                } else {
                    let expected = net.tax(atBasisPoints: rate)
                    if (tax - expected).pence.magnitude > 1 {
                        problem(
                            F.tax,
                            "\(tax) is not T\(taxCode)'s \(Self.percent(rate)) of \(net) (\(expected)); Sage 50 posts "
                                + "the VAT written, so the books would not match the invoice.", .warning)
                    }
                }
            }

            let rate = row[F.exchangeRate]
            if !rate.isEmpty, rate != "1", rate != "1.0", rate != "1.00" {
                problem(
                    F.exchangeRate,
                    "\(Self.shortened(rate)): the company has no foreign currencies; Sage 50 takes only 1 or blank.")
            }

            if let type, let date, let net, let taxCode, let tax {
                lines.append(
                    Sage50TransactionLine(
                        row: row.number, type: type, account: account, nominal: nominal,
                        department: Int(row[F.department]) ?? 0, date: date, reference: row[F.reference],
                        details: row[F.details], net: net, taxCode: taxCode, tax: tax,
                        extraReference: row[F.extraReference], userName: row[F.userName]))
            }
        }
        problems += journalProblems(lines)
        problems = problems.inRowOrder()
        return Sage50TransactionFile(lines: lines, problems: problems, hasHeaderRow: hasHeader)
    }

    func netAmount(_ text: String, problem: (String) -> Void) -> Sage50Money? {
        if text.isEmpty {
            problem("The net amount is required.")
            return nil
        }
        if text.first == "-" {
            problem(
                "\(Self.shortened(text)) is negative; Sage 50 takes positive amounts "
                    + "(a credit is an SC, a refund an SP)."
            )
            return nil
        }
        guard let amount = Sage50Money(parsing: text) else {
            problem(
                "\"\(Self.shortened(text))\" is not an amount as Sage 50 takes it: up to 8 digits and 2 decimals, no "
                    + "commas or currency sign.")
            return nil
        }
        guard amount > .zero else {
            problem("The net amount is 0.00; Sage 50 takes an amount more than zero.")
            return nil
        }
        return amount
    }

    /// JD and JC lines with the same date and reference form a journal, which must balance.
    func journalProblems(_ lines: [Sage50TransactionLine]) -> [Sage50Problem] {
        struct Key: Hashable {
            var date: Sage50Date
            var reference: String
        }
        var order: [Key] = []
        var totals: [Key: (row: Int, debit: Sage50Money, credit: Sage50Money)] = [:]
        for line in lines where line.type.isJournal {
            let key = Key(date: line.date, reference: line.reference)
            var total = totals[key] ?? (line.row, .zero, .zero)
            if totals[key] == nil { order.append(key) }
            if line.type == .journalDebit {
                total.debit = total.debit + line.net
            } else {
                total.credit = total.credit + line.net
            }
            totals[key] = total
        }
        return order.compactMap { key in
            guard let total = totals[key], total.debit != total.credit else { return nil }
            return Sage50Problem(
                row: total.row, column: "Net Amount",
                "The journal dated \(key.date) with reference \"\(Self.shortened(key.reference))\" does not balance: "
                    + "debits \(total.debit), credits \(total.credit).")
        }
    }

    /// `20 %`, `17.5 %`.
    static func percent(_ basisPoints: Int64) -> String {
        let whole = basisPoints / 100
        let rest = basisPoints % 100
        guard rest != 0 else { return "\(whole) %" }
        return "\(whole).\(rest % 10 == 0 ? "\(rest / 10)" : (rest < 10 ? "0\(rest)" : "\(rest)")) %"
    }
}
