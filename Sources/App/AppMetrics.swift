import Accounting
import Hummingbird
import Logging
public import Persistence
public import Prometheus
public import SyncEngine

/// The server's Prometheus metrics. Labels are bounded sets: source and outcome, never tenants or ids.
public struct AppMetrics: Sendable {
    /// Outcomes of a webhook request: the delivery statuses plus the refusals before the inbox.
    public enum Outcome: String, Sendable, CaseIterable {
        case accepted, duplicate, superseded, rejected, unroutable, unauthorized, tooLarge = "too_large", error
        /// A verified check with nothing in it (Xero's intent-to-receive): answered, not kept.
        case verified
    }

    public let registry: PrometheusCollectorRegistry
    private let received: [String: Counter]
    private let outcomes: [String: [Outcome: Counter]]
    private let ackLatency: [String: DurationHistogram]
    private let batchSizes: ValueHistogram
    /// The sync engine's metrics (`SyncEngineMetrics`), into the same registry.
    public let engine: SyncEngineMetrics

    /// - Parameter sources: the webhook sources counted (the connector registry's).
    public init(sources: [String], registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.engine = SyncEngineMetrics(factory: PrometheusMetricsFactory(registry: registry))
        var received: [String: Counter] = [:]
        var outcomes: [String: [Outcome: Counter]] = [:]
        var ackLatency: [String: DurationHistogram] = [:]
        for source in sources {
            received[source] = registry.makeCounter(
                descriptor: .init(
                    namespace: "ledgerwire",
                    metricName: "webhooks_received",
                    unitName: "total",
                    helpText: "Webhook requests received, before verification."
                ),
                labels: [("source", source)]
            )
            for outcome in Outcome.allCases {
                outcomes[source, default: [:]][outcome] = registry.makeCounter(
                    descriptor: .init(
                        namespace: "ledgerwire",
                        metricName: "webhooks",
                        unitName: "total",
                        helpText: "Webhook requests by outcome."
                    ),
                    labels: [("source", source), ("outcome", outcome.rawValue)]
                )
            }
            ackLatency[source] = registry.makeDurationHistogram(
                descriptor: .init(
                    namespace: "ledgerwire",
                    metricName: "webhook_ack",
                    unitName: "seconds",
                    helpText: "Time from a webhook request's arrival to its answer (durable for 2xx)."
                ),
                labels: [("source", source)],
                buckets: [
                    .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                    .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
                ]
            )
        }
        self.received = received
        self.outcomes = outcomes
        self.ackLatency = ackLatency
        self.batchSizes = registry.makeValueHistogram(
            descriptor: .init(
                namespace: "ledgerwire",
                metricName: "commit_batch",
                unitName: "size",
                helpText: "Deliveries committed together in one transaction (group commit)."
            ),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        )
    }

    public func recordReceived(source: String) {
        received[source]?.increment()
    }

    public func record(source: String, outcome: Outcome, latency: Duration) {
        outcomes[source]?[outcome]?.increment()
        ackLatency[source]?.record(latency)
    }

    public func recordBatch(size: Int) {
        batchSizes.record(Double(size))
    }

    public static func outcome(for status: DeliveryStatus) -> Outcome {
        switch status {
        case .accepted: .accepted
        case .duplicate: .duplicate
        case .superseded: .superseded
        case .rejected: .rejected
        case .unroutable: .unroutable
        }
    }
}
