import Accounting
import Foundation
import Hummingbird
import Persistence

/// `/activity`: sync operations with live progress bars (records processed of the total, errors), and the jobs,
/// newest first, filtered by status, platform, record type or integration. A failed or dead job shows the
/// platform's message and can be retried, one or every one of its kind; a job held for a mapping links to the
/// mapping it waits for. Both lists update live.
struct ActivityPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let platforms: [Platform]

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/activity", use: show)
        routes.post("/jobs/{id}/retry", use: retryOne)
        routes.post("/jobs/retry", use: retryAll)
        return routes
    }

    struct View: Sendable {
        var operations: [OperationRow]
        var jobs: [JobRow]
        var counts: [Choice]
        var statuses: [Choice]
        var platforms: [Choice]
        var recordTypes: [Choice]
        var integration: String?
        /// The filter as hidden fields for "retry all", when it is on dead or failed jobs.
        var retryAll: RetryAll?
        var nextPage: String?
    }

    struct RetryAll: Sendable {
        var status: String
        var platform: String
        var recordType: String
        var integration: String
        var label: String
    }

    struct OperationRow: Sendable {
        var id: String
        var integrationID: String
        var mode: String
        var status: String
        var processed: Int
        var total: Int
        var percent: Int
        var failed: Int
        var started: String
    }

    struct JobRow: Sendable {
        var id: String
        var record: String
        var integrationID: String
        /// The status's colour (its CSS class) and filter value.
        var status: String
        /// The status in words: the job's, or for a Sage 50 job the step its record waits for.
        var statusLabel: String
        var attempts: String
        var message: String?
        var retryable: Bool
        var needsMapping: Bool
        var updated: String
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let query = request.uri.queryParameters
        let status = query.get("status").flatMap { Job.Status(rawValue: String($0)) }
        let platform = query.get("platform").flatMap { Platform(rawValue: String($0)) }
        let recordType = query.get("record").flatMap { RecordType(rawValue: String($0)) }
        let integration = query.get("integration").map { String($0) }.flatMap { $0.isEmpty ? nil : $0 }
        let filter = ActivityFilter(
            tenantID: principal.tenantID, integrationID: integration, platform: platform, recordType: recordType,
            statuses: status.map { [$0] } ?? [])
        let activity = try await database.activity(
            filter, jobs: try PageRequest(limit: 50, cursor: query.get("cursor").map { String($0) }), operations: 10)
        var notice: String?
        if let retried = query.get("retried").flatMap({ Int(String($0)) }) {
            notice = retried == 1 ? "1 job was retried." : "\(retried) jobs were retried."
        }
        let view = View(
            operations: activity.operations.map(Self.row),
            jobs: try await fileExchangeRows(activity.jobs.items),
            counts: Job.Status.allCases.compactMap { status in
                activity.counts[status].map { Choice(value: status.rawValue, label: "\($0)", chosen: false) }
            },
            statuses: Job.Status.allCases.map {
                Choice(
                    value: $0.rawValue, label: $0.rawValue.replacingOccurrences(of: "_", with: " "),
                    chosen: $0 == status)
            },
            platforms: platforms.map { Choice(value: $0.rawValue, label: $0.displayName, chosen: $0 == platform) },
            recordTypes: RecordType.allCases.map {
                Choice(
                    value: $0.rawValue, label: $0.rawValue.replacingOccurrences(of: "_", with: " "),
                    chosen: $0 == recordType)
            },
            integration: integration,
            retryAll: status.flatMap { status in
                guard status == .dead || status == .failed, (activity.counts[status] ?? 0) > 0 else { return nil }
                return RetryAll(
                    status: status.rawValue, platform: platform?.rawValue ?? "", recordType: recordType?.rawValue ?? "",
                    integration: integration ?? "",
                    label: "Retry all \(activity.counts[status] ?? 0) \(status.rawValue) jobs shown")
            },
            nextPage: activity.jobs.nextCursor.map { cursor in
                var parts = ["cursor=\(cursor)"]
                if let status { parts.append("status=\(status.rawValue)") }
                if let platform { parts.append("platform=\(platform.rawValue)") }
                if let recordType { parts.append("record=\(recordType.rawValue)") }
                if let integration { parts.append("integration=\(integration)") }
                return "/activity?" + parts.joined(separator: "&")
            })
        return try renderer.response(
            Screen("activity", title: "Activity", section: .activity, context: context, notice: notice, page: view))
    }

    @Sendable func retryOne(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let id = try context.parameters.require("id")
        guard
            try await database.retryJob(id: id, tenantID: principal.tenantID, actor: principal.actor, at: .now()) != nil
        else { throw Problem.notFound("no job \(id)") }
        return Response(status: .seeOther, headers: [.location: "/activity?retried=1"])
    }

    @Sendable func retryAll(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        func field(_ name: String) -> String? {
            context.form.first { $0.name == name }.map(\.value).flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let status = field("status").flatMap(Job.Status.init(rawValue:)), status == .dead || status == .failed
        else {
            throw Problem.invalid([FieldError(field: "status", message: "only dead or failed jobs are retried")])
        }
        var integrationID = field("integration")
        if integrationID == nil, let platform = field("platform") {
            // A platform filter retries that platform's integrations one by one.
            let page = try await database.integrations(tenantID: principal.tenantID, page: PageRequest(limit: 500))
            var retried = 0
            for integration in page.items where integration.platform.rawValue == platform {
                retried += try await database.retryJobs(
                    status: status, integrationID: integration.id, recordType: field("record"),
                    tenantID: principal.tenantID, actor: principal.actor, at: .now())
            }
            return Response(status: .seeOther, headers: [.location: "/activity?retried=\(retried)"])
        }
        integrationID = integrationID.flatMap { $0.isEmpty ? nil : $0 }
        let retried = try await database.retryJobs(
            status: status, integrationID: integrationID, recordType: field("record"), tenantID: principal.tenantID,
            actor: principal.actor, at: .now())
        return Response(status: .seeOther, headers: [.location: "/activity?retried=\(retried)"])
    }

    static func row(_ operation: SyncOperation) -> OperationRow {
        let progress = OverviewPage.progress(operation)
        return OperationRow(
            id: operation.id, integrationID: operation.integrationID, mode: operation.mode.rawValue,
            status: operation.status.rawValue, processed: progress.processed, total: progress.total,
            percent: operation.status == .completed ? 100 : progress.percent, failed: operation.recordsFailed,
            started: OverviewPage.time(operation.startedAt ?? operation.createdAt, empty: "—"))
    }

    /// The jobs as rows; an open job of a Sage 50 integration (no connector claims it) says which step of the file
    /// exchange its record waits for instead of `pending`.
    func fileExchangeRows(_ jobs: [Job]) async throws -> [JobRow] {
        var links: [String: [String: AppDatabase.LinkState]] = [:]
        var leftOut: [String: [String: String]] = [:]
        var integrations: [String: Integration?] = [:]
        var rows: [JobRow] = []
        for job in jobs {
            var row = Self.row(job)
            guard FileExchangeStanding.openStatuses.contains(job.status) else {
                rows.append(row)
                continue
            }
            if integrations[job.integrationID] == nil {
                integrations[job.integrationID] = try await database.integration(id: job.integrationID)
            }
            if let integration = integrations[job.integrationID] ?? nil, integration.platform == .sage50 {
                if links[job.integrationID] == nil {
                    links[job.integrationID] = try await database.linkStates(
                        recordIDs: Set(jobs.filter { $0.integrationID == job.integrationID }.map(\.recordID)),
                        integrationID: job.integrationID)
                    let files = try await FileExchangeStanding.read(database, integration: integration)
                    leftOut[job.integrationID] = Dictionary(
                        files.leftOut.map { ($0.localID, $0.reason) }, uniquingKeysWith: { first, _ in first })
                }
                if let reason = leftOut[job.integrationID]?[job.localID] {
                    // Not waiting: no download can write it until a person puts it right.
                    row.status = Job.Status.failed.rawValue
                    row.statusLabel = "left out"
                    row.message = "Left out of the next Sage 50 download: \(reason)."
                } else if let standing = FileExchangeStanding.jobStanding(
                    job, link: links[job.integrationID]?[job.recordID])
                {
                    row.statusLabel = standing.status
                    row.message = standing.message
                }
            }
            rows.append(row)
        }
        return rows
    }

    static func row(_ job: Job) -> JobRow {
        JobRow(
            id: job.id, record: "\(job.recordType.replacingOccurrences(of: "_", with: " ")) \(job.localID)",
            integrationID: job.integrationID, status: job.status.rawValue,
            statusLabel: job.status.rawValue,
            attempts: "\(job.attempts) of \(job.maxAttempts)", message: job.lastError.map { Self.plain($0) },
            retryable: job.status == .dead || job.status == .failed, needsMapping: job.status == .needsMapping,
            updated: DashboardTime.format(job.updatedAt))
    }

    /// The platform's message in plain words: what it said, and for a parked job which codes it waits for.
    static func plain(_ error: JobError) -> String {
        if !error.missing.isEmpty {
            return "Waiting for a mapping: "
                + error.missing.map { "\($0.kind.title.lowercased()) \($0.code)" }.joined(separator: ", ")
        }
        return error.message
    }
}
