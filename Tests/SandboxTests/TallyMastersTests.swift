import Connectors
import Foundation
import Testing

@testable import Sandbox

/// Groups and ledgers: Tally's reserved groups, parents that must exist, names unique without regard to case,
/// `REMOTEID` upserts, deletes, and the counters of the answer.
@Suite struct TallyMastersTests {
    typealias H = TallyHarness

    @Test func reservedGroupsAndSeedLedgersArePreSeededWithTheirParents() async throws {
        try await H.run { tally in
            let groups = try await tally.collection("Group")
            let parents = Dictionary(
                uniqueKeysWithValues: groups.objects.map { ($0[attribute: "NAME"] ?? "", $0.value("PARENT") ?? "") })
            #expect(parents["Sundry Debtors"] == "Current Assets")
            #expect(parents["Duties & Taxes"] == "Current Liabilities")
            #expect(parents["Bank Accounts"] == "Current Assets")
            #expect(parents["Sales Accounts"] == "Primary", "the reader drops &#4;, leaving ' Primary' trimmed")
            #expect(groups.text.contains("<PARENT>&#4; Primary</PARENT>"), "Tally's quirk is reproduced")
            let ledgers = try await tally.collection("Ledger")
            #expect(ledgers.objects.map { $0[attribute: "NAME"] } == ["Cash", "Profit & Loss A/c"])
            #expect(ledgers.objects.first?.value("PARENT") == "Cash-in-Hand")
        }
    }

    @Test func aLedgerNeedsAnExistingParentGroup() async throws {
        try await H.run { tally in
            let answer = try await tally.importing([H.ledger("Asha Rao", parent: "Sundry Debtorz")])
            #expect(answer.counters["CREATED"] == 0 && answer.counters["ERRORS"] == 1)
            #expect(answer.lineErrors == ["Group 'Sundry Debtorz' does not exist!"])
            #expect(answer.status == "0")
        }
    }

    @Test func ledgerNamesAreUniqueWithoutRegardToCaseAndAcrossGroups() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            let answer = try await tally.importing([
                H.ledger("ASHA RAO", parent: "Sundry Debtors"),
                H.ledger("Sundry Creditors", parent: "Sundry Debtors"),
                H.ledger("Asha Rao", parent: "Sundry Debtors", remoteID: "lw-customer-9"),
            ])
            #expect(answer.counters["ERRORS"] == 3)
            #expect(
                answer.lineErrors == [
                    "Ledger 'ASHA RAO' already exists!", "Ledger 'Sundry Creditors' already exists!",
                    "Ledger 'Asha Rao' already exists!",
                ])
        }
    }

    @Test func aCreateWithTheRemoteIDOfAnExistingLedgerAltersIt() async throws {
        try await H.run { tally in
            let first = try await tally.importing([
                H.ledger(
                    "Asha Rao", parent: "Sundry Debtors", remoteID: "lw-customer-1",
                    extra: "<LEDSTATENAME>Karnataka</LEDSTATENAME>")
            ])
            #expect(first.counters["CREATED"] == 1)
            let masterID = first.counters["LASTMID"]
            let second = try await tally.importing([
                H.ledger(
                    "Asha Rao (2)", parent: "Sundry Debtors", remoteID: "lw-customer-1",
                    extra: "<LEDSTATENAME>Kerala</LEDSTATENAME><EMAIL>asha@example.in</EMAIL>")
            ])
            #expect(second.counters["CREATED"] == 0 && second.counters["ALTERED"] == 1)
            #expect(second.counters["LASTMID"] == masterID, "the ledger keeps its MASTERID")
            let ledgers = await tally.sandbox.ledgers(company: H.company)
            let ledger = try #require(ledgers.first { $0.remoteID == "lw-customer-1" })
            #expect(ledger.name == "Asha Rao (2)" && ledger.value("LEDSTATENAME") == "Kerala")
            #expect(ledger.value("EMAIL") == "asha@example.in")
            #expect(ledger.guid == "lw-customer-1")
            #expect(!ledgers.contains { $0.name == "Asha Rao" })
        }
    }

    @Test func everyImportedFieldIsExportedWithIdentitiesAndTheClosingBalance() async throws {
        try await H.run { tally in
            let fields =
                "<MAILINGNAME.LIST><MAILINGNAME>आशा राव</MAILINGNAME></MAILINGNAME.LIST><ADDRESS.LIST><ADDRESS>"
                + "12 MG Road</ADDRESS></ADDRESS.LIST><LEDSTATENAME>Karnataka</LEDSTATENAME><PARTYGSTIN>"
                + "29ABCDE1234F1Z5</PARTYGSTIN><GSTREGISTRATIONTYPE>Regular</GSTREGISTRATIONTYPE>"
                + "<ISBILLWISEON>Yes</ISBILLWISEON><OPENINGBALANCE>-500.00</OPENINGBALANCE>"
            try await tally.importing([H.ledger("आशा राव", parent: "Sundry Debtors", extra: fields)])
            let ledgers = try await tally.collection("Ledger", formulae: ["$Parent = \"Sundry Debtors\""])
            let ledger = try #require(ledgers.objects.first)
            #expect(ledgers.objects.count == 1)
            #expect(ledger[attribute: "NAME"] == "आशा राव" && ledger[attribute: "RESERVEDNAME"] == "")
            for name in [
                "NAME.LIST", "PARENT", "MAILINGNAME.LIST", "ADDRESS.LIST", "LEDSTATENAME", "PARTYGSTIN",
                "GSTREGISTRATIONTYPE", "GUID", "MASTERID", "ALTERID", "CLOSINGBALANCE",
            ] {
                #expect(ledger.child(name) != nil, "\(name) missing")
            }
            #expect(ledger.child("MAILINGNAME.LIST")?.value("MAILINGNAME") == "आशा राव")
            #expect(ledger.value("CLOSINGBALANCE") == "-500.00")
            #expect(ledger.value("GUID")?.hasPrefix("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-") == true)
        }
    }

    @Test func alterAndDeleteFindTheLedgerByName() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            let answer = try await tally.importing([
                H.ledger("HDFC Bank", parent: "Bank Accounts", action: "Alter", extra: "<EMAIL>a@b.in</EMAIL>"),
                H.ledger("Nobody", parent: "Bank Accounts", action: "Alter"),
                H.ledger("HDFC Bank", parent: "Bank Accounts", action: "Delete"),
            ])
            #expect(answer.counters["ALTERED"] == 1 && answer.counters["DELETED"] == 1)
            #expect(answer.lineErrors == ["Ledger 'Nobody' does not exist!"])
            #expect(await tally.sandbox.ledgers(company: H.company).contains { $0.name == "HDFC Bank" } == false)
        }
    }

    @Test func aLedgerWithVouchersCannotBeDeleted() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing([H.sale("lw-inv-1", number: "INV-1")])
            let answer = try await tally.importing([H.ledger("Asha Rao", parent: "Sundry Debtors", action: "Delete")])
            #expect(answer.counters["DELETED"] == 0 && answer.counters["ERRORS"] == 1)
        }
    }

    @Test func groupsAreCreatedUnderExistingParentsAndBumpAlterIDs() async throws {
        try await H.run { tally in
            let before = try #require(await tally.sandbox.company(H.company))
            let answer = try await tally.importing([
                "<GROUP NAME=\"Term Fees\" ACTION=\"Create\"><NAME.LIST><NAME>Term Fees</NAME></NAME.LIST>"
                    + "<PARENT>Sales Accounts</PARENT></GROUP>",
                "<GROUP NAME=\"Orphans\" ACTION=\"Create\"><PARENT>Nowhere</PARENT></GROUP>",
                H.ledger("Lab Fees", parent: "Term Fees"),
            ])
            #expect(answer.counters["CREATED"] == 2 && answer.counters["ERRORS"] == 1)
            #expect(answer.lineErrors == ["Group 'Nowhere' does not exist!"])
            #expect(answer.counters["LASTMID"] == before.lastMasterID + 2, "masters bump LASTMID")
            let groups = try await tally.collection("Group", formulae: ["$AlterID > \(before.lastAlterID)"])
            #expect(groups.objects.map { $0[attribute: "NAME"] } == ["Term Fees"])
            #expect(groups.objects.first?.value("PARENT") == "Sales Accounts")
            let company = try #require(await tally.sandbox.company(H.company))
            #expect(company.altMasterID == before.lastAlterID + 2)
        }
    }
}
