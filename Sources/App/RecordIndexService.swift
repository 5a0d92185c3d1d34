import Persistence
import ServiceLifecycle

/// Keeps the dashboard's record index (`record_search`, `billing_codes`) up with ingestion, every second, as long as
/// the server runs (`AppDatabase.indexRecordVersions`).
struct RecordIndexService: Service {
    let database: AppDatabase

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                while try await database.indexRecordVersions() > 0 && !Task.isShuttingDownGracefully {}
            } catch {
                // A busy or closing database: the next pass, or the next page that reads the index, catches up.
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
