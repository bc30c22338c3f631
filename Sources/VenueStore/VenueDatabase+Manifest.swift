import Crypto
import Foundation
import GRDB

/// What the venue holds for one sitting, sent to the central office so that it can prove it has everything: counts,
/// and digests where a count alone could hide a difference.
public struct SittingManifest: Codable, Sendable, Equatable {
    public struct Segment: Codable, Sendable, Equatable {
        public var cameraId: String
        public var session: String
        public var sequence: Int
        public var bytes: Int
        public var sha256: String
    }
    public var sittingId: String
    /// Unix milliseconds.
    public var scheduledStart: Int64
    /// The scheduled end with the sitting's extensions; the rooms may end later (paused, extended).
    public var scheduledEnd: Int64
    /// When the last of its rooms was ended, if all were.
    public var closedAt: Int64?
    public var candidates: Int
    public var attempts: Int
    public var submitted: Int
    public var answerLogEntries: Int
    /// SHA-256 (hex) of every answer-log entry as `attemptId:seq:changeId\n`, ordered by attempt id (bytewise) and
    /// sequence number — central computes the same over what it holds.
    public var answerLogSHA256: String
    public var checkIns: Int
    public var incidents: Int
    public var faceVerifications: Int
    /// Scoring sheets examiners handed in (skill sittings).
    public var skillSheets: Int
    /// The rooms' recording segments from 15 minutes before the start to 2 hours after the scheduled end.
    public var segments: [Segment]
    public var generatedAt: Int64
}

extension VenueDatabase {
    /// The manifest of every sitting, as the venue holds it now.
    public func sittingManifests(now: Date = Date()) async throws -> [SittingManifest] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM sitting ORDER BY id").map { try Self.manifest(db, sittingID: $0, now: now) }
        }
    }

    static func manifest(_ db: Database, sittingID: String, now: Date) throws -> SittingManifest {
        let sitting = try Row.fetchOne(
            db, sql: "SELECT scheduledStart, durationSeconds, extensionSeconds FROM sitting WHERE id = ?", arguments: [sittingID])
        let start: Int64 = sitting?["scheduledStart"] ?? 0
        let end = start + ((sitting?["durationSeconds"] ?? 0) + (sitting?["extensionSeconds"] ?? 0)) * 1000
        func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql, arguments: [sittingID]) ?? 0 }
        var hasher = SHA256()
        var entries = 0
        let log = try Row.fetchCursor(
            db,
            sql: """
                SELECT l.attemptId, l.seq, l.changeId FROM answer_log l JOIN attempt a ON a.id = l.attemptId
                WHERE a.sittingId = ? ORDER BY l.attemptId, l.seq
                """, arguments: [sittingID])
        while let row = try log.next() {
            let attemptID: String = row[0]
            let seq: Int64 = row[1]
            let changeID: String = row[2]
            hasher.update(data: Data("\(attemptID):\(seq):\(changeID)\n".utf8))
            entries += 1
        }
        let rooms = try String.fetchAll(db, sql: "SELECT roomId FROM sitting_room WHERE sittingId = ?", arguments: [sittingID])
        let closed = try Row.fetchOne(
            db, sql: "SELECT count(*) AS rooms, count(closedAt) AS closed, max(closedAt) AS last FROM room_clock WHERE sittingId = ?",
            arguments: [sittingID])
        let allClosed = !rooms.isEmpty && (closed?["closed"] as Int? ?? 0) >= rooms.count
        let segments = try Row.fetchAll(
            db,
            sql: """
                SELECT cameraId, session, sequence, bytes, sha256 FROM recording_segment
                WHERE roomId IN (SELECT roomId FROM sitting_room WHERE sittingId = ?) AND startedAt >= ? AND startedAt < ?
                ORDER BY cameraId, session, sequence
                """, arguments: [sittingID, start - 15 * 60_000, end + 2 * 3_600_000]
        ).map { SittingManifest.Segment(cameraId: $0["cameraId"], session: $0["session"], sequence: $0["sequence"], bytes: $0["bytes"], sha256: $0["sha256"]) }
        return SittingManifest(
            sittingId: sittingID, scheduledStart: start, scheduledEnd: end, closedAt: allClosed ? closed?["last"] : nil,
            candidates: try count("SELECT count(*) FROM seat_assignment WHERE sittingId = ?"),
            attempts: try count("SELECT count(*) FROM attempt WHERE sittingId = ?"),
            submitted: try count("SELECT count(*) FROM attempt WHERE sittingId = ? AND status = 'submitted'"),
            answerLogEntries: entries, answerLogSHA256: hasher.finalize().map { String(format: "%02x", $0) }.joined(),
            checkIns: try count("SELECT count(*) FROM check_in WHERE sittingId = ?"),
            incidents: try count("SELECT count(*) FROM incident WHERE sittingId = ?"),
            faceVerifications: try count("SELECT count(*) FROM face_verification WHERE sittingId = ?"),
            skillSheets: try count("SELECT count(*) FROM skill_sheet WHERE sittingId = ? AND submittedAt IS NOT NULL"),
            segments: segments, generatedAt: now.millis)
    }

    /// Queues the manifest of each sitting whose content changed since its last manifest was queued (the
    /// generation time aside) — at most once per `interval` while the sitting runs, at once when all its rooms have
    /// ended; returns the sittings queued. The sync agent calls it once the results are sent, so a manifest describes
    /// what central should already hold.
    @discardableResult
    public func queueChangedManifests(interval: TimeInterval = 60, now: Date = Date()) async throws -> [String] {
        try await pool.write { db in
            var queued: [String] = []
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for sittingID in try String.fetchAll(db, sql: "SELECT id FROM sitting ORDER BY id") {
                var manifest = try Self.manifest(db, sittingID: sittingID, now: now)
                let generated = manifest.generatedAt
                manifest.generatedAt = 0
                let digest = SHA256.hash(data: try encoder.encode(manifest)).map { String(format: "%02x", $0) }.joined()
                let key = "manifest:\(sittingID)"
                if try String.fetchOne(db, sql: "SELECT value FROM sync_state WHERE key = ?", arguments: [key]) == digest { continue }
                let last = try String.fetchOne(db, sql: "SELECT value FROM sync_state WHERE key = ?", arguments: ["manifestAt:\(sittingID)"])
                    .flatMap(Int64.init)
                if manifest.closedAt == nil, let last, now.millis - last < Int64(interval * 1000) { continue }
                manifest.generatedAt = generated
                try db.execute(
                    sql: """
                        INSERT INTO sync_outbox (id, kind, priority, sittingId, payload, createdAt)
                        VALUES (lower(hex(randomblob(16))), 'manifest', ?, ?, ?, ?)
                        """,
                    arguments: [OutboxSchema.Priority.record.rawValue, sittingID, String(decoding: try encoder.encode(manifest), as: UTF8.self), now.millis])
                try db.execute(
                    sql: "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    arguments: [key, digest])
                try db.execute(
                    sql: "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    arguments: ["manifestAt:\(sittingID)", String(now.millis)])
                queued.append(sittingID)
            }
            return queued
        }
    }
}
