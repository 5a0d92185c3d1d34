public import Accounting
public import Foundation

/// Outward supplies of a period as GST returns add them up: by rate, the taxable value and the central, state and
/// integrated tax. Sales count in, credit notes count out.
public struct TallyGSTSummary: Sendable, Hashable {
    public struct Row: Sendable, Hashable {
        /// The whole rate (`18` for 9 % CGST + 9 % SGST, or 18 % IGST); `0` for supplies without tax.
        public var rate: Decimal
        public var taxableValue: Int64 = 0
        public var cgst: Int64 = 0
        public var sgst: Int64 = 0
        public var igst: Int64 = 0

        public init(rate: Decimal) { self.rate = rate }

        var json: JSONValue {
            func rupees(_ paise: Int64) -> JSONValue { .string(Money(minorUnits: paise, currency: .inr).decimalString) }
            return [
                "rate": .string("\(rate)"), "taxable_value": rupees(taxableValue), "cgst": rupees(cgst),
                "sgst": rupees(sgst), "igst": rupees(igst),
            ]
        }
    }

    /// By rate, lowest first.
    public var rows: [Row]

    public init(rows: [Row]) {
        self.rows = rows.sorted { $0.rate < $1.rate }
    }

    /// `[{rate, taxable_value, cgst, sgst, igst}]`, amounts in rupees.
    public var json: JSONValue { .array(rows.map(\.json)) }

    /// Adds one supply to the row of `rate`.
    public mutating func add(rate: Decimal, taxable: Int64, cgst: Int64 = 0, sgst: Int64 = 0, igst: Int64 = 0) {
        var index = rows.firstIndex { $0.rate == rate }
        if index == nil {
            rows.append(Row(rate: rate))
            rows.sort { $0.rate < $1.rate }
            index = rows.firstIndex { $0.rate == rate }
        }
        guard let index else { return }
        rows[index].taxableValue += taxable
        rows[index].cgst += cgst
        rows[index].sgst += sgst
        rows[index].igst += igst
    }

    /// Where two summaries differ: `[{rate, field, books, billing}]`.
    public static func differences(books: TallyGSTSummary, billing: TallyGSTSummary) -> [JSONValue] {
        let rates = Set(books.rows.map(\.rate)).union(billing.rows.map(\.rate)).sorted()
        var found: [JSONValue] = []
        for rate in rates {
            let ours = books.rows.first { $0.rate == rate } ?? Row(rate: rate)
            let theirs = billing.rows.first { $0.rate == rate } ?? Row(rate: rate)
            for (field, left, right) in [
                ("taxable_value", ours.taxableValue, theirs.taxableValue), ("cgst", ours.cgst, theirs.cgst),
                ("sgst", ours.sgst, theirs.sgst), ("igst", ours.igst, theirs.igst),
            ] where left != right {
                found.append(
                    [
                        "rate": .string("\(rate)"), "field": .string(field),
                        "books": .string(Money(minorUnits: left, currency: .inr).decimalString),
                        "billing": .string(Money(minorUnits: right, currency: .inr).decimalString),
                    ])
            }
        }
        return found
    }
}

extension TallyConnector {
    /// The company's outward supplies from `from` to `to` (issue dates, both included), from its Sales and Credit Note
    /// vouchers (cancelled ones left out): each voucher's income at the rate of its GST ledgers (`GSTDUTYHEAD` and
    /// `RATEOFTAXCALCULATION`, or the rate its name states), its tax by head. Also the rate of each tax ledger, for
    /// billing's side of the comparison.
    public func gstSummary(from: LocalDate, to: LocalDate, context: ConnectorContext) async throws
        -> (summary: TallyGSTSummary, ledgerRates: [String: Decimal])
    {
        let session = try session(context)
        try await session.refreshLedgers()
        let ledgers = await session.directory.ledgers.values
        var duties: [String: (head: String, rate: Decimal)] = [:]
        for ledger in ledgers {
            let head = ledger.element.value("GSTDUTYHEAD") ?? Self.dutyHead(ledger.name)
            guard head != "Other",
                let rate = ledger.element.value("RATEOFTAXCALCULATION").flatMap({ Decimal(string: $0) })
                    ?? Self.rate(in: ledger.name)
            else { continue }
            duties[ledger.name] = (head, rate)
        }
        let window = "$Date >= \(TallyDate.text(from)) AND $Date <= \(TallyDate.text(to))"
        let elements = try await session.client.collection(
            TallyEnvelope.collection(
                of: "Voucher", company: session.settings.company,
                filters: [
                    "\(window) AND $VoucherTypeName = \"Sales\" OR \(window) AND $VoucherTypeName = \"Credit Note\""
                ]))
        var summary = TallyGSTSummary(rows: [])
        for voucher in elements.compactMap(TallyVoucherRecord.init(exported:)) where !voucher.isCancelled {
            var income: Int64 = 0
            var roundOff: Int64 = 0
            var taxes: [Decimal: (cgst: Int64, sgst: Int64, igst: Int64)] = [:]
            for entry in voucher.entries where !entry.isParty && entry.ledger != voucher.party {
                guard entry.ledger.caseInsensitiveCompare(session.settings.roundOffLedger) != .orderedSame else {
                    // The paisa an odd CGST/SGST split left over: tax, on no ledger of its own.
                    roundOff += entry.amount.minorUnits
                    continue
                }
                // Amounts as Tally signs them: a credit (a sale's income and tax) positive, a credit note's negative.
                let amount = entry.amount.minorUnits
                guard let duty = duties[entry.ledger] else {
                    income += amount
                    continue
                }
                switch duty.head {
                case "Integrated Tax": taxes[duty.rate, default: (0, 0, 0)].igst += amount
                case "Central Tax": taxes[duty.rate * 2, default: (0, 0, 0)].cgst += amount
                default: taxes[duty.rate * 2, default: (0, 0, 0)].sgst += amount
                }
            }
            // An accounting voucher does not say which income its tax is on: each rate's value is its tax at that rate
            // (to within the paise a rounded tax leaves), the rest untaxed. The usual voucher, all of whose income
            // its one rate explains, counts at that rate whole.
            var untaxed = income
            for (rate, tax) in taxes.sorted(by: { $0.key < $1.key }) where rate > 0 {
                let total = tax.igst + tax.cgst + tax.sgst + (taxes.count == 1 ? roundOff : 0)
                var value = Int64(truncating: (Decimal(total) * 100 / rate) as NSDecimalNumber)
                let slack = Int64(truncating: (Decimal(50) / rate) as NSDecimalNumber) + 1
                if taxes.count == 1, abs(income - value) <= slack { value = income }
                untaxed -= value
                summary.add(rate: rate, taxable: value, cgst: tax.cgst, sgst: tax.sgst, igst: tax.igst)
            }
            if untaxed != 0 || taxes.isEmpty { summary.add(rate: 0, taxable: untaxed) }
        }
        return (summary, duties.mapValues(\.rate))
    }
}
