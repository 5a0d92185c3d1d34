/// `multipart/form-data` bodies (RFC 7578) as browsers and `curl -F` send a file upload: parts between
/// `--boundary` delimiter lines, each with its headers, a blank line, then its content.
public enum MultipartFormData {
    /// The `boundary` parameter of a `multipart/form-data` content type, its quotes removed; `nil` when there is
    /// none or it is empty or longer than 200 characters (RFC 2046 allows 70; some clients write more).
    public static func boundary(ofContentType contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, trimmed(pair[0]).lowercased() == "boundary" else { continue }
            let value = unquoted(trimmed(pair[1]))
            return (1...200).contains(value.count) ? String(value) : nil
        }
        return nil
    }

    /// The content of the first part whose `Content-Disposition` names it `name`; `nil` when no part does, or when
    /// the body ends before that part's closing delimiter. Any bytes are read without trapping.
    public static func part(named name: String, in body: [UInt8], boundary: String) -> ArraySlice<UInt8>? {
        let delimiter = Array("--\(boundary)".utf8)
        let nextDelimiter = Array("\r\n--\(boundary)".utf8)
        let blankLine = Array("\r\n\r\n".utf8)
        let dash = UInt8(ascii: "-")
        guard var start = body.firstRange(of: delimiter) else { return nil }
        while true {
            let afterDelimiter = start.upperBound
            // `--boundary--` closes the body.
            if body[afterDelimiter...].starts(with: [dash, dash]) { return nil }
            guard let headersEnd = body[afterDelimiter...].firstRange(of: blankLine),
                let end = body[headersEnd.upperBound...].firstRange(of: nextDelimiter)
            else { return nil }
            if fieldName(headers: body[afterDelimiter..<headersEnd.lowerBound]) == name {
                return body[headersEnd.upperBound..<end.lowerBound]
            }
            // The next part's delimiter, after the line break that belongs to it.
            start = (end.lowerBound + 2)..<end.upperBound
        }
    }

    /// `content` as the body of a form with one field, `name`, holding a file: what a browser sends.
    public static func body(name: String, filename: String, content: [UInt8], boundary: String) -> [UInt8] {
        Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\n".utf8)
            + Array("Content-Type: text/csv\r\n\r\n".utf8) + content + Array("\r\n--\(boundary)--\r\n".utf8)
    }

    /// The `name` parameter of a part's `Content-Disposition` header (not `filename`, which also ends in `name`).
    static func fieldName(headers: ArraySlice<UInt8>) -> String? {
        let text = String(decoding: headers, as: UTF8.self)
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":"),
                trimmed(line[..<colon]).lowercased() == "content-disposition"
            else { continue }
            for parameter in line[line.index(after: colon)...].split(separator: ";").dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, trimmed(pair[0]).lowercased() == "name" else { continue }
                return String(unquoted(trimmed(pair[1])))
            }
        }
        return nil
    }

    private static func trimmed(_ text: Substring) -> Substring {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return text[first...last]
    }

    private static func unquoted(_ text: Substring) -> Substring {
        text.count >= 2 && text.first == "\"" && text.last == "\"" ? text.dropFirst().dropLast() : text
    }
}
