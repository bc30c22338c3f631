import Crypto
import Foundation
import Logging
import PostgresNIO
import VenuePackage

/// A central office user of the admin pages.
public struct OfficeAccount: Sendable, Codable, Equatable {
    public var username: String
    public var name: String
    public var createdAt: Date
    public var disabledAt: Date?
}

/// A signed-in office user's session: the token is shown once; only its SHA-256 is stored.
public struct OfficeSession: Sendable, Codable, Equatable {
    public var token: String
    public var username: String
    public var name: String
    public var expiresAt: Date
}

extension CentralDatabase {
    public static let officeSessionValidity: TimeInterval = 12 * 3600

    /// Migration 5.
    static let accountStatements: [String] = [
        """
        CREATE TABLE office_account (
            username TEXT PRIMARY KEY, name TEXT NOT NULL, password_hash TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
            disabled_at TIMESTAMPTZ
        )
        """,
        """
        CREATE TABLE office_session (
            token_sha256 TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES office_account(username),
            created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ
        )
        """,
    ]

    /// Creates an office account (or gives an existing one a new password) and returns the password, shown once.
    public func setOfficeAccount(username: String, name: String?, now: Date = Date()) async throws -> String {
        guard Self.isVenueID(username) else { throw CentralError.badUsername(username) }
        let password = Self.makePassword()
        let hash = PasswordHash.make(password)
        try await client.query(
            """
            INSERT INTO office_account (username, name, password_hash, created_at) VALUES (\(username), \(name ?? username), \(hash), \(now))
            ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,
                name = COALESCE(\(name), office_account.name), disabled_at = NULL
            """, logger: logger)
        return password
    }

    /// Signs an office user in; a wrong name or password gets the same answer.
    public func officeLogin(username: String, password: String, now: Date = Date()) async throws -> OfficeSession {
        var found: (String, String, Date?)?
        for try await row in try await client.query(
            "SELECT name, password_hash, disabled_at FROM office_account WHERE username = \(username)", logger: logger
        ).decode((String, String, Date?).self) {
            found = row
        }
        // Hash even for an unknown name, so the answer takes as long either way.
        let stored = found?.1 ?? "pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let matches = await PasswordHash.verifyAside(password, against: stored)
        guard let (name, _, disabled) = found, matches, disabled == nil else { throw CentralError.loginFailed }
        let token = Self.makeToken()
        let expires = now.addingTimeInterval(Self.officeSessionValidity)
        try await client.query(
            """
            INSERT INTO office_session (token_sha256, username, created_at, expires_at)
            VALUES (\(SHA256.hex(token)), \(username), \(now), \(expires))
            """, logger: logger)
        return OfficeSession(token: token, username: username, name: name, expiresAt: expires)
    }

    /// The account a session token belongs to, while the session lasts.
    public func officeAccount(token: String, now: Date = Date()) async throws -> OfficeAccount {
        for try await (username, name, created) in try await client.query(
            """
            SELECT a.username, a.name, a.created_at FROM office_session s JOIN office_account a ON a.username = s.username
            WHERE s.token_sha256 = \(SHA256.hex(token)) AND s.expires_at > \(now) AND s.ended_at IS NULL AND a.disabled_at IS NULL
            """, logger: logger
        ).decode((String, String, Date).self) {
            return OfficeAccount(username: username, name: name, createdAt: created)
        }
        throw CentralError.signInRequired
    }

    /// Changes the signed-in user's own password: the current one must be given, the new one must be at least 10
    /// characters with a letter and a digit, and neither the user name nor the current password. The user's other
    /// sessions end; this one goes on.
    public func changeOfficePassword(token: String, current: String, new: String, now: Date = Date()) async throws {
        let account = try await officeAccount(token: token, now: now)
        var stored: String?
        for try await hash in try await client.query(
            "SELECT password_hash FROM office_account WHERE username = \(account.username)", logger: logger
        ).decode(String.self) {
            stored = hash
        }
        guard let stored, await PasswordHash.verifyAside(current, against: stored) else { throw CentralError.currentPasswordWrong }
        guard new.count >= 10, new.count <= 256, new.contains(where: \.isLetter), new.contains(where: \.isNumber),
            new.lowercased() != account.username.lowercased(), new != current
        else { throw CentralError.passwordTooWeak }
        let hash = await PasswordHash.makeAside(new)
        try await transaction { connection in
            try await connection.query(
                "UPDATE office_account SET password_hash = \(hash) WHERE username = \(account.username)", logger: logger)
            try await connection.query(
                """
                UPDATE office_session SET ended_at = \(now)
                WHERE username = \(account.username) AND ended_at IS NULL AND token_sha256 <> \(SHA256.hex(token))
                """, logger: logger)
        }
    }


    public func officeLogout(token: String, now: Date = Date()) async throws {
        try await client.query(
            "UPDATE office_session SET ended_at = \(now) WHERE token_sha256 = \(SHA256.hex(token)) AND ended_at IS NULL", logger: logger)
    }

    static func makePassword() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<14).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }

    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Venues with how their sync goes: the last batch received, items held, refusals reported.
    public func venueSyncSummaries() async throws -> [VenueSyncSummary] {
        var summaries: [VenueSyncSummary] = []
        for try await (id, name, enrolled, revoked, lastBatch, items, reports, lastReport) in try await client.query(
            """
            SELECT v.id, v.name, v.enrolled_at, v.revoked_at,
                (SELECT max(received_at) FROM sync_batch b WHERE b.venue_id = v.id AND b.via <> 'session'),
                (SELECT count(*) FROM sync_item i WHERE i.venue_id = v.id)::int,
                (SELECT count(*) FROM sync_report r WHERE r.venue_id = v.id)::int,
                (SELECT max(at) FROM sync_report r WHERE r.venue_id = v.id)
            FROM venue v ORDER BY v.id
            """, logger: logger
        ).decode((String, String, Date?, Date?, Date?, Int, Int, Date?).self) {
            summaries.append(
                VenueSyncSummary(
                    id: id, name: name, enrolledAt: enrolled, revokedAt: revoked, lastReceivedAt: lastBatch, items: items,
                    refusals: reports, lastRefusalAt: lastReport))
        }
        return summaries
    }
}

/// A venue on the office's overview.
public struct VenueSyncSummary: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var enrolledAt: Date?
    public var revokedAt: Date?
    /// When central last received a batch from it (online or by USB).
    public var lastReceivedAt: Date?
    public var items: Int
    public var refusals: Int
    public var lastRefusalAt: Date?
}

extension SHA256 {
    static func hex(_ text: String) -> String { hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined() }
}
