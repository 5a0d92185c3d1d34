import Accounting
import Connectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// `PUT …/mappings` replaces, `PATCH …/mappings` merges; both audited. (Checking the ids against the platform's
/// chart is end to end, with the QuickBooks emulator: `QuickBooksMappingTests`.)
@Suite struct MappingsAPITests {
    func integration(_ client: Client) async throws -> String {
        let created = try await client.call(
            .post, "/api/v1/integrations",
            json: ["tenant_id": "greenfield", "platform": "quickbooks_online", "name": "Greenfield books"])
        return try #require(created.json["id"]?.stringValue)
    }

    @Test func patchMergesTheCodesGivenAndKeepsEveryOtherMapping() async throws {
        try await TestApp().test { client in
            let id = try await integration(client)
            let first = try await client.call(
                .put, "/api/v1/integrations/\(id)/mappings",
                json: [
                    "accounts": ["4000-TUITION": "1", "4100-TRANSPORT": "2"], "tax_codes": ["GST18": "5"],
                    "deposit_accounts": ["BANK-MAIN": "3"],
                ])
            #expect(first.status == .ok)

            // One new code, one changed, one removed: the rest stay as they were.
            let patched = try await client.call(
                .patch, "/api/v1/integrations/\(id)/mappings",
                json: [
                    "accounts": ["4200-MEALS": "9", "4100-TRANSPORT": "8"], "tax_codes": ["GST18": .null],
                    "items": ["*": "7"],
                ])
            #expect(patched.status == .ok, "\(patched.json)")
            let expected: JSONValue = [
                "accounts": ["4000-TUITION": "1", "4100-TRANSPORT": "8", "4200-MEALS": "9"], "tax_codes": [:],
                "items": ["*": "7"], "deposit_accounts": ["BANK-MAIN": "3"],
            ]
            let shown = try await client.call(.get, "/api/v1/integrations/\(id)/mappings").json
            #expect(shown == expected)
            for member in ["accounts", "tax_codes", "items", "deposit_accounts"] {
                #expect(patched.json[member] == expected[member])
            }
            // Not connected: QuickBooks could not be asked about the ids, and the answer says so.
            #expect(patched.json["validated"] == false)
            #expect(patched.json["validation"]?.stringValue?.contains("pending") == true)

            let audit = try await client.call(.get, "/api/v1/audit?integration_id=\(id)").json
            let actions = audit["items"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? []
            #expect(actions.contains("mappings.saved") && actions.contains("mappings.changed"), "\(actions)")
        }
    }

    @Test func putReplacesEveryMappingAndSaysWhatItRemoved() async throws {
        try await TestApp().test { client in
            let id = try await integration(client)
            _ = try await client.call(
                .put, "/api/v1/integrations/\(id)/mappings",
                json: ["accounts": ["4000-TUITION": "1", "4100-TRANSPORT": "2"], "tax_codes": ["GST18": "5"]])
            let replaced = try await client.call(
                .put, "/api/v1/integrations/\(id)/mappings", json: ["accounts": ["4200-MEALS": "9"]])
            #expect(replaced.status == .ok)
            #expect(replaced.json["accounts"] == ["4200-MEALS": "9"] && replaced.json["tax_codes"] == [:])
            #expect(
                replaced.json["removed"]
                    == [
                        "accounts": ["4000-TUITION": "1", "4100-TRANSPORT": "2"], "tax_codes": ["GST18": "5"],
                        "items": [:], "deposit_accounts": [:],
                    ])
            let shown = try await client.call(.get, "/api/v1/integrations/\(id)/mappings").json
            #expect(shown["accounts"] == ["4200-MEALS": "9"] && shown["tax_codes"] == [:])
        }
    }

    @Test func aMalformedMappingIsRefusedNamingTheField() async throws {
        try await TestApp().test { client in
            let id = try await integration(client)
            let put = try await client.call(
                .put, "/api/v1/integrations/\(id)/mappings",
                json: ["accounts": ["4000-TUITION": .null, "4100-TRANSPORT": 2], "ledgers": [:]])
            #expect(put.status == .unprocessableContent)
            let fields = put.json["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue }
            #expect(
                Set(fields ?? [])
                    == ["mappings.accounts.4000-TUITION", "mappings.accounts.4100-TRANSPORT", "mappings.ledgers"])
            let patch = try await client.call(
                .patch, "/api/v1/integrations/\(id)/mappings", json: ["tax_codes": ["GST18": ""]])
            #expect(patch.status == .unprocessableContent)
            #expect(patch.json["errors"]?.arrayValue?.first?["field"] == "mappings.tax_codes.GST18")
            #expect(try await client.call(.get, "/api/v1/integrations/\(id)/mappings").json["accounts"] == [:])
        }
    }

    /// The kinds of mapping are the platform's: one that keeps ledgers takes them, and refuses the items it does not
    /// use, naming the member.
    @Test func aPlatformTakesTheKindsOfMappingItUsesAndRefusesTheOthers() async throws {
        let ledger = CodeMappings.Kind(rawValue: "ledger")
        let connector = ScriptedConnector(
            platform: .tally,
            capabilities: ConnectorCapabilities(
                webhooks: false, maximumBatchSize: 1, changeFeed: false,
                mappingKinds: CodeMappings.commonKinds.union([ledger])))
        try await TestApp(connectors: [connector]).test { client in
            let created = try await client.call(
                .post, "/api/v1/integrations", json: ["tenant_id": "greenfield", "platform": "tally", "name": "Tally"])
            let id = try #require(created.json["id"]?.stringValue, "\(created.json)")
            let put = try await client.call(
                .put, "/api/v1/integrations/\(id)/mappings",
                json: [
                    "accounts": ["4000-TUITION": "1"], "tax_codes": [:], "items": [:], "deposit_accounts": [:],
                    "ledgers": ["4000-TUITION": "Tuition Fees"],
                ])
            #expect(put.status == .ok, "\(put.json)")
            let shown = try await client.call(.get, "/api/v1/integrations/\(id)/mappings").json
            #expect(shown["ledgers"] == ["4000-TUITION": "Tuition Fees"])
            #expect(shown["accounts"] == ["4000-TUITION": "1"])

            let items = try await client.call(
                .patch, "/api/v1/integrations/\(id)/mappings", json: ["items": ["*": "7"]])
            #expect(items.status == .unprocessableContent)
            #expect(items.headers[.contentType] == "application/problem+json")
            let error = try #require(items.json["errors"]?.arrayValue?.first)
            #expect(error["field"] == "mappings.items")
            #expect(error["message"]?.stringValue?.contains("ledgers") == true, "\(error)")
            #expect(try await client.call(.get, "/api/v1/integrations/\(id)/mappings").json["items"] == [:])
        }
    }
}
