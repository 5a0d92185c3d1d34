import Foundation

/// The comma-separated text Sage 50 UK reads and writes, as its help describes it ("Comma Separated Values", Sage
/// Line 50 help; Sage knowledgebase "Import file format rules", gb-kb.sage.com solutionid=200427112602335):
///
/// - one record per line, ended by a carriage return (CRLF or LF is read); a record never spans lines;
/// - fields separated by commas, two commas in a row an empty field;
/// - spaces at the start and end of a field ignored;
/// - a field enclosed in double quotes may hold commas; inside it a doubled quote (`""`) is one quote;
/// - lines holding nothing but spaces are skipped (spreadsheets often end a file with one).
enum Sage50CSV {
    /// The largest file read: 32 MiB, about 200 000 transaction lines.
    static let maximumBytes = 32 << 20
    /// The most fields a record may have; Sage 50's widest import layout has fewer than 100.
    static let maximumFields = 100

    /// One record: its line number in the file (1-based, every line counted) and its fields, trimmed.
    struct Row: Sendable, Hashable {
        var number: Int
        var fields: [String]

        /// The field at `index`, or empty if the row is shorter.
        subscript(index: Int) -> String { index < fields.count ? fields[index] : "" }
    }

    /// Reads `text` into rows; a line that cannot be read is left out and named in the problems instead.
    static func read(_ text: String) -> (rows: [Row], problems: [Sage50Problem]) {
        guard text.utf8.count <= maximumBytes else {
            return ([], [Sage50Problem(row: 1, column: nil, "The file is larger than \(maximumBytes >> 20) MiB.")])
        }
        var rows: [Row] = []
        var problems: [Sage50Problem] = []
        var number = 0
        // CRLF is one `Character` in Swift, so lines are split on each of the three line ends.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }
        for content in lines {
            number += 1
            if content.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            switch fields(of: content) {
            case .success(let fields):
                if fields.count > maximumFields {
                    problems.append(.init(row: number, column: nil, "The row has more than \(maximumFields) fields."))
                } else {
                    rows.append(Row(number: number, fields: fields))
                }
            case .failure(let problem):
                problems.append(.init(row: number, column: nil, problem.message))
            }
        }
        return (rows, problems)
    }

    struct LineProblem: Error {
        var message: String
    }

    /// The fields of one line, or why the line cannot be read.
    static func fields(of line: Substring) -> Result<[String], LineProblem> {
        var fields: [String] = []
        var index = line.startIndex
        while true {
            // Leading spaces are ignored.
            while index < line.endIndex, line[index] == " " || line[index] == "\t" { index = line.index(after: index) }
            var field = ""
            if index < line.endIndex, line[index] == "\"" {
                index = line.index(after: index)
                var closed = false
                while index < line.endIndex {
                    let character = line[index]
                    index = line.index(after: index)
                    if character == "\"" {
                        if index < line.endIndex, line[index] == "\"" {
                            field.append("\"")
                            index = line.index(after: index)
                        } else {
                            closed = true
                            break
                        }
                    } else {
                        field.append(character)
                    }
                }
                guard closed else {
                    return .failure(
                        LineProblem(
                            message: "A quoted field is not closed on this line; Sage 50 reads one record per line."))
                }
                while index < line.endIndex, line[index] == " " || line[index] == "\t" {
                    index = line.index(after: index)
                }
                guard index == line.endIndex || line[index] == "," else {
                    return .failure(
                        LineProblem(
                            message: "Field \(fields.count + 1) has text after its closing quote; "
                                + "a quote inside a quoted field must be doubled."))
                }
            } else {
                let start = index
                while index < line.endIndex, line[index] != "," { index = line.index(after: index) }
                let raw = line[start..<index]
                guard !raw.contains("\"") else {
                    return .failure(
                        LineProblem(
                            message: "Field \(fields.count + 1) holds a quote but is not enclosed in quotes; "
                                + "enclose it in quotes and double the quote."))
                }
                field = String(raw.trimmingWhitespace)
            }
            fields.append(field)
            if fields.count > maximumFields { return .success(fields) }
            guard index < line.endIndex else { return .success(fields) }
            index = line.index(after: index)  // the comma
        }
    }

    /// `field` as a CSV field: quoted when it holds a comma, a quote or leading or trailing spaces, quotes doubled.
    static func quoted(_ field: String) -> String {
        let needsQuotes =
            field.contains(",") || field.contains("\"") || field.first == " " || field.last == " "
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One line of `fields`, ended by CRLF as Sage 50 (a Windows program) writes its exports.
    static func line(_ fields: [String]) -> String {
        fields.map(quoted).joined(separator: ",") + "\r\n"
    }
}
