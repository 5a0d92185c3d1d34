/// Reads CSV as Sage 50 writes it (CRLF or LF between records, commas, double quotes around a field that needs
/// them, a quote inside doubled), within bounds: at most `maximumFields` fields a row and `maximumRows` rows. Rows
/// are numbered counting every line, blank ones skipped.
enum Sage50CSVReader {
    static let maximumFields = 100
    static let maximumRows = 1_000_000

    static func rows(_ text: String) throws(Sage50ReadError) -> [(number: Int, fields: [String])] {
        var rows: [(number: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var wasQuoted = false
        var line = 1
        var rowLine = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let scalar = pending {
                pending = nil
                return scalar
            }
            return scalars.next()
        }
        func endField() throws(Sage50ReadError) {
            fields.append(wasQuoted ? field : field.trimmingSpaces)
            field = ""
            wasQuoted = false
            if fields.count > maximumFields {
                throw Sage50ReadError(row: rowLine, column: nil, "The row has more than \(maximumFields) fields.")
            }
        }
        while let scalar = next() {
            if quoted {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" {
                            field.unicodeScalars.append("\"")
                        } else {
                            quoted = false
                            pending = following
                        }
                    } else {
                        quoted = false
                    }
                } else if scalar == "\n" || scalar == "\r" {
                    throw Sage50ReadError(
                        row: rowLine, column: nil, "A quoted field runs past the end of its line.")
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.trimmingSpaces.isEmpty && !wasQuoted:
                field = ""
                quoted = true
                wasQuoted = true
            case ",":
                try endField()
            case "\r", "\n":
                if scalar == "\r" {
                    if let following = next(), following != "\n" { pending = following }
                }
                try endField()
                if !(fields.count == 1 && fields[0].isEmpty) {
                    rows.append((rowLine, fields))
                    if rows.count > maximumRows {
                        throw Sage50ReadError(row: rowLine, column: nil, "The file has more than \(maximumRows) rows.")
                    }
                }
                fields = []
                line += 1
                rowLine = line
            default:
                if wasQuoted, scalar != " " {
                    throw Sage50ReadError(
                        row: rowLine, column: nil, "Text follows a closing quote; a quote inside a field is doubled.")
                }
                field.unicodeScalars.append(scalar)
            }
        }
        if quoted {
            throw Sage50ReadError(row: rowLine, column: nil, "A quoted field is not closed.")
        }
        if !field.isEmpty || !fields.isEmpty || wasQuoted {
            try endField()
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append((rowLine, fields)) }
        }
        return rows
    }
}

extension String {
    /// Without the spaces at either end (Sage ignores "spaces around a field").
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
