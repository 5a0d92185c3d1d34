private let hexDigits = Array("0123456789abcdef".utf8)

extension Sequence where Element == UInt8 {
    /// The bytes in lower-case hexadecimal, two digits a byte: what digests and ids are written as. Built from a table
    /// (`String(format: "%02x")` a byte went through Foundation's formatter, a tenth of a Tally voucher's building).
    public var hexString: String {
        var output: [UInt8] = []
        output.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
