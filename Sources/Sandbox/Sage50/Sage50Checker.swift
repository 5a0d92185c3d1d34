/// Checks the two files Ledgerwire gives a school to import into Sage 50 UK (File → Import), as Sage 50's importer
/// would, and says every problem with its row and column.
///
/// ## The formats (what Ledgerwire's exporter must write)
///
/// Both files:
/// - CSV as Sage 50 reads it (`Sage50CSV`): one record per line ended by CRLF; commas between fields; a field
///   holding a comma, a quote or edge spaces enclosed in double quotes, a quote inside doubled (`""`); no record
///   spans two lines; spaces around a field ignored.
/// - A header row is optional: Sage's import templates have one, the CSV example of Sage's own help has none. The
///   checker takes the first row as a header when its first field is the first column's name (`A/C`, `Type`), and
///   then checks every header against the layout below (case and surrounding spaces ignored). Without a header the
///   columns are taken in layout order, as Sage 50's CSV import reads them by position ("The data for each unit in
///   each record must be entered in strict order").
/// - Rows are numbered from 1 counting every line of the file, the header row included: the number a spreadsheet
///   shows beside the row. Blank lines are skipped but counted.
/// - Amounts: up to 8 digits and 2 decimals (`1234.5`, `1234.50`), positive, no sign, grouping or currency sign.
/// - Dates: `DD/MM/YYYY` (Sage knowledgebase: "This must be in the format DD/MM/YYYY").
/// - Text in the Windows-1252 character set, which Sage 50 UK stores: another character (`Ł`, an emoji) is a
///   warning. At most 100 fields a row and 32 MiB a file.
/// - Problems are errors (Sage 50 refuses the file, `Sage50Problem.Severity.error`) or warnings (Sage 50 imports it,
///   but not as written); `isImportable` is true when there is no error. Every problem is reported, not the first.
///
/// Customer records (`Sage50Layout.customer`, 31 columns A…AE; every row exactly 31 fields, stricter than Sage,
/// which would take a short row's missing fields as blank, because a short row means the exporter lost a field):
/// `A/C` required, up to 8 characters A–Z and 0–9 (Sage 50 itself upper-cases a reference, removes spaces and cuts
/// it to 8 characters:
/// reported as a warning naming what Sage would store, since the read-back would then meet a different reference);
/// unique in the file; an A/C that already belongs to another name in the company is a warning (Sage 50 overwrites
/// that customer: the import updates an existing record). Name and address lines up to 60 characters, contact,
/// telephone, fax, VAT number up to 30, e-mail up to 255; department 0…999; default nominal code in the chart;
/// default tax code T0…T99.
///
/// Audit trail transactions (`Sage50Layout.transaction`, 13 columns A…M, or 15 with the project and cost code
/// columns later releases add): `Type` one of BP BR CP CR VP VR JC JD SI SC SA SP PI PC PA PR — SR and PP are
/// refused, as Sage 50 refuses them (import an SA, a payment on account, and allocate it in Sage); the account a
/// customer in the company or in the customer file imported first (sales types), a bank account (bank types), none
/// needed for journals; the nominal code in the chart, and for SA and SP the bank account the money moved through;
/// the date `DD/MM/YYYY` (blank takes the program date, as Sage does), after the lock date, a warning outside the
/// financial year; Reference ≤ 30, Details ≤ 60, Extra Reference ≤ 30, User Name ≤ 32; Net Amount more than 0.00;
/// Tax Code T0…T99 (blank is T0); Tax Amount (blank is 0.00) within a penny of the net amount at the code's rate, a
/// warning otherwise (Sage 50 posts the VAT written and does not recalculate it: a blank "imports with a VAT value of
/// 0.00"); Exchange Rate blank or 1 (the simulated company has no foreign currency); project and cost code blank (it
/// has no projects); JD and JC lines with the same date and reference balance.
///
/// Sources: Sage knowledgebase "Audit trail transaction data fields you can import" (gb-kb.sage.com
/// k2dockey=250321114601443), "Customer record data fields you can import" (k2dockey=250321114620507), "What can I
/// import" (k2dockey=200427112357427), "Import file format rules" (solutionid=200427112602335); Sage Line 50 help
/// "Comma Separated Values"; makingithappen.co.uk/CI/std/audittrans.htm and customer.htm; gtsagedev.co.uk daybook
/// import; pimbrook.ie "Sage 50 – Audit Trail Import".
public struct Sage50Checker: Sendable {
    /// The company the files are meant for: its chart, bank accounts, tax codes, customers and dates.
    public var company: Sage50Company

    /// A checker for files to import into `company`.
    public init(company: Sage50Company) {
        self.company = company
    }

    /// Whether `row` is a header row for `layout`: its first field is the first column's name.
    static func isHeader(_ row: Sage50CSV.Row, of layout: [Sage50Layout.Column]) -> Bool {
        guard let first = layout.first else { return false }
        return row[0].lowercased() == first.name.lowercased()
    }

    /// Problems with a header row: a column headed differently from the layout.
    static func headerProblems(_ row: Sage50CSV.Row, layout: [Sage50Layout.Column]) -> [Sage50Problem] {
        var problems: [Sage50Problem] = []
        for (index, field) in row.fields.enumerated() {
            guard index < layout.count else {
                problems.append(
                    .init(
                        row: row.number, column: nil,
                        "The header has \(row.fields.count) columns; Sage 50's layout has \(layout.count)."))
                break
            }
            if normalised(field) != normalised(layout[index].name) {
                problems.append(
                    .init(
                        row: row.number, column: layout[index].name,
                        "Column \(index + 1) is headed \"\(field)\"; Sage 50's layout has "
                            + "\"\(layout[index].name)\" here."))
            }
        }
        return problems
    }

    static func normalised(_ text: String) -> String {
        text.lowercased().filter { !$0.isWhitespace }
    }

    /// The problem with `value` in a column of `kind`, if any; a blank value is always accepted here.
    func fieldProblem(_ value: String, kind: Sage50Layout.Kind) -> String? {
        guard !value.isEmpty else { return nil }
        switch kind {
        case .text(let maximum):
            return value.count > maximum
                ? "\"\(Self.shortened(value))\" is \(value.count) characters; Sage 50 takes at most \(maximum)."
                : nil
        case .accountReference:
            return nil
        case .integer(let range):
            guard value.count <= 6, value.allSatisfy(\.isASCIIDigit), let number = Int(value), range.contains(number)
            else {
                return
                    "\"\(Self.shortened(value))\" is not a whole number from \(range.lowerBound) to "
                    + "\(range.upperBound)."
            }
            return nil
        case .money:
            return Sage50Money(parsing: value) == nil
                ? "\"\(Self.shortened(value))\" is not an amount as Sage 50 takes it: up to 8 digits and 2 decimals, "
                    + "no sign, commas or currency sign."
                : nil
        case .percentage:
            guard let amount = Sage50Money(parsing: value), amount.pence <= 99_99 else {
                return "\"\(Self.shortened(value))\" is not a percentage from 0 to 99.99."
            }
            return nil
        case .nominalCode:
            return company.nominalCodes[value] == nil
                ? "Nominal code \(Self.shortened(value)) is not in the company's chart of accounts." : nil
        case .taxCode:
            return Self.taxCode(value) == nil ? "\"\(Self.shortened(value))\" is not a tax code T0 to T99." : nil
        case .flag:
            return value == "0" || value == "1" ? nil : "\"\(Self.shortened(value))\" is not 0 or 1."
        }
    }

    /// `T1` → 1; `nil` for anything but `T0`…`T99`.
    static func taxCode(_ text: String) -> Int? {
        guard text.first == "T" else { return nil }
        let digits = text.dropFirst()
        guard (1...2).contains(digits.count), digits.allSatisfy(\.isASCIIDigit), let code = Int(digits) else {
            return nil
        }
        return code
    }

    /// At most 40 characters of `text`, for messages that quote what they refuse.
    static func shortened(_ text: String) -> String {
        text.count <= 40 ? text : String(text.prefix(37)) + "..."
    }
}

extension Sage50Checker {
    /// The characters Windows-1252 adds in 0x80…0x9F; with ASCII and Latin-1's 0xA0…0xFF, what it can hold.
    static let windows1252Extras: Set<Unicode.Scalar> = [
        "\u{20AC}", "\u{201A}", "\u{0192}", "\u{201E}", "\u{2026}", "\u{2020}", "\u{2021}", "\u{02C6}", "\u{2030}",
        "\u{0160}", "\u{2039}", "\u{0152}", "\u{017D}", "\u{2018}", "\u{2019}", "\u{201C}", "\u{201D}", "\u{2022}",
        "\u{2013}", "\u{2014}", "\u{02DC}", "\u{2122}", "\u{0161}", "\u{203A}", "\u{0153}", "\u{017E}", "\u{0178}",
    ]

    /// The warning for a field holding a character Windows-1252 cannot hold, if it does. Sage 50 UK reads and stores
    /// text in the Windows "ANSI" code page, Windows-1252 (splitforge.app, "Fix Sage CSV Import Errors": "Sage 50
    /// UK uses ANSI encoding by default"), so such a character does not reach the books as written.
    static func encodingProblem(_ value: String, row: Int, column: String) -> Sage50Problem? {
        for character in value {
            let scalars = character.unicodeScalars
            let fits =
                scalars.count == 1
                && scalars.allSatisfy {
                    ($0.value >= 0x20 && $0.value < 0x7F) || (0xA0...0xFF).contains($0.value)
                        || windows1252Extras.contains($0)
                }
            if !fits {
                return Sage50Problem(
                    row: row, column: column,
                    "\"\(character)\" is not in the Windows-1252 character set Sage 50 UK stores text in; it would "
                        + "not import as written.",
                    severity: .warning)
            }
        }
        return nil
    }
}
