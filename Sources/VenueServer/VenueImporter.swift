import Foundation
import NIOPosix
import VenuePackage
import VenueStore

/// The one door venue packages come in by, from the admin page and from `venue import` alike:
/// check the whole package against the trusted issuers' keys, then import it in one transaction.
public struct VenueImporter: Sendable {
    let database: VenueDatabase
    let trustedIssuers: URL

    public init(database: VenueDatabase, trustedIssuers: URL) {
        self.database = database
        self.trustedIssuers = trustedIssuers
    }

    /// `actor` and `role` name who imported it, for the audit log.
    public func importPackage(at url: URL, actor: String = "command line", role: String = "system") async throws -> ImportSummary {
        let keys = try IssuerPublicKey.loadAll(in: trustedIssuers)
        // Unpacking and hashing a large package is CPU work: keep it off the event loops.
        let verified = try await NIOThreadPool.singleton.runIfActive {
            try PackageReader.read(url, trusting: keys)
        }
        return try await database.importPackage(verified, actor: actor, actorRole: role)
    }
}
