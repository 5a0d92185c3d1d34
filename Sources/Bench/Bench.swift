import ArgumentParser
import Foundation
import Histogram
import Ingestion
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `ledgerwire-bench`: Ledgerwire's benchmarks. Each prints its figures.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledgerwire-bench",
        abstract: "Ledgerwire's benchmarks.",
        subcommands: [
            Ingest.self, QuickBooksBench.self, XeroBench.self, SageBusinessCloudBench.self, Sage50ExportBench.self,
            TallyBench.self, LatencyBench.self, DashboardSeed.self,
            DashboardQueries.self,
            DashboardPages.self,
        ],
        defaultSubcommand: Ingest.self
    )
}

/// `ledgerwire-bench ingest` (the default): posts signed billing events over N keep-alive connections and reports
/// throughput and acknowledgement latency (HdrHistogram).
///
/// At a fixed rate each request has a scheduled send time, and its latency is measured from that time,
/// so a stalled server shows up as latency rather than as politely fewer requests (no coordinated omission).
struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Load generator for POST /webhooks/billing."
    )

    @Option(help: "Server base URL.")
    var url: String = "http://127.0.0.1:8080"

    @Option(help: "Billing webhook secret (whsec_…) registered on the server.")
    var secret: String

    @Option(help: "Concurrent keep-alive connections.")
    var connections: Int = 64

    @Option(help: "Events per second in total; 0 sends flat out.")
    var rate: Int = 0

    @Option(help: "Measured seconds.")
    var duration: Int = 20

    @Option(help: "Seconds of load before measuring starts.")
    var warmup: Int = 3

    @Option(help: "Event type: invoice (invoice.issued with its customer, 2 commands) or customer.")
    var event: String = "invoice"

    func run() async throws {
        guard let parsed = URL(string: url), let host = parsed.host else { throw ValidationError("--url is not a URL") }
        let port = parsed.port ?? 80
        let key = try StandardWebhooks.keyBytes(fromSecret: secret)
        let run = Run(
            rate: rate,
            warmup: .seconds(warmup),
            duration: .seconds(duration),
            start: ContinuousClock.now + .milliseconds(200)
        )
        let runID = UUID().uuidString.prefix(8).lowercased()
        let mode = rate > 0 ? "\(rate) events/s" : "flat out"
        print("ledgerwire-bench: \(connections) connections, \(mode), \(duration) s measured after \(warmup) s warm-up")
        let results = try await withThrowingTaskGroup(of: Connection.Result.self) { group in
            for index in 0..<connections {
                group.addTask {
                    try await Connection(host: host, port: port, key: key, event: event, prefix: "\(runID)-\(index)")
                        .drive(run)
                }
            }
            var merged = Connection.Result()
            for try await result in group { merged.merge(result) }
            return merged
        }
        results.report(duration: duration)
    }
}

/// The shared schedule of a run.
final class Run: Sendable {
    let rate: Int
    let warmup: Duration
    let duration: Duration
    let start: ContinuousClock.Instant
    private let nextSlot = Atomic<Int>(0)

    init(rate: Int, warmup: Duration, duration: Duration, start: ContinuousClock.Instant) {
        self.rate = rate
        self.warmup = warmup
        self.duration = duration
        self.start = start
    }

    var measureFrom: ContinuousClock.Instant { start + warmup }
    var end: ContinuousClock.Instant { start + warmup + duration }

    /// The scheduled send time of the next request at a fixed rate, or `nil` once the run is over.
    func nextScheduledTime() -> ContinuousClock.Instant? {
        let slot = nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue
        let at = start + .nanoseconds(Int64(slot) * 1_000_000_000 / Int64(rate))
        return at < end ? at : nil
    }
}

/// One keep-alive HTTP/1.1 connection sending one request at a time.
struct Connection {
    let host: String
    let port: Int
    let key: [UInt8]
    let event: String
    let prefix: String

    struct Result: Sendable {
        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var acknowledged = 0
        var rejected = 0
        var transportErrors = 0
        var statuses: [UInt: Int] = [:]

        mutating func merge(_ other: Result) {
            latencies.add(other.latencies)
            acknowledged += other.acknowledged
            rejected += other.rejected
            transportErrors += other.transportErrors
            statuses.merge(other.statuses, uniquingKeysWith: +)
        }

        func report(duration: Int) {
            func ms(_ percentile: Double) -> String {
                String(format: "%.2f ms", Double(latencies.valueAtPercentile(percentile)) / 1000)
            }
            let errors = rejected + transportErrors
            print("acknowledged \(acknowledged)  errors \(errors) (non-2xx \(rejected), transport \(transportErrors))")
            if !statuses.isEmpty { print("non-2xx statuses: \(statuses)") }
            print(String(format: "throughput %.0f acknowledged events/s", Double(acknowledged) / Double(duration)))
            print(
                "ack latency: p50 \(ms(50))  p99 \(ms(99))  p99.9 \(ms(99.9))  max "
                    + String(format: "%.2f ms", Double(latencies.max) / 1000)
            )
        }
    }

    func drive(_ run: Run) async throws -> Result {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        var result = Result()
        try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            var sequence = 0
            try await Task.sleep(until: run.start, clock: .continuous)
            while true {
                let scheduled: ContinuousClock.Instant
                if run.rate > 0 {
                    guard let at = run.nextScheduledTime() else { break }
                    try await Task.sleep(until: at, clock: .continuous)
                    scheduled = at
                } else {
                    scheduled = ContinuousClock.now
                    guard scheduled < run.end else { break }
                }
                sequence += 1
                let body = Self.body(event: event, id: "\(prefix)-\(sequence)")
                let webhookID = "msg_\(prefix)-\(sequence)"
                let timestamp = Int64(Date().timeIntervalSince1970)
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/webhooks/billing")
                head.headers.add(name: "host", value: "\(host):\(port)")
                head.headers.add(name: "content-type", value: "application/json")
                head.headers.add(name: "content-length", value: String(body.count))
                head.headers.add(name: "webhook-id", value: webhookID)
                head.headers.add(name: "webhook-timestamp", value: String(timestamp))
                head.headers.add(
                    name: "webhook-signature",
                    value: StandardWebhooks.sign(id: webhookID, timestamp: timestamp, body: body, key: key)
                )
                var status: UInt = 0
                do {
                    try await outbound.write(.head(head))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                    try await outbound.write(.end(nil))
                    reading: while let part = try await responses.next() {
                        switch part {
                        case .head(let response): status = response.status.code
                        case .body: continue
                        case .end: break reading
                        }
                    }
                } catch {
                    result.transportErrors += 1
                    break
                }
                let finished = ContinuousClock.now
                guard scheduled >= run.measureFrom else { continue }
                if (200..<300).contains(status) {
                    result.acknowledged += 1
                    let latency = finished - scheduled
                    let micros =
                        latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000
                    _ = result.latencies.record(UInt64(max(0, micros)))
                } else {
                    result.rejected += 1
                    result.statuses[status, default: 0] += 1
                }
            }
        }
        return result
    }

    /// `updated_at` for events sent this second; formatting a date per request would load the client, not the server.
    static let clock = Mutex<(second: Int64, text: String)>((0, ""))

    static func now() -> String {
        let second = Int64(Date().timeIntervalSince1970)
        return clock.withLock { cached in
            if cached.second != second {
                let formatter = ISO8601DateFormatter()
                cached = (second, formatter.string(from: Date(timeIntervalSince1970: TimeInterval(second))))
            }
            return cached.text
        }
    }

    /// A realistic event with unique ids: an INR invoice with two GST lines and its customer.
    static func body(event: String, id: String) -> [UInt8] {
        let updatedAt = now()
        if event == "customer" {
            return Array(
                #"{"type":"customer.created","timestamp":"\#(updatedAt)","tenant_id":"bench","data":{"id":"cus_\#(id)","name":"Family \#(id)","email":"family.\#(id)@example.in","currency":"INR","updated_at":"\#(updatedAt)"}}"#
                    .utf8
            )
        }
        return Array(
            #"""
            {"type":"invoice.issued","timestamp":"\#(updatedAt)","tenant_id":"bench","data":{"id":"inv_\#(id)","number":"B-\#(id)","customer_id":"cus_\#(id)","customer":{"id":"cus_\#(id)","name":"Family \#(id)","email":"family.\#(id)@example.in","currency":"INR","updated_at":"\#(updatedAt)"},"currency":"INR","issue_date":"2026-11-21","due_date":"2026-12-05","lines":[{"id":"l1","description":"Term 2 tuition","course_id":"grade-6","quantity":1,"unit_amount":"45000.00","amount":"45000.00","revenue_account":"4000-TUITION","tax_code":"GST18","tax_amount":"8100.00"},{"id":"l2","description":"School bus, 3 months","course_id":"bus-7","quantity":3,"unit_amount":"1500.00","discount_amount":"500.00","amount":"4000.00","revenue_account":"4100-TRANSPORT","tax_code":"GST18","tax_amount":"720.00"}],"subtotal":"49000.00","tax_total":"8820.00","total":"57820.00","updated_at":"\#(updatedAt)"}}
            """#.utf8
        )
    }
}

extension Array where Element: Comparable {
    /// The nearest-rank percentile (`fraction` of 1: 0.5, 0.99, 1 for the maximum); `nil` when empty.
    func percentile(_ fraction: Double) -> Element? {
        guard !isEmpty else { return nil }
        let sorted = self.sorted()
        return sorted[
            Swift.min(sorted.count - 1, Swift.max(0, Int((Double(sorted.count) * fraction).rounded(.up)) - 1))]
    }
}
