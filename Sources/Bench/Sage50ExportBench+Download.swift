import Accounting
import Connectors
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Sandbox
import Synchronization

extension Sage50ExportBench {
    /// A downloaded export file.
    struct File {
        let text: String
        let bytes: Int
    }

    /// `GET /integrations/{id}/exports?format=…` as a person downloads it, timed from the request to its last byte,
    /// with this process's resident memory before, during (read every 5 ms) and after, and its peak. The body goes to
    /// a file as it arrives, so the figures are Ledgerwire's, not a copy of the file this client would hold.
    func download(_ format: String, integration: String, in world: BenchWorld) async throws -> File {
        guard let url = URL(string: world.ledgerwire), let host = url.host, let port = url.port else {
            throw Failure(description: "not a URL: \(world.ledgerwire)")
        }
        let path = "/api/v1/integrations/\(integration)/exports?format=\(format)"
        let destination = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ledgerwire-bench-\(format)-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: destination) }
        let before = Memory.read()
        Memory.resetPeak()
        let highest = Memory.Highest(before.resident)
        let clock = ContinuousClock()
        let started = clock.now
        let response = try await withThrowingTaskGroup(of: Answer?.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    let resident = Memory.read().resident
                    highest.note(resident)
                    try? await Task.sleep(for: .milliseconds(5))
                }
                return nil
            }
            group.addTask {
                try await Self.get(
                    path, host: host, port: port, token: world.adminToken, to: destination)
            }
            defer { group.cancelAll() }
            while let answer = try await group.next() {
                if let answer { return answer }
            }
            throw Failure(description: "no answer to the download")
        }
        let elapsed = clock.now - started
        let after = Memory.read()
        let text = try String(contentsOf: destination, encoding: .utf8)
        guard response.status == 200 else {
            throw Failure(description: "\(format) answered \(response.status): \(text)")
        }
        let rows = text.split(separator: "\r\n").count - 1
        say(
            String(
                format: "%@: %.2f s, %d rows, %d bytes; resident memory %.0f MiB before, %.0f MiB at most during"
                    + " (peak %.0f MiB), %.0f MiB after",
                format, Self.seconds(elapsed), rows, response.bytes, before.mebibytes,
                Double(highest.kibibytes) / 1024, after.peakMebibytes, after.mebibytes))
        if let left = response.headers["ledgerwire-left-out"].first { say("  left out: \(left.prefix(300))") }
        return File(text: text, bytes: response.bytes)
    }

    /// A download's answer: its status and headers; the body went to a file.
    struct Answer: Sendable {
        var status: UInt
        var headers: HTTPHeaders
        var bytes: Int
    }

    /// `GET path` over one HTTP/1.1 connection, the body written to `destination` as it arrives.
    static func get(_ path: String, host: String, port: Int, token: String, to destination: URL) async throws
        -> Answer
    {
        guard FileManager.default.createFile(atPath: destination.path, contents: nil) else {
            throw Failure(description: "cannot write \(destination.path)")
        }
        let file = try FileHandle(forWritingTo: destination)
        defer { try? file.close() }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
            head.headers.add(name: "host", value: "\(host):\(port)")
            head.headers.add(name: "authorization", value: "Bearer \(token)")
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            var answer = Answer(status: 0, headers: [:], bytes: 0)
            for try await part in inbound {
                switch part {
                case .head(let response): (answer.status, answer.headers) = (response.status.code, response.headers)
                case .body(let buffer):
                    answer.bytes += buffer.readableBytes
                    try file.write(contentsOf: Data(buffer.readableBytesView))
                case .end: return answer
                }
            }
            throw Failure(description: "the connection closed before the download's end")
        }
    }

    /// Both files as the simulated company's Sage 50 would take them: the customer file, then the audit trail file
    /// with its accounts; every customer once, every invoice its two lines with billing's net and VAT.
    func check(customers: File, transactions: File) throws -> String {
        let checker = Sage50Checker(company: try Self.company())
        let customerFile = checker.checkCustomers(customers.text)
        guard customerFile.isImportable else {
            throw Failure(description: "Sage 50 would refuse the customer file: \(customerFile.problems.prefix(5))")
        }
        let emails = Set(customerFile.records.map(\.email))
        guard customerFile.records.count == self.customers, emails.count == self.customers else {
            throw Failure(description: "\(customerFile.records.count) customers in the file, of \(self.customers)")
        }
        let transactionFile = checker.checkTransactions(transactions.text, customers: customerFile)
        guard transactionFile.isImportable else {
            throw Failure(
                description: "Sage 50 would refuse the transactions file: \(transactionFile.problems.prefix(5))")
        }
        var lines: [String: [Sage50TransactionLine]] = [:]
        for line in transactionFile.lines where line.type == .salesInvoice {
            lines[line.reference, default: []].append(line)
        }
        let expected = Set((1...invoices).map { Self.numberPrefix + String($0) })
        guard Set(lines.keys) == expected, transactionFile.lines.count == 2 * invoices else {
            throw Failure(
                description: "\(lines.count) invoices in \(transactionFile.lines.count) lines, of \(invoices)")
        }
        let wrong = lines.filter { _, lines in
            let amounts = Set(lines.map { "\($0.nominal) \($0.net.pence) \($0.taxCode) \($0.tax.pence)" })
            return amounts != ["4000 100000 1 20000", "4001 30000 2 0"]
        }
        if let example = wrong.first {
            throw Failure(description: "\(wrong.count) invoices without billing's lines, e.g. \(example)")
        }
        let warnings = customerFile.problems.count + transactionFile.problems.count
        return "the Sage 50 checker takes both files (\(warnings) warnings); \(self.customers) customers, each once;"
            + " \(invoices) invoices, each with its two lines (4000 1,000.00 + T1 200.00, 4001 300.00 T2)"
    }

    /// The school's Sage 50 company: financial year from April 2026, program date late November.
    static func company() throws -> Sage50Company {
        guard let start = Sage50Date(day: 1, month: 4, year: 2026),
            let today = Sage50Date(day: 30, month: 11, year: 2026)
        else { throw Failure(description: "not a date") }
        return Sage50Company(name: "Bench School", financialYearStart: start, programDate: today)
    }

    func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// This process's memory, from `/proc/self/status` (Linux).
enum Memory {
    /// Resident memory now (`VmRSS`) and at most since the last reset (`VmHWM`), in KiB.
    struct Reading {
        var resident = 0
        var peak = 0
        var mebibytes: Double { Double(resident) / 1024 }
        var peakMebibytes: Double { Double(peak) / 1024 }
    }

    /// The highest resident memory noted, in KiB.
    final class Highest: Sendable {
        private let value: Mutex<Int>

        init(_ kibibytes: Int) { value = Mutex(kibibytes) }

        var kibibytes: Int { value.withLock { $0 } }

        func note(_ kibibytes: Int) { value.withLock { $0 = max($0, kibibytes) } }
    }

    static func read() -> Reading {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return Reading() }
        var reading = Reading()
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kibibytes = Int(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { reading.resident = kibibytes }
            if fields[0] == "VmHWM:" { reading.peak = kibibytes }
        }
        return reading
    }

    /// Resets `VmHWM` to the resident memory now (writing 5 to `/proc/self/clear_refs`, Linux 4.0 and later).
    static func resetPeak() {
        try? Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))
    }
}
