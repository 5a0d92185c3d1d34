public import Connectors
public import Foundation

/// The Tally emulator's state: companies (loaded or not) with their books, the dialect it speaks (`prime` or `erp9`),
/// the request counters that prove a client sends one request at a time, and the faults tests switch on
/// (platforms.md §4, §9.4).
///
/// Tally is a single-user desktop program: it answers one request at a time. A request that arrives while another is
/// being answered waits for it (`overlappingRequests` counts those, `mostInFlight` the most there were at once).
/// `run(host:port:onListening:)` serves it; `stopListening()` and `startListening()` take the server down and up on
/// the same port with the same books ("Tally not running": connection refused).
public actor TallySandbox {
    /// Which Tally the emulator is: TallyPrime takes both import dialects; Tally.ERP 9 only the legacy one.
    public enum Version: String, Sendable, CaseIterable {
        case prime
        case erp9
    }

    /// The Tally it is: TallyPrime or Tally.ERP 9.
    public let version: Version
    var companies: [TallyCompany] = []
    /// Lower-cased names of the companies open in Tally.
    var loaded: Set<String> = []

    /// Requests received (`POST /`), answered or not.
    public private(set) var requestCount = 0
    /// Requests that arrived while another was being answered, and so waited.
    public private(set) var overlappingRequests = 0
    /// The most requests there were at once (1 when a client never overlaps).
    public private(set) var mostInFlight = 0
    private var inFlight = 0
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// How long every answer is held back (a slow Tally, a big company); the next request waits meanwhile.
    public private(set) var responseDelay: Duration = .zero
    /// How long an import is held back for each object it holds, beside `responseDelay`: a Tally on a PC of its own,
    /// whose time is not this process's.
    public private(set) var importPace: Duration = .zero
    /// The processor time spent reading requests, applying them and writing answers (not the HTTP around them).
    public internal(set) var answeringCPU: Duration = .zero
    /// Imports still to be applied and then left unanswered, the connection dropped.
    public private(set) var droppedAnswers = 0
    /// Import requests whose answer was dropped.
    public private(set) var answersDropped = 0

    // Listening (see `TallySandbox+Server`).
    var listeningPort: Int?
    var stopSignal: AsyncStream<Void>.Continuation?
    var startSignal: AsyncStream<Void>.Continuation?
    var stoppedWaiters: [CheckedContinuation<Void, Never>] = []
    var listeningWaiters: [CheckedContinuation<Int, Never>] = []
    var startRequested = false

    public init(version: Version = .prime) {
        self.version = version
    }

    // MARK: Companies

    /// Adds a company (loaded unless said), with Tally's reserved groups and the `Cash` and `Profit & Loss A/c`
    /// ledgers. A company of that name already there is kept as it is.
    /// - Returns: the company's GUID.
    @discardableResult
    public func addCompany(
        _ name: String, guid: String = UUID().uuidString.lowercased(), stateName: String = "Karnataka",
        loaded isLoaded: Bool = true
    ) -> String {
        if let existing = index(of: name) { return companies[existing].guid }
        companies.append(TallyCompany(name: name, guid: guid, stateName: stateName))
        if isLoaded { loaded.insert(TallyCompany.key(name)) }
        return guid
    }

    /// Closes a company in Tally: requests naming it are refused until `load(_:)`.
    public func unload(_ name: String) { loaded.remove(TallyCompany.key(name)) }

    /// Opens a company again, with its books as they were.
    public func load(_ name: String) {
        if index(of: name) != nil { loaded.insert(TallyCompany.key(name)) }
    }

    /// The names of the companies open in Tally, in the order they were added.
    public var loadedCompanies: [String] {
        companies.filter { loaded.contains(TallyCompany.key($0.name)) }.map(\.name)
    }

    /// A company's books (loaded or not).
    public func company(_ name: String) -> TallyCompany? { index(of: name).map { companies[$0] } }

    func index(of name: String) -> Int? {
        companies.firstIndex { TallyCompany.key($0.name) == TallyCompany.key(name) }
    }

    // MARK: Faults

    /// Holds every answer back by `delay`; requests arriving meanwhile wait their turn.
    public func setResponseDelay(_ delay: Duration) { responseDelay = delay }

    /// Holds every import's answer back by `pace` for each object it holds (a voucher, a ledger).
    public func setImportPace(_ pace: Duration) { importPace = max(.zero, pace) }

    /// How long the answer to a request is held back: `responseDelay`, and an import's pace for its objects.
    func holdBack(importing objects: Int) -> Duration {
        responseDelay + importPace * objects
    }

    /// The next `count` import requests are applied, and their connections dropped before any answer (a lost answer).
    public func dropAnswers(ofNextImports count: Int) { droppedAnswers = max(0, count) }

    func takeDroppedAnswer() -> Bool {
        guard droppedAnswers > 0 else { return false }
        droppedAnswers -= 1
        answersDropped += 1
        return true
    }

    // MARK: One request at a time

    /// Waits until no other request is being answered, counting the request and any overlap.
    func enter() async {
        requestCount += 1
        inFlight += 1
        mostInFlight = max(mostInFlight, inFlight)
        if busy {
            overlappingRequests += 1
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
    }

    /// The answer is out: the next waiting request goes.
    func leave() {
        inFlight -= 1
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }

    // MARK: A person in Tally

    /// A person enters a Receipt: `party` credited with an `Agst Ref` to `bill`, `account` (a bank or cash ledger)
    /// debited, on `date` (`yyyymmdd`).
    /// - Returns: the voucher (GUID `<company GUID>-<MASTERID>`); throws Tally's refusal.
    @discardableResult
    public func enterReceipt(
        company: String, party: String, bill: String, amount: TallyAmount, account: String = "Cash", date: Int,
        number: String? = nil, narration: String = ""
    ) throws(TallyRefusal) -> TallyVoucher {
        var voucher = TallyElement(
            "VOUCHER", attributes: [.init("VCHTYPE", "Receipt"), .init("ACTION", "Create")],
            children: [
                .leaf("DATE", "\(date)"), .leaf("VOUCHERTYPENAME", "Receipt"), .leaf("PARTYLEDGERNAME", party),
                .leaf("NARRATION", narration),
            ])
        if let number { voucher.children.append(.leaf("VOUCHERNUMBER", number)) }
        voucher.children += Self.entries([
            TallyEntry(ledger: account, amount: -amount),
            TallyEntry(
                ledger: party, amount: amount, isPartyLedger: true,
                bills: [TallyBillAllocation(name: bill, type: "Agst Ref", amount: amount)]),
        ])
        return try personal(company: company, voucher)
    }

    /// A person alters a voucher: its narration, and (when given) its entries.
    @discardableResult
    public func alterVoucher(
        company: String, guid: String, narration: String? = nil, entries: [TallyEntry]? = nil
    ) throws(TallyRefusal) -> TallyVoucher {
        var voucher = TallyElement(
            "VOUCHER", attributes: [.init("REMOTEID", guid), .init("ACTION", "Alter")], children: [])
        if let narration { voucher.children.append(.leaf("NARRATION", narration)) }
        if let entries { voucher.children += Self.entries(entries) }
        return try personal(company: company, voucher)
    }

    /// A person cancels a voucher (it stays, marked cancelled, and no longer counts).
    @discardableResult
    public func cancelVoucher(company: String, guid: String) throws(TallyRefusal) -> TallyVoucher {
        try personal(
            company: company,
            TallyElement("VOUCHER", attributes: [.init("REMOTEID", guid), .init("ACTION", "Cancel")], children: []))
    }

    /// A person creates a ledger under `parent`, with other fields (`PARTYGSTIN`, …) as given.
    @discardableResult
    public func createLedger(
        company: String, name: String, parent: String, fields: [TallyElement] = []
    ) throws(TallyRefusal) -> TallyLedger {
        guard let index = index(of: company) else { throw TallyRefusal("Company '\(company)' does not exist!") }
        var result = TallyImportResult()
        try companies[index].applyLedger(
            TallyElement(
                "LEDGER", attributes: [.init("NAME", name), .init("ACTION", "Create")],
                children: [.leaf("PARENT", parent)] + fields),
            result: &result)
        guard let ledger = companies[index].ledgers[result.lastMasterID] else {
            throw TallyRefusal("Ledger '\(name)' does not exist!")
        }
        return companies[index].readOut(ledger)
    }

    /// A person renames a ledger (`Alter` with the new name): vouchers naming the old name are refused from then on.
    @discardableResult
    public func renameLedger(company: String, name: String, to newName: String) throws(TallyRefusal) -> TallyLedger {
        guard let index = index(of: company) else { throw TallyRefusal("Company '\(company)' does not exist!") }
        var result = TallyImportResult()
        try companies[index].applyLedger(
            TallyElement(
                "LEDGER", attributes: [.init("NAME", name), .init("ACTION", "Alter")],
                children: [TallyElement("NAME.LIST", children: [.leaf("NAME", newName)])]),
            result: &result)
        guard let ledger = companies[index].ledgers[result.lastMasterID] else {
            throw TallyRefusal("Ledger '\(newName)' does not exist!")
        }
        return companies[index].readOut(ledger)
    }

    private func personal(company: String, _ element: TallyElement) throws(TallyRefusal) -> TallyVoucher {
        guard let index = index(of: company) else { throw TallyRefusal("Company '\(company)' does not exist!") }
        var result = TallyImportResult()
        try companies[index].applyVoucher(element, result: &result)
        guard let voucher = companies[index].vouchers[result.lastVoucherID] else {
            throw TallyRefusal("Voucher does not exist!")
        }
        return companies[index].readOut(voucher)
    }

    static func entries(_ entries: [TallyEntry]) -> [TallyElement] {
        entries.map { entry in
            TallyElement(
                "ALLLEDGERENTRIES.LIST",
                children: [
                    .leaf("LEDGERNAME", entry.ledger), .leaf("ISDEEMEDPOSITIVE", entry.isDeemedPositive ? "Yes" : "No"),
                    .leaf("ISPARTYLEDGER", entry.isPartyLedger ? "Yes" : "No"), .leaf("AMOUNT", "\(entry.amount)"),
                ]
                    + entry.bills.map { bill in
                        TallyElement(
                            "BILLALLOCATIONS.LIST",
                            children: [
                                .leaf("NAME", bill.name), .leaf("BILLTYPE", bill.type),
                                .leaf("AMOUNT", "\(bill.amount)"),
                            ])
                    })
        }
    }

    // MARK: Read-outs

    /// A company's vouchers (cancelled ones included), in ALTERID order.
    public func vouchers(company: String) -> [TallyVoucher] { self.company(company)?.allVouchers ?? [] }

    /// A company's ledgers, in MASTERID order.
    public func ledgers(company: String) -> [TallyLedger] { self.company(company)?.allLedgers ?? [] }

    /// A party's open bills: `New Ref` less `Agst Ref`, cancelled vouchers left out.
    public func outstandingBills(company: String, party: String) -> [TallyBill] {
        self.company(company)?.outstandingBills(party: party) ?? []
    }

    /// A ledger's closing balance, in Tally's sign (a debit is negative).
    public func closingBalance(company: String, ledger: String) -> TallyAmount? {
        self.company(company)?.closingBalance(ledger: ledger)
    }
}
