/// A customer records file as the checker read it.
public struct Sage50CustomerFile: Sendable {
    /// The records as Sage 50 would store them (A/C upper-cased, spaces removed, cut to 8 characters), rows with
    /// errors included so later checks can still find their accounts.
    public var records: [Sage50Customer]
    /// Every problem found, in row order.
    public var problems: [Sage50Problem]
    /// Whether the first row was taken as a header.
    public var hasHeaderRow: Bool

    /// Whether Sage 50 would import the file: no problem is an error.
    public var isImportable: Bool { !problems.contains { $0.severity == .error } }
}

extension Sage50Checker {
    /// Checks a customer records import file (layout `Sage50Layout.customer`).
    public func checkCustomers(_ text: String) -> Sage50CustomerFile {
        let layout = Sage50Layout.customer
        var (rows, problems) = Sage50CSV.read(text)
        var hasHeader = false
        if let first = rows.first, Self.isHeader(first, of: layout) {
            hasHeader = true
            problems += Self.headerProblems(first, layout: layout)
            rows.removeFirst()
        }
        if rows.isEmpty, problems.isEmpty {
            problems.append(.init(row: 1, column: nil, "The file holds no customer records."))
        }
        var records: [Sage50Customer] = []
        var rowOfReference: [String: Int] = [:]
        for row in rows {
            guard row.fields.count == layout.count else {
                problems.append(
                    .init(
                        row: row.number, column: nil,
                        "The row has \(row.fields.count) fields; the customer record layout has \(layout.count) "
                            + "(A/C to Terms Agreed), empty ones included."))
                continue
            }
            var fields = row.fields
            for (index, column) in layout.enumerated() {
                if let message = fieldProblem(fields[index], kind: column.kind) {
                    problems.append(.init(row: row.number, column: column.name, message))
                }
                if let problem = Self.encodingProblem(fields[index], row: row.number, column: column.name) {
                    problems.append(problem)
                }
            }
            let reference = referenceProblems(fields[0], row: row.number, problems: &problems)
            fields[0] = reference
            if !reference.isEmpty {
                if let earlier = rowOfReference[reference] {
                    problems.append(
                        .init(
                            row: row.number, column: "A/C",
                            "A/C \(reference) is also on row \(earlier); each customer may appear once in a file."))
                } else {
                    rowOfReference[reference] = row.number
                }
                let name = fields[Sage50Layout.CustomerField.name]
                if let existing = company.customers[reference], !name.isEmpty, existing.name != name {
                    problems.append(
                        .init(
                            row: row.number, column: "A/C",
                            "A/C \(reference) already belongs to \"\(Self.shortened(existing.name))\" in the "
                                + "company; Sage 50 will overwrite that customer with \"\(Self.shortened(name))\".",
                            severity: .warning))
                }
            }
            records.append(Sage50Customer(fields: fields))
        }
        problems = problems.inRowOrder()
        return Sage50CustomerFile(records: records, problems: problems, hasHeaderRow: hasHeader)
    }

    /// The A/C as Sage 50 stores it (upper case, no spaces, at most 8 characters), with the problems of `raw`.
    func referenceProblems(_ raw: String, row: Int, problems: inout [Sage50Problem]) -> String {
        guard !raw.isEmpty else {
            problems.append(.init(row: row, column: "A/C", "The A/C (account reference) is required."))
            return ""
        }
        // "Account code data is always converted to upper-case lettering and any spaces removed … cropped to the
        // maximum eight characters" (Sage Line 50 help, "Comma Separated Values").
        let stored = String(raw.uppercased().filter { $0 != " " }.prefix(8))
        if !stored.allSatisfy({ ($0.isASCII && $0.isLetter) || $0.isASCIIDigit }) {
            // "This must be just the letters A to Z and the Numbers 0 to 9" (makingithappen.co.uk customer import).
            problems.append(
                .init(
                    row: row, column: "A/C",
                    "A/C \"\(Self.shortened(raw))\" holds characters other than the letters A to Z and the digits "
                        + "0 to 9."))
        } else if stored != raw {
            problems.append(
                .init(
                    row: row, column: "A/C",
                    "A/C \"\(Self.shortened(raw))\" would be stored by Sage 50 as \"\(stored)\": an account reference "
                        + "is upper case, without spaces, at most 8 characters.",
                    severity: .warning))
        }
        return stored
    }
}
