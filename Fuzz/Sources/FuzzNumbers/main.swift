import Accounting
import CFuzzDriver
import Foundation

/// Currencies of every minor-unit exponent ISO 4217 has (0, 2, 3, 4).
private let currencies = ["JPY", "INR", "GBP", "KWD", "CLF"].compactMap { Currency(code: $0) }

/// Amounts, quantities and rates: `ScaledDecimal` and `Money` parsing. The first byte picks the allowed fraction
/// digits and the currency, the rest is the text. What parses prints back to text that parses to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard let selector = bytes.first else { return 0 }
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)

    let maximumFractionDigits = Int(selector % 20)
    if let decimal = try? ScaledDecimal(parsing: text, maximumFractionDigits: maximumFractionDigits) {
        precondition(decimal.scale >= 0 && decimal.scale <= maximumFractionDigits, "scale \(decimal.scale)")
        let again = try? ScaledDecimal(parsing: decimal.description, maximumFractionDigits: maximumFractionDigits)
        precondition(again == decimal, "\(text) prints as \(decimal.description)")
        for scale in 0...19 { _ = decimal.rescaled(to: scale) }
        _ = decimal.isZero
        _ = decimal.isNegative
    }

    let currency = currencies[Int(selector >> 5) % currencies.count]
    if let money = try? Money(parsing: text, currency: currency) {
        let again = try? Money(parsing: money.decimalString, currency: currency)
        precondition(again == money, "\(text) \(currency) prints as \(money.decimalString)")
        _ = money.adding(money)
        _ = money.subtracting(Money(minorUnits: Int64.min, currency: currency))
        _ = money.description
    }
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
