import ArgumentParser
import Connectors
import Foundation
import Sandbox

extension SandboxCommand {
    /// `ledgerwire sandbox quickbooks-desktop`: a fake QuickBooks Web Connector with a fake QuickBooks company behind
    /// it, polling a Ledgerwire's `/qbwc` as the Web Connector on a school's PC does.
    struct QuickBooksDesktop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "quickbooks-desktop",
            abstract:
                "Emulate the QuickBooks Web Connector and a QuickBooks Desktop company: run against a Ledgerwire's "
                + "/qbwc every few seconds, as the Web Connector on a school's PC does."
        )

        @Option(help: "The Ledgerwire to poll: its base URL or its /qbwc address.") var server: String
        @Option(help: "The integration's Web Connector user name (settings.username).") var username: String
        @Option(help: "The integration's Web Connector password.") var password: String
        @Option(help: "Seconds between runs.") var every: Int = 60
        @Option(help: "The company's country: US, UK, CA or AU.") var country = "US"
        @Option(help: "Stop after this many runs (0: run until stopped).") var runs = 0

        func validate() throws {
            guard ["US", "UK", "CA", "AU"].contains(country) else {
                throw ValidationError("--country must be US, UK, CA or AU")
            }
            guard (1...86_400).contains(every) else { throw ValidationError("--every must be 1 to 86400 seconds") }
            guard runs >= 0 else { throw ValidationError("--runs must be 0 or more") }
        }

        func run() async throws {
            var address = server.hasSuffix("/") ? String(server.dropLast()) : server
            if !address.hasSuffix("/qbwc") { address += "/qbwc" }
            guard let url = URL(string: address) else { throw ValidationError("--server must be a URL") }
            let file: WebConnectorFile
            do {
                file = try WebConnectorFile(
                    appName: "Ledgerwire sandbox", appURL: url, supportURL: url, userName: username,
                    ownerID: WebConnectorFile.guid(from: "sandbox-owner"),
                    fileID: WebConnectorFile.guid(from: "sandbox-file:\(username)"),
                    runEveryMinutes: max(1, every / 60))
            } catch {
                throw ValidationError("--server: \(error.message)")
            }
            let company = QuickBooksDesktopCompany(country: country)
            let lists = [
                ("item Tuition", company.addItem("Tuition")), ("item School bus", company.addItem("School bus")),
                ("tax code Tax", company.addTaxCode(country == "US" ? "Tax" : "S", taxable: true)),
                ("tax code Non", company.addTaxCode(country == "US" ? "Non" : "Z", taxable: false)),
                ("sales-tax item 8.25 %", company.addSalesTaxItem(rateBasisPoints: 825)),
                ("bank account Checking", company.addAccount("Checking", type: "Bank")),
            ]
            let connector: WebConnector
            do {
                connector = try WebConnector(
                    qwc: file.xml, password: password, company: company,
                    transport: HTTPClientTransport(
                        policy: DestinationPolicy(allowsInsecure: true, allowsPrivateNetworks: true)))
            } catch {
                throw ValidationError("the Web Connector refused the application: \(error.description)")
            }
            print("QuickBooks Desktop sandbox (\(country)), polling \(address) every \(every) s. The company's lists:")
            for (name, id) in lists { print("  \(name): \(id)") }
            var count = 0
            while !Task.isCancelled {
                count += 1
                do {
                    let run = try await connector.run()
                    print(Self.describe(run, company: company))
                } catch {
                    print("run \(count) failed: \(error)")
                }
                if runs > 0, count >= runs { break }
                try await Task.sleep(for: .seconds(every))
            }
        }

        static func describe(_ run: WebConnector.Run, company: QuickBooksDesktopCompany) -> String {
            var text = "authenticate: \(run.authentication.isEmpty ? "ok" : run.authentication)"
            if let answer = run.connectionErrorAnswer { text += ", connectionError: \(answer)" }
            if run.documents > 0 {
                text += ", \(run.documents) documents, \(run.requests) requests, percent \(run.percents)"
            }
            if let error = run.lastError { text += ", last error: \(error)" }
            text +=
                "; the company has \(company.customers.count) customers, \(company.documents.count) documents, "
                + "\(company.payments.count) payments"
            return text
        }
    }
}
