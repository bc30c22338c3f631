import Foundation
import GRDB
import SyncProtocol

/// How much the venue still owes the central office, for the sync page.
public struct OutboxSummary: Sendable, Codable, Equatable {
    public struct Kind: Sendable, Codable, Equatable {
        public var kind: String
        public var items: Int
        public var bytes: Int
    }
    /// Items not yet acknowledged (refused ones not counted).
    public var queuedItems: Int
    public var queuedBytes: Int
    /// Unix milliseconds of the oldest queued item.
    public var oldestQueuedAt: Int64?
    public var acknowledgedItems: Int
    /// Items central refused (their payload differs from what it holds): they wait for a person.
    public var refusedItems: Int
    public var queuedByKind: [Kind]
}

/// An item central refused, with its reason as central gave it.
public struct RefusedItem: Sendable, Codable, Equatable {
    public var id: String
    public var kind: String
    public var sittingId: String?
    public var refusedAt: Int64
    public var refusal: String
}

extension VenueDatabase {
    /// The next items to send, results first, in the order they were written; at most `limit` items and about
    /// `maxBytes` of payload (always at least one item).
    public func pendingOutbox(limit: Int, maxBytes: Int) async throws -> [SyncItem] {
        try await pool.read { db in
            var items: [SyncItem] = []
            var bytes = 0
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT seq, id, kind, sittingId, createdAt, payload FROM sync_outbox
                    WHERE ackedAt IS NULL AND refusedAt IS NULL ORDER BY priority, seq LIMIT ?
                    """, arguments: [limit])
            while let row = try rows.next() {
                let payload: String = row["payload"]
                if !items.isEmpty && bytes + payload.utf8.count > maxBytes { break }
                bytes += payload.utf8.count
                items.append(
                    SyncItem(id: row["id"], seq: row["seq"], kind: row["kind"], sittingId: row["sittingId"], createdAt: row["createdAt"],
                             payload: payload))
            }
            return items
        }
    }

    /// Every item not yet acknowledged (for the USB export), in sending order.
    public func unacknowledgedOutbox(after seq: Int64 = 0, limit: Int) async throws -> [SyncItem] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, id, kind, sittingId, createdAt, payload FROM sync_outbox
                    WHERE ackedAt IS NULL AND seq > ? ORDER BY seq LIMIT ?
                    """, arguments: [seq, limit]
            ).map {
                SyncItem(id: $0["id"], seq: $0["seq"], kind: $0["kind"], sittingId: $0["sittingId"], createdAt: $0["createdAt"], payload: $0["payload"])
            }
        }
    }

    /// Central holds these items: they are not sent again.
    public func acknowledgeOutbox(_ ids: [String], now: Date = Date()) async throws {
        guard !ids.isEmpty else { return }
        try await pool.write { db in
            let statement = try db.cachedStatement(sql: "UPDATE sync_outbox SET ackedAt = ? WHERE id = ? AND ackedAt IS NULL")
            for id in ids { try statement.execute(arguments: [now.millis, id]) }
        }
    }

    /// Deletes the items central acknowledged before `cutoff`: they are copies of rows the venue keeps in their own
    /// tables (the answer log, the attempts, the audit log…). Items not acknowledged, refused ones included, stay.
    /// Returns how many went.
    @discardableResult
    public func pruneAcknowledgedOutbox(before cutoff: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sync_outbox WHERE ackedAt IS NOT NULL AND ackedAt < ?", arguments: [cutoff.millis])
            return db.changesCount
        }
    }

    /// Central refused these items for a reason sending again will not change (central holds a different payload
    /// under the same id): they stay, marked, for the sync page.
    public func refuseOutbox(_ ids: [String], reason: String, now: Date = Date()) async throws {
        try await refuseOutbox(ids.map { ($0, reason) }, now: now)
    }

    /// Sets items aside, each with its own reason.
    public func refuseOutbox(_ reasons: [(id: String, reason: String)], now: Date = Date()) async throws {
        guard !reasons.isEmpty else { return }
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: "UPDATE sync_outbox SET refusedAt = ?, refusal = ? WHERE id = ? AND ackedAt IS NULL")
            for (id, reason) in reasons { try statement.execute(arguments: [now.millis, reason, id]) }
        }
    }

    public func outboxSummary() async throws -> OutboxSummary {
        try await pool.read { db in
            let kinds = try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, count(*) AS items, sum(length(CAST(payload AS BLOB))) AS bytes FROM sync_outbox
                    WHERE ackedAt IS NULL AND refusedAt IS NULL GROUP BY kind ORDER BY min(priority), kind
                    """
            ).map { OutboxSummary.Kind(kind: $0["kind"], items: $0["items"], bytes: $0["bytes"] ?? 0) }
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT min(CASE WHEN ackedAt IS NULL AND refusedAt IS NULL THEN createdAt END) AS oldest,
                        count(ackedAt) AS acked, count(refusedAt) AS refused FROM sync_outbox
                    """)
            return OutboxSummary(
                queuedItems: kinds.reduce(0) { $0 + $1.items }, queuedBytes: kinds.reduce(0) { $0 + $1.bytes },
                oldestQueuedAt: row?["oldest"], acknowledgedItems: row?["acked"] ?? 0, refusedItems: row?["refused"] ?? 0,
                queuedByKind: kinds)
        }
    }

    public func refusedOutbox(limit: Int = 100) async throws -> [RefusedItem] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, kind, sittingId, refusedAt, refusal FROM sync_outbox WHERE refusedAt IS NOT NULL
                    ORDER BY refusedAt DESC LIMIT ?
                    """, arguments: [limit]
            ).map { RefusedItem(id: $0["id"], kind: $0["kind"], sittingId: $0["sittingId"], refusedAt: $0["refusedAt"], refusal: $0["refusal"]) }
        }
    }

    /// The newest outbox sequence number, and whether a room's clock changed (a room started, paused or ended) after
    /// `seq`: the agent's cheap test of whether the sittings' manifests may have changed.
    public func outboxChanges(after seq: Int64) async throws -> (newest: Int64, roomClockChanged: Bool) {
        try await pool.read { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT COALESCE(max(seq), 0) FROM sync_outbox") ?? 0
            let clock = try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM sync_outbox WHERE seq > ? AND kind = 'roomClock')", arguments: [seq]) ?? false
            return (newest, clock)
        }
    }

    /// A value the sync agent keeps across restarts (its last success, the last error).
    public func syncState(_ key: String) async throws -> String? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM sync_state WHERE key = ?", arguments: [key]) }
    }

    public func setSyncState(_ key: String, _ value: String?) async throws {
        try await pool.write { db in
            if let value {
                try db.execute(
                    sql: "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    arguments: [key, value])
            } else {
                try db.execute(sql: "DELETE FROM sync_state WHERE key = ?", arguments: [key])
            }
        }
    }
}
