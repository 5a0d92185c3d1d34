public import Connectors

/// A ledger as a test reads it back from the emulator.
public struct TallyLedger: Sendable, Hashable {
    public var name: String
    /// The group it is under (`Primary` for `Profit & Loss A/c`).
    public var parent: String
    /// Its `REMOTEID` when it was imported with one, else `<company GUID>-<MASTERID as 8 hex digits>`.
    public var guid: String
    /// The `REMOTEID` it was imported with, if any.
    public var remoteID: String?
    /// Its number among the company's objects, kept for its life.
    public var masterID: Int
    /// The company-wide change counter at its last change.
    public var alterID: Int
    /// Opening balance plus every entry of vouchers not cancelled, in Tally's sign (a debit is negative).
    public var closingBalance: TallyAmount
    /// Whether bills can be allocated against it (`ISBILLWISEON`, or a party under Sundry Debtors or Creditors).
    public var isBillWise: Bool
    /// The elements it was imported with (`MAILINGNAME.LIST`, `PARTYGSTIN`, …), in order.
    public var fields: [TallyElement]

    /// The trimmed text of the field `name`, if it was given.
    public func value(_ name: String) -> String? {
        fields.first { $0.name == name }.map { String($0.text.trimmingWhitespace) }
    }
}

/// One bill allocation of a voucher entry (`BILLALLOCATIONS.LIST`).
public struct TallyBillAllocation: Sendable, Hashable {
    /// The bill's name (billing's invoice number for a `New Ref`).
    public var name: String
    /// `New Ref`, `Agst Ref`, `Advance` or `On Account`.
    public var type: String
    public var amount: TallyAmount

    public init(name: String, type: String, amount: TallyAmount) {
        self.name = name
        self.type = type
        self.amount = amount
    }
}

/// One line of a voucher (`ALLLEDGERENTRIES.LIST`).
public struct TallyEntry: Sendable, Hashable {
    /// The ledger's name.
    public var ledger: String
    /// Negative for a debit (`ISDEEMEDPOSITIVE` Yes), positive for a credit.
    public var amount: TallyAmount
    public var isPartyLedger: Bool
    public var bills: [TallyBillAllocation]

    public init(ledger: String, amount: TallyAmount, isPartyLedger: Bool = false, bills: [TallyBillAllocation] = []) {
        self.ledger = ledger
        self.amount = amount
        self.isPartyLedger = isPartyLedger
        self.bills = bills
    }

    public var isDeemedPositive: Bool { amount.isNegative }
}

/// A voucher as a test reads it back from the emulator.
public struct TallyVoucher: Sendable, Hashable {
    /// Its `REMOTEID` when imported with one; `<company GUID>-<MASTERID as 8 hex digits>` when a person entered it.
    public var guid: String
    /// Its number among the company's objects, kept across alters.
    public var masterID: Int
    /// The company-wide change counter at its last create, alter or cancel.
    public var alterID: Int
    /// `yyyymmdd`.
    public var date: Int
    /// Its voucher type (`Sales`, `Receipt`, `Credit Note`, `Payment`, `Journal`, …).
    public var type: String
    public var number: String
    public var partyLedger: String?
    public var narration: String
    public var reference: String
    public var placeOfSupply: String?
    public var isCancelled: Bool
    public var entries: [TallyEntry]
}

/// A party's bill still open: what its `New Ref` allocations and the `Agst Ref` allocations against it add up to.
public struct TallyBill: Sendable, Hashable {
    /// The bill's name.
    public var name: String
    /// Tally's sign: a receivable (a debit) is negative.
    public var pending: TallyAmount
}

/// The counters and line errors of one import request, as Tally answers them.
public struct TallyImportResult: Sendable, Hashable {
    /// `CREATED`, `ALTERED`, … as Tally counts them; `LASTVCHID`/`LASTMID` the MASTERID of the last voucher/master
    /// written.
    public var created = 0
    public var altered = 0
    public var deleted = 0
    public var lastVoucherID = 0
    public var lastMasterID = 0
    public var combined = 0
    public var ignored = 0
    public var errors = 0
    public var cancelled = 0
    public var exceptions = 0
    /// One per refused object, in request order.
    public var lineErrors: [String] = []

    public init() {}

    /// The counters as elements, in Tally's order.
    var counters: [TallyElement] {
        [
            .leaf("CREATED", "\(created)"), .leaf("ALTERED", "\(altered)"), .leaf("DELETED", "\(deleted)"),
            .leaf("LASTVCHID", "\(lastVoucherID)"), .leaf("LASTMID", "\(lastMasterID)"),
            .leaf("COMBINED", "\(combined)"), .leaf("IGNORED", "\(ignored)"), .leaf("ERRORS", "\(errors)"),
            .leaf("CANCELLED", "\(cancelled)"), .leaf("EXCEPTIONS", "\(exceptions)"),
        ]
    }
}

/// Why Tally refused one object of an import, or a change a person tried to make: its `LINEERROR` text.
public struct TallyRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String

    public var description: String { message }

    public init(_ message: String) {
        self.message = message
    }
}
