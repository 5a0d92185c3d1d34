import Connectors
import SyncEngine
import Testing

/// The one adoption rule: the first match not linked to another billing record.
@Suite struct AdoptionTests {
    static func match(_ id: String, by field: String = "DisplayName") -> RemoteMatch {
        RemoteMatch(remoteID: id, matchedBy: field, adoption: .success(PushResult(remoteID: id, remoteVersion: "0")))
    }

    @Test func nothingFoundIsCreated() {
        #expect(Adoption.decide(matches: [], linked: [:], localID: "cus_2") == .create(notAdoptable: []))
    }

    @Test func aMatchLinkedToNoBillingRecordIsAdopted() {
        #expect(
            Adoption.decide(matches: [Self.match("7")], linked: [:], localID: "cus_1") == .adopt(Self.match("7")))
    }

    @Test func aMatchLinkedToAnotherBillingRecordIsNeverAdopted() {
        let decision = Adoption.decide(matches: [Self.match("7")], linked: ["7": "cus_1"], localID: "cus_2")
        #expect(decision == .create(notAdoptable: [Self.match("7")]))
    }

    @Test func aMatchAlreadyLinkedToThisRecordIsAdopted() {
        #expect(
            Adoption.decide(matches: [Self.match("7")], linked: ["7": "cus_2"], localID: "cus_2")
                == .adopt(Self.match("7")))
    }

    @Test func theFirstMatchFreeOfOthersIsAdoptedPastOnesThatAreTaken() {
        let matches = [Self.match("7"), Self.match("9", by: "PrimaryEmailAddr")]
        #expect(
            Adoption.decide(matches: matches, linked: ["7": "cus_1"], localID: "cus_2")
                == .adopt(Self.match("9", by: "PrimaryEmailAddr")))
    }

    @Test func aRecordMatchedTwiceByTheSameFieldIsNamedOnce() {
        let decision = Adoption.decide(
            matches: [Self.match("7"), Self.match("7"), Self.match("7", by: "PrimaryEmailAddr")],
            linked: ["7": "cus_1"], localID: "cus_2")
        #expect(decision == .create(notAdoptable: [Self.match("7"), Self.match("7", by: "PrimaryEmailAddr")]))
    }
}
