import Crypto
import Foundation
import Logging
import PostgresNIO
import SyncProtocol

/// Why the central office refuses something, with a stable code and a message in Chinese and English.
public enum CentralError: Error, Sendable, Equatable {
    case badDatabaseURL(String)
    case badVenueID(String)
    case venueExists(String)
    case venueUnknown(String)
    case enrolmentCodeWrong
    case enrolmentUsed
    case enrolmentExpired
    case venueRevoked
    case badPublicKey
    case databaseUnavailable
    case venueNotEnrolled(String)
    case badUsername(String)
    case packageExists(String)
    case packageUnknown(String)
    case loginFailed
    case loginRateLimited(retryAfterSeconds: Int)
    case currentPasswordWrong
    case passwordTooWeak
    case signInRequired
    case signatureInvalid
    case batchInvalid(en: String, zh: String)
    case batchReplayed(String)
    case itemConflict([String])
    case itemsUnusable([UnusableItem])
    case uploadSessionInvalid
    case uploadInvalid(en: String, zh: String)
    case tusVersionUnsupported(String)
    case uploadUnknown(String)
    case uploadGone(String)
    case uploadIdConflict(String)
    case uploadSegmentUnknown(String)
    case uploadSegmentMismatch(en: String, zh: String)
    case recordingAlreadyReceived(String)
    case uploadOffsetMismatch(expected: Int64, got: Int64)
    case uploadChecksumMismatch
    case uploadChecksumUnsupported(String)
    case uploadTooLarge(Int64)
    case uploadChunkTooLarge(Int)
    case uploadContentType
    case uploadDigestMismatch(String)
    case uploadFinished(String)
    case recordingStorageFailed(String)
    case recordingStorageFull(needed: Int64, free: Int64, kept: Int64)

    /// A size as people read it on the venue's sync page: "1024 MB".
    static func megabytes(_ bytes: Int64) -> String { "\(max(0, bytes) >> 20) MB" }

    public var code: String {
        switch self {
        case .badDatabaseURL: "database_url_invalid"
        case .badVenueID: "venue_id_invalid"
        case .venueExists: "venue_exists"
        case .venueUnknown: "venue_unknown"
        case .enrolmentCodeWrong: "enrolment_code_wrong"
        case .enrolmentUsed: "enrolment_used"
        case .enrolmentExpired: "enrolment_expired"
        case .venueRevoked: "venue_revoked"
        case .badPublicKey: "public_key_invalid"
        case .databaseUnavailable: "database_unavailable"
        case .venueNotEnrolled: "venue_not_enrolled"
        case .badUsername: "username_invalid"
        case .packageExists: "package_exists"
        case .packageUnknown: "package_unknown"
        case .loginFailed: "login_failed"
        case .loginRateLimited: "login_rate_limited"
        case .currentPasswordWrong: "current_password_wrong"
        case .passwordTooWeak: "password_too_weak"
        case .signInRequired: "sign_in_required"
        case .signatureInvalid: "signature_invalid"
        case .batchInvalid: "batch_invalid"
        case .batchReplayed: "batch_replayed"
        case .itemConflict: "item_conflict"
        case .itemsUnusable: "item_unusable"
        case .uploadSessionInvalid: "upload_session_invalid"
        case .uploadInvalid: "upload_invalid"
        case .tusVersionUnsupported: "tus_version_unsupported"
        case .uploadUnknown: "upload_unknown"
        case .uploadGone: "upload_gone"
        case .uploadIdConflict: "upload_id_conflict"
        case .uploadSegmentUnknown: "upload_segment_unknown"
        case .uploadSegmentMismatch: "upload_segment_mismatch"
        case .recordingAlreadyReceived: "recording_already_received"
        case .uploadOffsetMismatch: "upload_offset_mismatch"
        case .uploadChecksumMismatch: "upload_checksum_mismatch"
        case .uploadChecksumUnsupported: "upload_checksum_unsupported"
        case .uploadTooLarge: "upload_too_large"
        case .uploadChunkTooLarge: "upload_chunk_too_large"
        case .uploadContentType: "upload_content_type"
        case .uploadDigestMismatch: "upload_digest_mismatch"
        case .uploadFinished: "upload_finished"
        case .recordingStorageFailed: "recording_storage_failed"
        case .recordingStorageFull: "recording_storage_full"
        }
    }

    public var messageEn: String {
        switch self {
        case .badDatabaseURL(let reason): "The database URL is not a postgres:// URL: \(reason)."
        case .badVenueID(let id): "\"\(id)\" is not a venue id: use 1 to 64 letters, digits, '-', '_' or '.'."
        case .venueExists(let id): "Venue \(id) is already registered."
        case .venueUnknown(let id): "No venue \(id) is registered at the central office."
        case .enrolmentCodeWrong: "The enrolment code is wrong."
        case .enrolmentUsed: "This venue has already enrolled; its enrolment code cannot be used again. Ask the central office for a new code."
        case .enrolmentExpired: "The enrolment code has expired. Ask the central office for a new one."
        case .venueRevoked: "This venue has been revoked by the central office."
        case .badPublicKey: "The venue's public key is not an Ed25519 public key (32 bytes, base64)."
        case .databaseUnavailable: "The central database does not answer."
        case .venueNotEnrolled(let id): "Venue \(id) has not enrolled yet: run `venue enrol` with the code from the central office."
        case .badUsername(let name): "\"\(name)\" is not a user name: use 1 to 64 letters, digits, '-', '_' or '.'."
        case .loginFailed: "The user name or the password is wrong."
        case .loginRateLimited(let seconds): "Too many wrong passwords: try again in \(seconds) seconds."
        case .currentPasswordWrong: "The current password is wrong."
        case .passwordTooWeak:
            "The new password must have at least 10 characters with a letter and a digit, and be neither the user name nor the current password."
        case .packageExists(let id): "Another file was already issued as package \(id)."
        case .packageUnknown(let id): "No package \(id) was issued for this venue."
        case .signInRequired: "Sign in first (the session is missing or has ended)."
        case .signatureInvalid: "The signature does not match this venue's registered key: the data was changed or signed with another key."
        case .batchInvalid(let en, _): "The batch is not valid: \(en)."
        case .batchReplayed(let id): "Batch \(id) was already received: a batch is accepted once (a retry is sent as a new batch)."
        case .itemConflict(let ids): "Central already holds \(ids.count) of these items with a different content: \(ids.prefix(5).joined(separator: ", "))."
        case .itemsUnusable(let items):
            "Central cannot take \(items.count) of these items, so the batch was not stored: \(items.prefix(3).map { "\($0.id): \($0.message)" }.joined(separator: "; "))."
        case .uploadSessionInvalid: "The upload session is unknown or has expired: ask for a new one."
        case .uploadInvalid(let en, _): "The upload request is not valid: \(en)."
        case .tusVersionUnsupported(let version): "This server speaks tus 1.0.0 only (Tus-Resumable: 1.0.0), not \"\(version)\"."
        case .uploadUnknown(let id): "No upload \(id) exists for this venue."
        case .uploadGone(let id): "Upload \(id) has expired or was ended, and its data removed: create it again to start from the beginning."
        case .uploadIdConflict(let id): "Upload \(id) already exists with a different segment, length or SHA-256: an upload id names one file only."
        case .uploadSegmentUnknown(let key): "Central has no record of segment \(key) from this venue: its record must arrive in a batch before its video."
        case .uploadSegmentMismatch(let en, _): "The upload does not match the segment's record: \(en)."
        case .recordingAlreadyReceived(let key): "Central already holds the video of segment \(key)."
        case .uploadOffsetMismatch(let expected, let got): "Upload-Offset is \(got) but central has \(expected) bytes: continue from \(expected) (HEAD tells the offset)."
        case .uploadChecksumMismatch: "The chunk does not match its Upload-Checksum; nothing of it was kept: send it again."
        case .uploadChecksumUnsupported(let name): "Upload-Checksum algorithm \"\(name)\" is not supported: use sha256 or sha1."
        case .uploadTooLarge(let max): "The upload is larger than central takes (\(max) bytes)."
        case .uploadChunkTooLarge(let max): "The chunk is larger than central takes in one PATCH (\(max) bytes): send smaller chunks."
        case .uploadContentType: "A chunk must be sent with Content-Type: application/offset+octet-stream."
        case .uploadDigestMismatch(let key): "The whole file's SHA-256 does not match the record of segment \(key); the data was discarded: upload it again from the beginning."
        case .uploadFinished(let id): "Upload \(id) is finished: its video is kept as the segment's recording and cannot be removed this way."
        case .recordingStorageFailed(let detail): "The recording storage failed: \(detail)."
        case .recordingStorageFull(let needed, let free, let kept):
            "Central's recording storage is nearly full (\(Self.megabytes(free)) free, \(Self.megabytes(kept)) kept free, \(Self.megabytes(needed)) asked for): the venue keeps the video and uploads it once the office has made room."
        }
    }

    public var messageZh: String {
        switch self {
        case .badDatabaseURL(let reason): "数据库地址不是 postgres:// 地址：\(reason)。"
        case .badVenueID(let id): "“\(id)”不是有效的考点编号：只能用 1 到 64 个字母、数字、“-”“_”或“.”。"
        case .venueExists(let id): "考点 \(id) 已登记。"
        case .venueUnknown(let id): "中心没有登记考点 \(id)。"
        case .enrolmentCodeWrong: "注册码错误。"
        case .enrolmentUsed: "该考点已注册，注册码不能再次使用。请向中心申请新的注册码。"
        case .enrolmentExpired: "注册码已过期，请向中心申请新的注册码。"
        case .venueRevoked: "该考点已被中心吊销。"
        case .badPublicKey: "考点公钥不是 Ed25519 公钥（32 字节，base64）。"
        case .databaseUnavailable: "中心数据库无响应。"
        case .venueNotEnrolled(let id): "考点 \(id) 尚未注册：请用中心给的注册码运行 venue enrol。"
        case .badUsername(let name): "“\(name)”不是有效的用户名：只能用 1 到 64 个字母、数字、“-”“_”或“.”。"
        case .loginFailed: "用户名或密码错误。"
        case .loginRateLimited(let seconds): "密码错误次数过多，请 \(seconds) 秒后再试。"
        case .currentPasswordWrong: "当前密码错误。"
        case .passwordTooWeak: "新密码至少 10 个字符，须含字母和数字，且不能与用户名或当前密码相同。"
        case .packageExists(let id): "考务包 \(id) 已以另一个文件下发。"
        case .packageUnknown(let id): "没有为本考点下发考务包 \(id)。"
        case .signInRequired: "请先登录（会话不存在或已结束）。"
        case .signatureInvalid: "签名与该考点登记的公钥不符：数据被改动，或用了其他密钥签名。"
        case .batchInvalid(_, let zh): "批次无效：\(zh)。"
        case .batchReplayed(let id): "批次 \(id) 已接收过：同一批次只接收一次（重发应作为新批次）。"
        case .itemConflict(let ids): "中心已有其中 \(ids.count) 条记录，但内容不同：\(ids.prefix(5).joined(separator: "、"))。"
        case .itemsUnusable(let items):
            "其中 \(items.count) 条记录中心无法接收，本批次未保存：\(items.prefix(3).map { "\($0.id)：\($0.messageZh)" }.joined(separator: "；"))。"
        case .uploadSessionInvalid: "上传会话不存在或已过期，请重新申请。"
        case .uploadInvalid(_, let zh): "上传请求无效：\(zh)。"
        case .tusVersionUnsupported(let version): "本服务只支持 tus 1.0.0（Tus-Resumable: 1.0.0），不支持“\(version)”。"
        case .uploadUnknown(let id): "本考点没有上传 \(id)。"
        case .uploadGone(let id): "上传 \(id) 已过期或已终止，数据已删除：请重新创建，从头上传。"
        case .uploadIdConflict(let id): "上传 \(id) 已存在，但片段、长度或 SHA-256 不同：一个上传编号只对应一个文件。"
        case .uploadSegmentUnknown(let key): "中心没有本考点片段 \(key) 的记录：须先通过批次上报片段记录，再上传视频。"
        case .uploadSegmentMismatch(_, let zh): "上传与片段记录不符：\(zh)。"
        case .recordingAlreadyReceived(let key): "中心已收到片段 \(key) 的视频。"
        case .uploadOffsetMismatch(let expected, let got): "Upload-Offset 为 \(got)，但中心已有 \(expected) 字节：请从 \(expected) 继续（HEAD 可查询）。"
        case .uploadChecksumMismatch: "数据块与 Upload-Checksum 不符，未保留任何内容：请重新发送。"
        case .uploadChecksumUnsupported(let name): "不支持 Upload-Checksum 算法“\(name)”：请用 sha256 或 sha1。"
        case .uploadTooLarge(let max): "上传超过中心允许的大小（\(max) 字节）。"
        case .uploadChunkTooLarge(let max): "数据块超过单次 PATCH 允许的大小（\(max) 字节）：请分成更小的块。"
        case .uploadContentType: "数据块须以 Content-Type: application/offset+octet-stream 发送。"
        case .uploadDigestMismatch(let key): "整个文件的 SHA-256 与片段 \(key) 的记录不符，数据已丢弃：请从头重新上传。"
        case .uploadFinished(let id): "上传 \(id) 已完成：视频已作为片段录像保存，不能这样删除。"
        case .recordingStorageFailed(let detail): "录像存储出错：\(detail)。"
        case .recordingStorageFull(let needed, let free, let kept):
            "中心录像存储空间不足（剩余 \(Self.megabytes(free))，须保留 \(Self.megabytes(kept))，本次需要 \(Self.megabytes(needed))）：考点保留录像，待中心腾出空间后再上传。"
        }
    }
}

/// A venue as the central office knows it.
public struct CentralVenue: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var createdAt: Date
    /// Until when the current enrolment code may be used; nil once the venue has enrolled.
    public var enrolmentExpiresAt: Date?
    /// Base64 of the venue's Ed25519 public key, once enrolled.
    public var publicKey: String?
    public var enrolledAt: Date?
    public var revokedAt: Date?
}

/// The central office's PostgreSQL database.
public final class CentralDatabase: Sendable {
    public let client: PostgresClient
    let logger: Logger
    /// How long an enrolment code may be used.
    public static let enrolmentValidity: TimeInterval = 7 * 86400

    /// `postgres://user[:password]@host[:port]/database`; TLS off (the database is local to the office's servers).
    public init(url: String, logger: Logger) throws {
        client = PostgresClient(configuration: try Self.configuration(url), backgroundLogger: logger)
        self.logger = logger
    }

    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? "") else {
            throw CentralError.badDatabaseURL("it must start with postgres://")
        }
        guard let host = parts.host, !host.isEmpty else { throw CentralError.badDatabaseURL("no host") }
        guard let user = parts.user, !user.isEmpty else { throw CentralError.badDatabaseURL("no user name") }
        let database = String(parts.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw CentralError.badDatabaseURL("no database name") }
        return PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: parts.password?.removingPercentEncoding, database: database, tls: .disable)
    }

    /// Keeps the connection pool running until the task is cancelled (run it beside everything that queries).
    public func run() async { await client.run() }

    /// Answers when the database does, within `timeout` (the pool would otherwise wait for a connection as long as
    /// the database is away).
    public func ping(timeout: Duration = .seconds(3)) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.client.query("SELECT 1", logger: self.logger) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw CentralError.databaseUnavailable
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// A transaction whose own errors come out as they were thrown (not wrapped in PostgresNIO's transaction error).
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError { throw inner }
            throw error
        }
    }

    /// Brings the schema up to date; several servers starting at once take turns (an advisory lock).
    public func migrate() async throws {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(7270001)", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migration (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM schema_migration", logger: logger)
                .decode(Int.self)
            {
                applied.insert(version)
            }
            for migration in Self.migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await migration.fill?(connection, logger)
                try await connection.query(
                    "INSERT INTO schema_migration (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
                logger.info("central database: applied migration \(migration.version) \(migration.name)")
            }
        }
    }

    struct Migration {
        var version: Int
        var name: String
        var statements: [String]
        /// Work done in Swift after the statements, in the same transaction (filling a new column from the rows).
        var fill: (@Sendable (PostgresConnection, Logger) async throws -> Void)? = nil
    }

    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "venues and their enrolment",
            statements: [
                """
                CREATE TABLE venue (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    enrolment_code_sha256 TEXT,
                    enrolment_expires_at TIMESTAMPTZ,
                    public_key BYTEA CHECK (public_key IS NULL OR length(public_key) = 32),
                    enrolled_at TIMESTAMPTZ,
                    revoked_at TIMESTAMPTZ
                )
                """
            ]),
        Migration(version: 2, name: "synchronised items and the tables they land in", statements: SyncSchema.statements),
        Migration(version: 3, name: "recording uploads", statements: UploadSchema.statements),
        Migration(version: 4, name: "sitting manifests and completeness alerts", statements: SyncSchema.completeness),
        Migration(version: 5, name: "office accounts and sessions", statements: accountStatements),
        Migration(version: 6, name: "venue packages issued for the sync channel", statements: packageStatements),
        Migration(version: 7, name: "question banks, papers, exam plans and sealed papers", statements: authoringStatements),
        Migration(version: 8, name: "examiners' scoring sheets of skill sittings", statements: SyncSchema.skillSheets),
        Migration(
            version: 9, name: "questions keep their text as duplicate detection compares it",
            statements: ["ALTER TABLE bank_question ADD COLUMN duplicate_text TEXT"], fill: fillDuplicateTexts),
    ]

    // MARK: Venues

    /// Registers a venue and returns its one-time enrolment code (shown once: only its hash is kept).
    public func addVenue(id: String, name: String, now: Date = Date()) async throws -> (venue: CentralVenue, code: String) {
        guard Self.isVenueID(id) else { throw CentralError.badVenueID(id) }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let code = EnrolmentCode.make()
        let expires = now.addingTimeInterval(Self.enrolmentValidity)
        let inserted = try await client.query(
            """
            INSERT INTO venue (id, name, created_at, enrolment_code_sha256, enrolment_expires_at)
            VALUES (\(id), \(trimmed.isEmpty ? id : trimmed), \(now), \(EnrolmentCode.hash(code)), \(expires))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """, logger: logger)
        var rows = 0
        for try await _ in inserted { rows += 1 }
        guard rows == 1 else { throw CentralError.venueExists(id) }
        return (try await venue(id: id), code)
    }

    /// A new enrolment code for a venue (the old one, and the venue's key if it had enrolled, no longer count; a
    /// revocation is lifted): for a venue whose appliance was replaced.
    public func renewEnrolment(id: String, now: Date = Date()) async throws -> String {
        let code = EnrolmentCode.make()
        let updated = try await client.query(
            """
            UPDATE venue SET enrolment_code_sha256 = \(EnrolmentCode.hash(code)),
                enrolment_expires_at = \(now.addingTimeInterval(Self.enrolmentValidity)), public_key = NULL,
                enrolled_at = NULL, revoked_at = NULL
            WHERE id = \(id) RETURNING id
            """, logger: logger)
        var rows = 0
        for try await _ in updated { rows += 1 }
        guard rows == 1 else { throw CentralError.venueUnknown(id) }
        return code
    }

    /// Revokes a venue (a stolen or retired appliance): from now on nothing from it is accepted, and it cannot enrol
    /// again until the office gives it a new code with `renewEnrolment`, which lifts the revocation.
    public func revokeVenue(id: String, now: Date = Date()) async throws {
        let updated = try await client.query(
            "UPDATE venue SET revoked_at = COALESCE(revoked_at, \(now)) WHERE id = \(id) RETURNING id", logger: logger)
        var rows = 0
        for try await _ in updated { rows += 1 }
        guard rows == 1 else { throw CentralError.venueUnknown(id) }
        logger.notice("venue revoked", metadata: ["venue": "\(id)"])
    }

    /// The venue registers its Ed25519 public key with its one-time code. From then on its batches are checked
    /// against that key.
    public func enrol(venueID: String, code: String, publicKey: Data, now: Date = Date()) async throws -> CentralVenue {
        guard publicKey.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)) != nil else {
            throw CentralError.badPublicKey
        }
        let hash = EnrolmentCode.hash(code)
        try await transaction { connection in
            let rows = try await connection.query(
                """
                SELECT enrolment_code_sha256, enrolment_expires_at, enrolled_at, revoked_at FROM venue
                WHERE id = \(venueID) FOR UPDATE
                """, logger: logger)
            var found: (String?, Date?, Date?, Date?)?
            for try await row in rows.decode((String?, Date?, Date?, Date?).self) { found = row }
            guard let (stored, expires, enrolled, revoked) = found else { throw CentralError.venueUnknown(venueID) }
            if revoked != nil { throw CentralError.venueRevoked }
            if enrolled != nil || stored == nil { throw CentralError.enrolmentUsed }
            guard let stored, Self.constantTimeEqual(stored, hash) else { throw CentralError.enrolmentCodeWrong }
            if let expires, expires < now { throw CentralError.enrolmentExpired }
            try await connection.query(
                """
                UPDATE venue SET public_key = \(ByteBuffer(bytes: publicKey)), enrolled_at = \(now),
                    enrolment_code_sha256 = NULL, enrolment_expires_at = NULL
                WHERE id = \(venueID)
                """, logger: logger)
        }
        logger.notice("venue enrolled", metadata: ["venue": "\(venueID)"])
        return try await venue(id: venueID)
    }

    public func venue(id: String) async throws -> CentralVenue {
        guard let venue = try await venues(where: id).first else { throw CentralError.venueUnknown(id) }
        return venue
    }

    public func venues() async throws -> [CentralVenue] { try await venues(where: nil) }

    private func venues(where id: String?) async throws -> [CentralVenue] {
        let query: PostgresQuery =
            id.map {
                "SELECT id, name, created_at, enrolment_expires_at, public_key, enrolled_at, revoked_at FROM venue WHERE id = \($0)"
            } ?? "SELECT id, name, created_at, enrolment_expires_at, public_key, enrolled_at, revoked_at FROM venue ORDER BY id"
        var venues: [CentralVenue] = []
        let rows = try await client.query(query, logger: logger)
        for try await (id, name, created, expires, key, enrolled, revoked)
            in rows.decode((String, String, Date, Date?, ByteBuffer?, Date?, Date?).self)
        {
            venues.append(
                CentralVenue(
                    id: id, name: name, createdAt: created, enrolmentExpiresAt: expires,
                    publicKey: key.map { Data($0.readableBytesView).base64EncodedString() }, enrolledAt: enrolled, revokedAt: revoked))
        }
        return venues
    }

    static func isVenueID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || "-_.".unicodeScalars.contains($0) }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// One-time enrolment codes: 12 characters from an alphabet without look-alikes, shown as XXXX-XXXX-XXXX; typed
/// in any case, with or without the dashes.
public enum EnrolmentCode {
    static let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<12).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] }
        return stride(from: 0, to: 12, by: 4).map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
    }

    static func normalised(_ code: String) -> String {
        code.uppercased().filter { $0 != "-" && !$0.isWhitespace }
    }

    static func hash(_ code: String) -> String {
        SHA256.hash(data: Data(normalised(code).utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
