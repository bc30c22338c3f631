import Foundation
import Logging
import NIOCore
import PostgresNIO
import SyncProtocol

/// A venue package central has issued for a venue, waiting to be fetched over the sync channel.
public struct IssuedPackage: Sendable, Codable, Equatable {
    public var packageId: String
    /// SHA-256 of the package file (what the venue checks after downloading it).
    public var sha256: String
    public var bytes: Int64
    public var issuedAt: Date
    public var fetchedAt: Date?
    /// When the venue reported it imported, or refused it (with the reason).
    public var reportedAt: Date?
    public var imported: Bool?
    public var result: String?
}

extension CentralDatabase {
    /// Migration 6.
    static let packageStatements: [String] = [
        """
        CREATE TABLE venue_package (
            venue_id TEXT NOT NULL REFERENCES venue(id), package_id TEXT NOT NULL, sha256 TEXT NOT NULL, bytes BIGINT NOT NULL,
            data BYTEA NOT NULL, issued_at TIMESTAMPTZ NOT NULL, fetched_at TIMESTAMPTZ, reported_at TIMESTAMPTZ,
            imported BOOLEAN, result TEXT,
            PRIMARY KEY (venue_id, package_id)
        )
        """
    ]

    /// Makes a checked package available to its venue. Issuing the same package again changes nothing; another file
    /// under the same package id is refused.
    public func issuePackage(venueID: String, packageID: String, file: Data, now: Date = Date()) async throws -> IssuedPackage {
        _ = try await venue(id: venueID)
        let sha = SyncDigest.hex(file)
        var stored: String?
        for try await existing in try await client.query(
            "SELECT sha256 FROM venue_package WHERE venue_id = \(venueID) AND package_id = \(packageID)", logger: logger
        ).decode(String.self) {
            stored = existing
        }
        if let stored {
            guard stored == sha else { throw CentralError.packageExists(packageID) }
        } else {
            try await client.query(
                """
                INSERT INTO venue_package (venue_id, package_id, sha256, bytes, data, issued_at)
                VALUES (\(venueID), \(packageID), \(sha), \(Int64(file.count)), \(ByteBuffer(bytes: file)), \(now))
                """, logger: logger)
        }
        return try await packages(venueID: venueID).first { $0.packageId == packageID }!
    }

    /// The venue's packages, newest first; `pending` only those it has not reported on yet.
    public func packages(venueID: String, pending: Bool = false) async throws -> [IssuedPackage] {
        var list: [IssuedPackage] = []
        for try await (id, sha, bytes, issued, fetched, reported, imported, result) in try await client.query(
            """
            SELECT package_id, sha256, bytes, issued_at, fetched_at, reported_at, imported, result FROM venue_package
            WHERE venue_id = \(venueID) AND (NOT \(pending) OR reported_at IS NULL) ORDER BY issued_at DESC, package_id
            """, logger: logger
        ).decode((String, String, Int64, Date, Date?, Date?, Bool?, String?).self) {
            list.append(
                IssuedPackage(
                    packageId: id, sha256: sha, bytes: bytes, issuedAt: issued, fetchedAt: fetched, reportedAt: reported,
                    imported: imported, result: result))
        }
        return list
    }

    /// A package's file, for its venue only.
    public func packageFile(venueID: String, packageID: String, now: Date = Date()) async throws -> Data {
        for try await data in try await client.query(
            """
            UPDATE venue_package SET fetched_at = COALESCE(fetched_at, \(now))
            WHERE venue_id = \(venueID) AND package_id = \(packageID) RETURNING data
            """, logger: logger
        ).decode(ByteBuffer.self) {
            return Data(data.readableBytesView)
        }
        throw CentralError.packageUnknown(packageID)
    }

    /// The venue says it imported the package, or refused it and why.
    public func recordPackageResult(venueID: String, packageID: String, imported: Bool, result: String, now: Date = Date()) async throws {
        var found = false
        for try await _ in try await client.query(
            """
            UPDATE venue_package SET reported_at = \(now), imported = \(imported), result = \(String(result.prefix(2000)))
            WHERE venue_id = \(venueID) AND package_id = \(packageID) RETURNING package_id
            """, logger: logger)
        {
            found = true
        }
        guard found else { throw CentralError.packageUnknown(packageID) }
        if !imported {
            try? await report(venueID: venueID, code: "package_refused", batchID: packageID, detail: result, now: now)
        }
    }
}
