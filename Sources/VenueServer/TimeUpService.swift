import Foundation
import Logging
import ServiceLifecycle
import VenueStore

/// Submits attempts whose time has run out, once a second, by the server's clock.
struct TimeUpService: Service {
    let database: VenueDatabase
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        do {
            try await loop()
        } catch is CancellationError {
            // Shutting down.
        }
    }

    private func loop() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let submitted = try await database.submitOverdue()
                    if !submitted.isEmpty { logger.info("time up: submitted \(submitted.count) attempts") }
                } catch {
                    logger.error("time-up check failed: \(error)")
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
