/// Text written into XML 1.0 documents (Tally's envelopes, the Web Connector's SOAP answers).
public enum XMLText {
    /// Appends `text` to `out` with XML's special characters escaped (and, with `quotes`, those an attribute value
    /// needs); control characters XML 1.0 forbids are left out.
    public static func escape(_ text: String, into out: inout String, quotes: Bool) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where quotes: out += "&quot;"
            case "\r": out += "&#13;"
            case "\n" where quotes: out += "&#10;"
            case "\t" where quotes: out += "&#9;"
            default:
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" { continue }
                out.unicodeScalars.append(scalar)
            }
        }
    }
}
