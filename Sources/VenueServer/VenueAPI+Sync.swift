import ExamCore
import Foundation
import Hummingbird
import VenueStore

/// The sync page: what the venue still owes the central office and how sending goes.
struct SyncView: ResponseEncodable {
    var status: SyncStatus
    var outbox: OutboxSummary
    var refused: [RefusedItem]
}

extension VenueAPI {
    @Sendable func syncStatus(_ request: Request, context: VenueRequestContext) async throws -> SyncView {
        _ = try await staff(request, roles: [.admin])
        return SyncView(status: sync.status, outbox: try await database.outboxSummary(), refused: try await database.refusedOutbox())
    }

    /// "Sync now": the agent tries at once instead of waiting out its back-off.
    @Sendable func syncNow(_ request: Request, context: VenueRequestContext) async throws -> Response {
        _ = try await staff(request, roles: [.admin])
        sync.syncNow()
        return Response(status: .accepted)
    }
}
