public import Accounting

/// A file a school uploads from Sage 50: its audit trail export (the audit trail's columns — No, Type, Account,
/// Nominal, Dept, Details, Date, Ref, Ex.Ref, Net, Tax, T/C, Paid, Amount Paid, Bank, Bank Rec. Date, VAT: Sage Line
/// 50 help "The Audit Trail" — with `Deleted` and `Allocations` where the export has them) or its customer list (the
/// customer record layout, `A/C` first). Read strictly: a file of another kind, a missing column or a value that is
/// not what Sage writes is refused with its row and column, and nothing of it is used.
public enum Sage50Upload: Sendable {
    case auditTrail([Line])
    case customers([Customer])

    /// One audit trail line.
    public struct Line: Sendable {
        public var row: Int
        /// Sage's transaction number (`No`).
        public var number: Int
        public var type: String
        public var account: String
        public var nominal: String
        public var date: LocalDate
        public var reference: String
        public var extraReference: String
        public var details: String
        /// Pence.
        public var net: Int64
        /// Pence.
        public var tax: Int64
        public var isDeleted: Bool
        /// The other transactions it is allocated to or from: number and pence.
        public var allocations: [(number: Int, amount: Int64)]
    }

    /// One customer of the list: its A/C and name.
    public struct Customer: Sendable, Hashable {
        public var row: Int
        public var reference: String
        public var name: String
    }

    static let required = ["No", "Type", "Account", "Nominal", "Date", "Ref", "Ex.Ref", "Net", "Tax"]
    static let types: Set<String> = [
        "BP", "BR", "CP", "CR", "VP", "VR", "JC", "JD", "SI", "SC", "SA", "SR", "SP", "SD", "PI", "PC", "PA", "PP",
        "PR", "PD",
    ]

    /// Reads `text`, or says the first thing wrong with it.
    public static func read(_ text: String) throws(Sage50ReadError) -> Sage50Upload {
        let rows = try Sage50CSVReader.rows(text)
        guard let header = rows.first else {
            throw Sage50ReadError(row: 1, column: nil, "The file is empty; upload Sage 50's audit trail export.")
        }
        let names = header.fields.map { $0.lowercased() }
        if names.first == "a/c" {
            return .customers(try readCustomers(rows, names: names))
        }
        guard names.first == "no" else {
            throw Sage50ReadError(
                row: header.number, column: header.fields.first ?? "",
                "This is not a Sage 50 audit trail export (its first column is No) nor a customer list (A/C).")
        }
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where index[name] == nil { index[name] = position }
        for name in required where index[name.lowercased()] == nil {
            throw Sage50ReadError(row: header.number, column: name, "The audit trail export has no \(name) column.")
        }
        func column(_ name: String) -> Int? { index[name.lowercased()] }
        var lines: [Line] = []
        var numbers: Set<Int> = []
        for (row, fields) in rows.dropFirst() {
            guard fields.count == header.fields.count else {
                throw Sage50ReadError(
                    row: row, column: nil,
                    "The row has \(fields.count) fields; the header has \(header.fields.count).")
            }
            func value(_ name: String) -> String { column(name).map { fields[$0] } ?? "" }
            guard let number = wholeNumber(value("No")), number > 0, numbers.insert(number).inserted else {
                throw Sage50ReadError(
                    row: row, column: "No", "\"\(short(value("No")))\" is not a transaction number, or repeats one.")
            }
            let type = value("Type")
            guard types.contains(type) else {
                throw Sage50ReadError(row: row, column: "Type", "\"\(short(type))\" is not a Sage 50 transaction type.")
            }
            guard let date = date(value("Date")) else {
                throw Sage50ReadError(row: row, column: "Date", "\"\(short(value("Date")))\" is not a date DD/MM/YYYY.")
            }
            guard let net = pence(value("Net")) else {
                throw Sage50ReadError(row: row, column: "Net", "\"\(short(value("Net")))\" is not an amount.")
            }
            guard let tax = pence(value("Tax")) else {
                throw Sage50ReadError(row: row, column: "Tax", "\"\(short(value("Tax")))\" is not an amount.")
            }
            let deleted = value("Deleted")
            guard ["", "Y", "N"].contains(deleted) else {
                throw Sage50ReadError(row: row, column: "Deleted", "\"\(short(deleted))\" is not Y or N.")
            }
            var allocations: [(number: Int, amount: Int64)] = []
            let text = value("Allocations")
            if !text.isEmpty {
                for part in text.split(separator: ";", omittingEmptySubsequences: false).prefix(1000) {
                    let pieces = part.split(separator: "=", omittingEmptySubsequences: false)
                    guard pieces.count == 2, let other = wholeNumber(String(pieces[0])),
                        let amount = pence(String(pieces[1]))
                    else {
                        throw Sage50ReadError(
                            row: row, column: "Allocations",
                            "\"\(short(String(part)))\" is not an allocation: transaction number=amount.")
                    }
                    allocations.append((other, amount))
                }
            }
            lines.append(
                Line(
                    row: row, number: number, type: type, account: value("Account"), nominal: value("Nominal"),
                    date: date, reference: value("Ref"), extraReference: value("Ex.Ref"), details: value("Details"),
                    net: net, tax: tax, isDeleted: deleted == "Y", allocations: allocations))
        }
        return .auditTrail(lines)
    }

    static func readCustomers(_ rows: [(number: Int, fields: [String])], names: [String]) throws(Sage50ReadError)
        -> [Customer]
    {
        guard names.count > 1, names[1] == "name" else {
            throw Sage50ReadError(row: 1, column: "Name", "The customer list's second column is Name.")
        }
        var customers: [Customer] = []
        for (row, fields) in rows.dropFirst() {
            guard fields.count == names.count else {
                throw Sage50ReadError(
                    row: row, column: nil, "The row has \(fields.count) fields; the header has \(names.count).")
            }
            let reference = fields[0]
            guard (1...8).contains(reference.count),
                reference.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) })
            else {
                throw Sage50ReadError(row: row, column: "A/C", "\"\(short(reference))\" is not a Sage 50 A/C.")
            }
            customers.append(Customer(row: row, reference: reference, name: fields[1]))
        }
        return customers
    }

    static func wholeNumber(_ text: String) -> Int? {
        guard (1...9).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// Pence of `1234.50` (up to 8 digits, 2 decimals, an optional minus), `nil` for anything else.
    static func pence(_ text: String) -> Int64? {
        var body = Substring(text)
        var negative = false
        if body.first == "-" {
            negative = true
            body.removeFirst()
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), (1...8).contains(parts[0].count),
            parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let whole = Int64(parts[0])
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            guard (1...2).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                let digits = Int64(parts[1])
            else { return nil }
            fraction = parts[1].count == 1 ? digits * 10 : digits
        }
        let value = whole * 100 + fraction
        return negative ? -value : value
    }

    /// `DD/MM/YYYY` as a date.
    static func date(_ text: String) -> LocalDate? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 2, parts[1].count == 2, parts[2].count == 4 else { return nil }
        return LocalDate(parsing: "\(parts[2])-\(parts[1])-\(parts[0])")
    }

    static func short(_ text: String) -> String {
        text.count <= 40 ? text : String(text.prefix(37)) + "..."
    }
}
