import Foundation

/// CSV as Sage 50 reads it (Sage Line 50 help, "Comma Separated Values"): commas between fields, a record per line
/// ended by CRLF, a field holding a comma, a quote or edge spaces enclosed in double quotes with a quote inside
/// doubled. No record may span two lines, so a line break inside a value becomes a space.
public enum Sage50CSVText {
    /// One record, CRLF included.
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ value: String) -> String {
        let flat = String(value.map { $0.isNewline ? " " : $0 })
        let needsQuotes =
            flat.contains(",") || flat.contains("\"") || flat.first == " " || flat.last == " "
        return needsQuotes ? "\"" + flat.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : flat
    }

    /// `value` cut to `maximum` characters, the length Sage 50 gives the field.
    static func cut(_ value: String?, _ maximum: Int) -> String {
        guard let value else { return "" }
        return String(String(value.map { $0.isNewline ? " " : $0 }).prefix(maximum))
    }
}
