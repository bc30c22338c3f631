import Foundation
import Logging
import ServiceLifecycle
import VenueStore

/// Deletes face pictures and candidates' face templates once their keeping time is over (`--face-keep-days`): a
/// minute after start-up, then hourly.
struct FaceRetentionService: Service {
    let database: VenueDatabase
    let keep: TimeInterval
    let logger: Logger
    var firstAfter: Duration = .seconds(60)
    var interval: Duration = .seconds(3600)

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await Task.sleep(for: firstAfter)
                while !Task.isCancelled {
                    do {
                        let deleted = try await database.deleteExpiredFaceData(keep: keep)
                        if deleted.pictures > 0 || deleted.templates > 0 {
                            logger.info("face data past its keeping time deleted: \(deleted.pictures) pictures, \(deleted.templates) templates")
                        }
                    } catch {
                        logger.error("deleting face data past its keeping time failed: \(error)")
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Shutting down.
        }
    }
}
