import Accounting
import Connectors
import Foundation
import Hummingbird
import Persistence

/// `/`: every integration of the person's schools with its health — status (and why it is disconnected), last
/// successful and next scheduled sync, backlog, jobs held for a mapping, failures and dead letters in the last 24 h,
/// open conflicts, the rate-limit budget left — a 24-hour chart of records synced and errors, and "Sync now" /
/// "Full sync". The table and chart update live.
struct OverviewPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let rateLimiters: RateLimiters
    let changeFeedPlatforms: Set<Platform>
    let now: @Sendable () -> Timestamp

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/", use: show)
        return routes
    }

    struct View: Sendable {
        var integrations: [Row]
        var chart: Chart
        var totals: Totals
    }

    struct Totals: Sendable {
        var synced: Int
        var errors: Int
    }

    struct Row: Sendable {
        var id: String
        var name: String
        var tenant: String
        var platform: String
        /// The status's colour (its CSS class).
        var status: String
        /// The status in words: the integration's status, or for Sage 50 the step its records wait for.
        var statusLabel: String
        var statusReason: String?
        var connected: Bool
        var lastSync: String
        var nextSync: String
        var backlog: Int
        var needsMapping: Int?
        var failures: Int?
        var deadLetters: Int?
        var conflicts: Int?
        var budget: String
        var progress: Progress?
    }

    struct Progress: Sendable {
        var mode: String
        var processed: Int
        var total: Int
        var percent: Int
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let now = now()
        let overview = try await database.integrationOverview(
            scope: principal.tenantID, now: now, changeFeedPlatforms: changeFeedPlatforms)
        var rows: [Row] = []
        for item in overview {
            var status = item.syncEnabled ? item.status.rawValue : Integration.Status.disabled.rawValue
            var label = status
            var reason = item.statusReason ?? item.unreachable.map { _ in "the platform cannot be reached" }
            // A Sage 50 integration is never connected (files carry its work): `pending` would stand for ever.
            if item.platform == .sage50, item.syncEnabled, item.status != .disabled,
                let integration = try await database.integration(id: item.integrationID)
            {
                let files = try await FileExchangeStanding.read(database, integration: integration)
                (status, label, reason) = (files.statusClass, files.status, files.summary)
            }
            rows.append(
                Row(
                    id: item.integrationID, name: item.name, tenant: item.tenantID,
                    platform: item.platform.displayName, status: status, statusLabel: label, statusReason: reason,
                    connected: item.status == .connected, lastSync: Self.time(item.lastSuccessfulSync, empty: "never"),
                    nextSync: Self.time(item.nextScheduledSync, empty: "—"), backlog: item.backlog,
                    needsMapping: item.needsMapping.nonZero, failures: item.failures24h.nonZero,
                    deadLetters: item.deadLetters24h.nonZero, conflicts: item.openConflicts.nonZero,
                    budget: await budget(of: item.integrationID),
                    progress: item.openSync.map(Self.progress)))
        }
        let hours = (0..<24).map { index in
            overview.reduce(into: (start: now, synced: 0, errors: 0)) { sum, item in
                guard index < item.hours.count else { return }
                sum.start = item.hours[index].start
                sum.synced += item.hours[index].synced
                sum.errors += item.hours[index].errors
            }
        }
        let view = View(
            integrations: rows, chart: Chart(hours.map { ($0.start, $0.synced, $0.errors) }),
            totals: Totals(synced: hours.reduce(0) { $0 + $1.synced }, errors: hours.reduce(0) { $0 + $1.errors }))
        return try renderer.response(
            Screen("overview", title: "Overview", section: .overview, context: context, page: view))
    }

    /// What is left of the integration's request window, as "412 of 500 a minute" (or "paused by the platform").
    private func budget(of integrationID: String) async -> String {
        guard let limiter = await rateLimiters.existing(integrationID: integrationID),
            let budget = await limiter.budget()
        else { return "full" }
        if budget.paused { return "paused by the platform" }
        let seconds = Int(budget.period.components.seconds)
        let period = seconds == 60 ? "a minute" : seconds == 1 ? "a second" : "per \(seconds) s"
        return "\(budget.remaining) of \(budget.limit) \(period)"
    }

    static func progress(_ operation: SyncOperation) -> Progress {
        let done = operation.recordsProcessed
        let total = max(operation.recordsTotal, done)
        return Progress(
            mode: operation.mode.rawValue, processed: done, total: total,
            percent: total == 0 ? 0 : min(100, done * 100 / total))
    }

    static func time(_ timestamp: Timestamp?, empty: String) -> String {
        guard let timestamp else { return empty }
        return DashboardTime.format(timestamp)
    }
}

/// The 24-hour chart as the template draws it: one pair of bars an hour (records synced, errors), scaled to the
/// busiest hour, in a 720 × 180 SVG.
struct Chart: Sendable {
    struct Bar: Sendable {
        var x: Int
        var syncedY: Int
        var syncedHeight: Int
        var errorsX: Int
        var errorsY: Int
        var errorsHeight: Int
        var label: String
        var title: String
        var tick: String?
        var tickX: Int
    }

    static let width = 720
    static let plotHeight = 150
    static let baseline = 155

    var bars: [Bar]
    var maximum: Int
    var width = Chart.width
    var baseline = Chart.baseline

    init(_ hours: [(start: Timestamp, synced: Int, errors: Int)]) {
        let maximum = max(1, hours.map { max($0.synced, $0.errors) }.max() ?? 1)
        self.maximum = maximum
        let slot = Self.width / max(1, hours.count)
        bars = hours.enumerated().map { index, hour in
            let syncedHeight = hour.synced * Self.plotHeight / maximum
            let errorsHeight = hour.errors * Self.plotHeight / maximum
            let label = DashboardTime.hour(hour.start)
            return Bar(
                x: index * slot + 2, syncedY: Self.baseline - syncedHeight, syncedHeight: syncedHeight,
                errorsX: index * slot + slot / 2, errorsY: Self.baseline - errorsHeight, errorsHeight: errorsHeight,
                label: label, title: "\(label): \(hour.synced) synced, \(hour.errors) errors",
                tick: index % 6 == 0 ? label : nil, tickX: index * slot + 2)
        }
    }
}
