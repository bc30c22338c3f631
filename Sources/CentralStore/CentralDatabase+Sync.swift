import Crypto
import Foundation
import Logging
import PostgresNIO
import SyncProtocol

/// Something central refused from a venue, kept for the office to see (a tampered or replayed batch, a conflict).
public struct SyncReport: Sendable, Codable, Equatable {
    public var venueId: String
    public var at: Date
    public var code: String
    public var batchId: String?
    public var detail: String
}

extension CentralDatabase {
    /// At most this many items in one batch, and this much payload per item.
    public static let maxBatchItems = 5000
    public static let maxItemBytes = 8 << 20  // a manifest lists every segment of a sitting: thousands with many cameras
    /// How long an upload session lasts.
    public static let uploadSessionValidity: TimeInterval = 3600

    /// Receives a signed batch: checks the venue, its signature and every item, then stores each item exactly once
    /// and applies the new ones to their tables, all in one transaction. An item already held with the same payload
    /// is answered as a duplicate; one held with a different payload refuses the whole batch (nothing stored) and is
    /// reported, as are a bad signature, a revoked venue and a replayed batch.
    /// `leavingOut` names items not to take from this batch (a USB import leaves out the items central refused as
    /// unusable and takes the rest of the signed batch).
    public func receive(
        body: Data, signature: String?, via: String = "online", leavingOut: Set<String> = [], now: Date = Date()
    ) async throws -> SyncReceipt {
        var batch: SyncBatch
        do {
            batch = try SyncBatch.decoder.decode(SyncBatch.self, from: body)
        } catch {
            throw CentralError.batchInvalid(en: "the body is not a sync batch (JSON)", zh: "内容不是同步批次（JSON）")
        }
        try await checkSigned(venueID: batch.venueId, body: body, signature: signature, purpose: .batch, batchID: batch.batchId, now: now)
        batch.items.removeAll { leavingOut.contains($0.id) }
        do {
            // Items that can never be taken (malformed, or not fitting central's tables) are all named at once, so
            // that the venue sets them aside in one round and sends the rest.
            var unusable = try Self.check(batch)
            var underlying: (any Error)?
            if unusable.isEmpty {
                do {
                    return try await transaction { connection in
                        try await self.store(batch, via: via, connection: connection, now: now)
                    }
                } catch let failed as ApplyFailed {
                    underlying = failed.underlying
                }
            }
            let named = Set(unusable.map(\.id))
            unusable += try await unusableItems(batch.items.filter { !named.contains($0.id) }, venueID: batch.venueId, now: now)
            // An apply failure no item causes on its own was not the items' doing (the database, say).
            if unusable.isEmpty, let underlying { throw underlying }
            throw CentralError.itemsUnusable(unusable)
        } catch let error as CentralError {
            switch error {
            case .batchReplayed:
                try? await report(venueID: batch.venueId, code: error.code, batchID: batch.batchId, detail: "the batch id was already used", now: now)
            case .itemConflict(let ids):
                try? await report(
                    venueID: batch.venueId, code: error.code, batchID: batch.batchId,
                    detail: "different payload under items already held: \(ids.joined(separator: ", "))", now: now)
            case .itemsUnusable(let items):
                try? await report(
                    venueID: batch.venueId, code: error.code, batchID: batch.batchId,
                    detail: "items central cannot take: " + items.map { "\($0.id) (\($0.message))" }.joined(separator: "; "), now: now)
            default: break
            }
            throw error
        }
    }

    /// The venue must be registered, enrolled and not revoked, and `signature` must be its signature of `body`.
    /// A refusal other than an unknown id is reported.
    func checkSigned(
        venueID: String, body: Data, signature: String?, purpose: SyncSignature.Purpose, batchID: String?, now: Date
    ) async throws {
        let venue = try await venue(id: venueID)
        if venue.revokedAt != nil {
            try? await report(venueID: venueID, code: "venue_revoked", batchID: batchID, detail: "sent by a revoked venue", now: now)
            throw CentralError.venueRevoked
        }
        guard let key = venue.publicKey.flatMap({ Data(base64Encoded: $0) }) else { throw CentralError.venueNotEnrolled(venueID) }
        guard let signature, SyncSignature.isValid(signature, of: body, purpose: purpose, publicKey: key) else {
            try? await report(
                venueID: venueID, code: "signature_invalid", batchID: batchID,
                detail: signature == nil ? "no signature" : "the signature does not match the venue's key", now: now)
            throw CentralError.signatureInvalid
        }
    }

    /// Refuses a batch whose frame is wrong; returns the items that are malformed themselves.
    static func check(_ batch: SyncBatch) throws -> [UnusableItem] {
        guard !batch.batchId.isEmpty, batch.batchId.utf8.count <= 64 else {
            throw CentralError.batchInvalid(en: "the batch id must have 1 to 64 characters", zh: "批次编号须为 1 到 64 个字符")
        }
        guard batch.items.count <= maxBatchItems else {
            throw CentralError.batchInvalid(
                en: "\(batch.items.count) items, more than \(maxBatchItems)", zh: "共 \(batch.items.count) 条，超过上限 \(maxBatchItems)")
        }
        var seen = Set<String>()
        var unusable: [UnusableItem] = []
        for item in batch.items {
            guard !item.id.isEmpty, item.id.utf8.count <= 64, seen.insert(item.id).inserted else {
                throw CentralError.batchInvalid(en: "item id \"\(item.id)\" is empty, too long or repeated", zh: "记录编号“\(item.id)”为空、过长或重复")
            }
            let data = Data(item.payload.utf8)
            if !SyncSchema.kinds.contains(item.kind) {
                unusable.append(UnusableItem(id: item.id, message: "unknown kind \"\(item.kind)\"", messageZh: "类型“\(item.kind)”未知"))
            } else if data.count > maxItemBytes {
                unusable.append(UnusableItem(id: item.id, message: "larger than 8 MiB", messageZh: "超过 8 MiB"))
            } else if SyncDigest.hex(data) != item.sha256 {
                unusable.append(UnusableItem(id: item.id, message: "the SHA-256 does not match its payload", messageZh: "SHA-256 与内容不符"))
            } else if !((try? JSONSerialization.jsonObject(with: data)) is [String: Any]) {
                unusable.append(UnusableItem(id: item.id, message: "the payload is not a JSON object", messageZh: "内容不是 JSON 对象"))
            }
        }
        return unusable
    }

    /// Thrown inside the receiving transaction when the new items do not fit central's tables; `receive` then finds
    /// which ones.
    private struct ApplyFailed: Error {
        var underlying: any Error
    }

    /// The items among `items` that fail to apply to central's tables (a field of the wrong type, say): all are tried
    /// together first, and only if that fails each on its own, in savepoints of one transaction that is rolled back
    /// whole, so nothing is kept.
    private func unusableItems(_ items: [SyncItem], venueID: String, now: Date) async throws -> [UnusableItem] {
        struct Probed: Error {
            var unusable: [UnusableItem]
        }
        guard !items.isEmpty else { return [] }
        let probeBatch = "probe-" + UUID().uuidString.lowercased()
        var binds = PostgresBindings()
        binds.append(venueID)
        binds.append(probeBatch)
        do {
            try await transaction { connection in
                /// The reason `items` do not apply, or nil when they do.
                func failure(of items: [SyncItem]) async throws -> String? {
                    try await connection.query("SAVEPOINT probe", logger: logger)
                    var reason: String?
                    do {
                        try await connection.query(
                            """
                            INSERT INTO sync_item (venue_id, item_id, seq, kind, sitting_id, created_at, sha256, payload, batch_id, received_at)
                            SELECT \(venueID), t.id, t.seq, t.kind, NULLIF(t.sitting, ''), to_timestamp(t.created / 1000.0), t.sha, t.payload::jsonb,
                                \(probeBatch), \(now)
                            FROM unnest(\(items.map(\.id)), \(items.map(\.seq)), \(items.map(\.kind)), \(items.map { $0.sittingId ?? "" }),
                                \(items.map(\.createdAt)), \(items.map(\.sha256)), \(items.map(\.payload)))
                                AS t(id, seq, kind, sitting, created, sha, payload)
                            ON CONFLICT (venue_id, item_id) DO NOTHING
                            """, logger: logger)
                        for statement in SyncSchema.apply {
                            try await connection.query(PostgresQuery(unsafeSQL: statement, binds: binds), logger: logger)
                        }
                    } catch let error as PSQLError {
                        reason = error.serverInfo?[.message] ?? String(describing: error)
                    }
                    try await connection.query("ROLLBACK TO SAVEPOINT probe", logger: logger)
                    return reason
                }
                var unusable: [UnusableItem] = []
                if try await failure(of: items) != nil {
                    for item in items {
                        guard let reason = try await failure(of: [item]) else { continue }
                        unusable.append(UnusableItem(
                            id: item.id, message: "does not fit central's tables: \(reason)", messageZh: "无法写入中心数据表：\(reason)"))
                    }
                }
                throw Probed(unusable: unusable)
            }
        } catch let probed as Probed {
            return probed.unusable
        }
        return []
    }

    private func store(_ batch: SyncBatch, via: String, connection: PostgresConnection, now: Date) async throws -> SyncReceipt {
        let venueID = batch.venueId
        var fresh = 0
        for try await _ in try await connection.query(
            """
            INSERT INTO sync_batch (venue_id, batch_id, via, received_at, items, stored)
            VALUES (\(venueID), \(batch.batchId), \(via), \(now), \(batch.items.count), 0)
            ON CONFLICT DO NOTHING RETURNING batch_id
            """, logger: logger)
        {
            fresh += 1
        }
        guard fresh == 1 else { throw CentralError.batchReplayed(batch.batchId) }
        let items = batch.items
        var stored = Set<String>()
        if !items.isEmpty {
            // A payload PostgreSQL's jsonb refuses (a NUL character, say) is the items' doing, like a failed apply.
            do {
                let rows = try await connection.query(
                    """
                    INSERT INTO sync_item (venue_id, item_id, seq, kind, sitting_id, created_at, sha256, payload, batch_id, received_at)
                    SELECT \(venueID), t.id, t.seq, t.kind, NULLIF(t.sitting, ''), to_timestamp(t.created / 1000.0), t.sha, t.payload::jsonb,
                        \(batch.batchId), \(now)
                    FROM unnest(\(items.map(\.id)), \(items.map(\.seq)), \(items.map(\.kind)), \(items.map { $0.sittingId ?? "" }),
                        \(items.map(\.createdAt)), \(items.map(\.sha256)), \(items.map(\.payload)))
                        AS t(id, seq, kind, sitting, created, sha, payload)
                    ON CONFLICT (venue_id, item_id) DO NOTHING RETURNING item_id
                    """, logger: logger)
                for try await id in rows.decode(String.self) { stored.insert(id) }
            } catch let error as PSQLError {
                throw ApplyFailed(underlying: error)
            }
        }
        let others = items.filter { !stored.contains($0.id) }
        var conflicts: [String] = []
        if !others.isEmpty {
            let expected = Dictionary(uniqueKeysWithValues: others.map { ($0.id, $0.sha256) })
            let rows = try await connection.query(
                "SELECT item_id, sha256 FROM sync_item WHERE venue_id = \(venueID) AND item_id = ANY(\(others.map(\.id)))",
                logger: logger)
            for try await (id, sha) in rows.decode((String, String).self) where expected[id] != sha {
                conflicts.append(id)
            }
        }
        guard conflicts.isEmpty else { throw CentralError.itemConflict(conflicts.sorted()) }
        if !stored.isEmpty {
            var binds = PostgresBindings()
            binds.append(venueID)
            binds.append(batch.batchId)
            do {
                for statement in SyncSchema.apply {
                    try await connection.query(PostgresQuery(unsafeSQL: statement, binds: binds), logger: logger)
                }
            } catch let error as PSQLError {
                throw ApplyFailed(underlying: error)
            }
        }
        try await connection.query(
            "UPDATE sync_batch SET stored = \(stored.count) WHERE venue_id = \(venueID) AND batch_id = \(batch.batchId)",
            logger: logger)
        return SyncReceipt(
            batchId: batch.batchId, stored: items.map(\.id).filter { stored.contains($0) },
            duplicates: others.map(\.id))
    }

    func report(venueID: String, code: String, batchID: String?, detail: String, now: Date) async throws {
        logger.warning("sync refused", metadata: ["venue": "\(venueID)", "code": "\(code)", "detail": "\(detail)"])
        try await client.query(
            """
            INSERT INTO sync_report (venue_id, at, code, batch_id, detail) VALUES (\(venueID), \(now), \(code), \(batchID), \(detail))
            """, logger: logger)
    }

    /// What central refused from venues, newest first.
    public func syncReports(venueID: String? = nil, limit: Int = 100) async throws -> [SyncReport] {
        var reports: [SyncReport] = []
        let rows = try await client.query(
            """
            SELECT venue_id, at, code, batch_id, detail FROM sync_report
            WHERE \(venueID)::text IS NULL OR venue_id = \(venueID) ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        for try await (venue, at, code, batch, detail) in rows.decode((String, Date, String, String?, String).self) {
            reports.append(SyncReport(venueId: venue, at: at, code: code, batchId: batch, detail: detail))
        }
        return reports
    }

    // MARK: Upload sessions

    /// Opens an upload session for a signed request: a bearer token for the venue's video uploads. The request id
    /// is accepted once.
    public func openUploadSession(body: Data, signature: String?, now: Date = Date()) async throws -> SyncSession {
        let request: SyncSessionRequest
        do {
            request = try SyncBatch.decoder.decode(SyncSessionRequest.self, from: body)
        } catch {
            throw CentralError.batchInvalid(en: "the body is not an upload session request", zh: "内容不是上传会话申请")
        }
        guard !request.requestId.isEmpty, request.requestId.utf8.count <= 64 else {
            throw CentralError.batchInvalid(en: "the request id must have 1 to 64 characters", zh: "申请编号须为 1 到 64 个字符")
        }
        try await checkSigned(
            venueID: request.venueId, body: body, signature: signature, purpose: .session, batchID: request.requestId, now: now)
        var random = SystemRandomNumberGenerator()
        let token = Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let expires = now.addingTimeInterval(Self.uploadSessionValidity)
        do {
            try await transaction { connection in
                var fresh = 0
                for try await _ in try await connection.query(
                    """
                    INSERT INTO sync_batch (venue_id, batch_id, via, received_at, items, stored)
                    VALUES (\(request.venueId), \(request.requestId), 'session', \(now), 0, 0)
                    ON CONFLICT DO NOTHING RETURNING batch_id
                    """, logger: logger)
                {
                    fresh += 1
                }
                guard fresh == 1 else { throw CentralError.batchReplayed(request.requestId) }
                try await connection.query(
                    """
                    INSERT INTO upload_session (token_sha256, venue_id, created_at, expires_at)
                    VALUES (\(SyncDigest.hex(Data(token.utf8))), \(request.venueId), \(now), \(expires))
                    """, logger: logger)
            }
        } catch CentralError.batchReplayed(let id) {
            try? await report(venueID: request.venueId, code: "batch_replayed", batchID: id, detail: "upload session request replayed", now: now)
            throw CentralError.batchReplayed(id)
        }
        return SyncSession(token: token, expiresAt: expires)
    }

    /// The venue an upload token belongs to, if the token is known, unexpired and its venue not revoked.
    public func venueForUploadToken(_ token: String, now: Date = Date()) async throws -> String {
        let rows = try await client.query(
            """
            SELECT s.venue_id FROM upload_session s JOIN venue v ON v.id = s.venue_id
            WHERE s.token_sha256 = \(SyncDigest.hex(Data(token.utf8))) AND s.expires_at > \(now) AND v.revoked_at IS NULL
            """, logger: logger)
        for try await venue in rows.decode(String.self) { return venue }
        throw CentralError.uploadSessionInvalid
    }
}
