/// `application/x-www-form-urlencoded` text, as HTML forms and `curl --data-urlencode` write it: fields joined by
/// `&`, each `name=value`, with `+` for a space and `%XX` for any other byte.
public enum FormURLEncoded {
    /// The fields of `text`, in order; a name may come more than once.
    ///
    /// Split on the bytes `&` and `=`, not on characters: an `&` that a neighbour joins into one character (U+0600
    /// before it, a combining mark after it) still ends its field, as it does for every server that reads bytes.
    public static func fields(_ text: some StringProtocol) -> [(name: String, value: String)] {
        let bytes = Array(text.utf8)
        return bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { field in
            guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else { return (decode(bytes: field), "") }
            return (decode(bytes: field[..<equals]), decode(bytes: field[(equals + 1)...]))
        }
    }

    /// The first value of `name` in `text`, or `nil`.
    public static func value(of name: String, in text: some StringProtocol) -> String? {
        fields(text).first { $0.name == name }?.value
    }

    /// `fields` as a form body: each name and value with `+` for a space and `%XX` for every byte but the
    /// unreserved ones (`A–Z a–z 0–9 - . _ ~`), as browsers submit a form.
    public static func encode(_ fields: [(name: String, value: String)]) -> String {
        fields.map { encode(component: $0.name) + "=" + encode(component: $0.value) }.joined(separator: "&")
    }

    private static func encode(component: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in component.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            case UInt8(ascii: " "):
                bytes.append(UInt8(ascii: "+"))
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One name or value: `+` is a space and `%XX` a byte. A `%` not followed by two hex digits stays as written,
    /// and bytes that are not UTF-8 become U+FFFD, so no input is refused or dropped.
    public static func decode(_ component: some StringProtocol) -> String {
        decode(bytes: ArraySlice(component.utf8))
    }

    /// `decode(_:)` of a component's UTF-8 bytes.
    static func decode(bytes component: ArraySlice<UInt8>) -> String {
        let input = Array(component)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%"), index + 2 < input.count,
                let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
