import Crypto
import ExamCore
import Foundation
import GRDB

/// A closed segment file as the recorder reports it (VenueStore knows nothing of libav).
public struct SegmentInput: Sendable {
    public var session: String
    public var sequence: Int
    public var fileName: String
    public var startedAt: Date
    public var endedAt: Date
    public var duration: Double
    public var bytes: Int
    public var sha256: String
    public var codec: String
    public var width: Int
    public var height: Int
    public var recovered: Bool

    public init(
        session: String, sequence: Int, fileName: String, startedAt: Date, endedAt: Date, duration: Double, bytes: Int,
        sha256: String, codec: String, width: Int, height: Int, recovered: Bool
    ) {
        self.session = session
        self.sequence = sequence
        self.fileName = fileName
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.duration = duration
        self.bytes = bytes
        self.sha256 = sha256
        self.codec = codec
        self.width = width
        self.height = height
        self.recovered = recovered
    }
}

/// One segment of a room's recording, for the timeline and playback.
public struct SegmentView: Codable, Sendable, Equatable {
    public var cameraId: String
    public var session: String
    public var sequence: Int
    public var fileName: String
    public var startedAt: Int64
    public var endedAt: Int64
    public var duration: Double
    public var bytes: Int
    public var sha256: String
    public var codec: String
    public var width: Int
    public var height: Int
    public var recovered: Bool
    public var uploadedAt: Int64?
}

/// A stretch of time without video from a camera, and why.
public struct GapView: Codable, Sendable, Equatable {
    public var cameraId: String
    public var from: Int64
    public var to: Int64
    /// A camera error code (`camera_timeout`, `camera_refused`, …), `clock_jump`, `stopped` or `venue_down`.
    public var reason: String
}

/// A room's recording over a time range: what was recorded and where nothing was.
public struct RecordingTimeline: Codable, Sendable {
    public var roomId: String
    public var from: Int64
    public var to: Int64
    public var segments: [SegmentView]
    public var gaps: [GapView]
}

/// What a camera's recording holds on disk.
public struct CameraDiskUse: Codable, Sendable, Equatable {
    public var segments: Int
    public var bytes: Int64
    public var lastSegmentEndedAt: Int64?

    public init(segments: Int, bytes: Int64, lastSegmentEndedAt: Int64?) {
        self.segments = segments
        self.bytes = bytes
        self.lastSegmentEndedAt = lastSegmentEndedAt
    }
}

/// A camera the recorder service should run, with where its recording goes.
public struct CameraToRecord: Sendable, Equatable {
    public var id: String
    public var roomID: String
    public var name: String
    /// Changes when the camera's URL changes, so that a running recorder is restarted with the new one.
    public var urlStamp: String
}

extension VenueDatabase {
    /// Stores a closed segment; the same segment reported twice (recovery after a restart) is stored once.
    public func recordSegment(cameraID: String, roomID: String, _ segment: SegmentInput) async throws {
        try await groupCommit.write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO recording_segment
                        (cameraId, roomId, session, sequence, fileName, startedAt, endedAt, duration, bytes, sha256, codec,
                         width, height, recovered)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    cameraID, roomID, segment.session, segment.sequence, segment.fileName, segment.startedAt.millis,
                    segment.endedAt.millis, segment.duration, segment.bytes, segment.sha256, segment.codec, segment.width,
                    segment.height, segment.recovered,
                ])
        }
    }

    /// Stores a stretch without video (never silently left out of the timeline).
    public func recordGap(cameraID: String, roomID: String, from: Date, to: Date, reason: String) async throws {
        guard to > from else { return }
        try await groupCommit.write { db in
            try db.execute(
                sql: "INSERT INTO recording_gap (cameraId, roomId, fromAt, toAt, reason) VALUES (?, ?, ?, ?, ?)",
                arguments: [cameraID, roomID, from.millis, to.millis, reason])
        }
    }

    /// Sets whether a camera follows the timetable (`auto`) or records (`on`) or not (`off`) by the admin's hand.
    public func setRecordingMode(by admin: StaffSession, cameraID: String, mode: String, now: Date = Date()) async throws
        -> CameraView
    {
        guard ["auto", "on", "off"].contains(mode) else {
            throw StoreError.invalidRequest("mode 须为 auto、on 或 off / mode must be auto, on or off")
        }
        try await groupCommit.write { db in
            guard var camera = try CameraRecord.fetchOne(db, key: cameraID) else { throw Self.noCamera(cameraID) }
            camera.recordingMode = mode
            camera.updatedAt = now.millis
            try camera.update(db)
            try Self.audit(
                db, by: admin, action: .cameraUpdated, now: now, roomID: camera.roomId,
                detail: ["camera": cameraID, "recordingMode": mode])
        }
        return try await camera(id: cameraID)
    }

    /// The cameras that should be recording at `now`: enabled ones set to `on`, and enabled `auto` ones whose room
    /// has a sitting from `lead` before its start to `tail` after its end (the room's own start, pauses,
    /// extensions and end count).
    public func camerasToRecord(now: Date = Date(), lead: TimeInterval, tail: TimeInterval) async throws -> [CameraToRecord] {
        try await pool.read { db in
            let cameras = try CameraRecord.filter(Column("enabled") == true).fetchAll(db)
            guard !cameras.isEmpty else { return [] }
            var busyRooms = Set<String>()
            for row in try Row.fetchAll(db, sql: "SELECT sittingId, roomId FROM sitting_room") {
                let sittingID: String = row["sittingId"]
                let roomID: String = row["roomId"]
                guard let sitting = try SittingRecord.fetchOne(db, key: sittingID) else { continue }
                let clock = Self.clock(sitting: sitting, room: try db.roomClock(sittingID: sittingID, roomID: roomID))
                let start = clock.startedAt ?? clock.scheduledStart
                let end =
                    clock.end(attemptExtension: 0, now: max(now, start))
                    ?? start.addingTimeInterval(clock.duration + clock.sittingExtension)
                if now >= start.addingTimeInterval(-lead), now < end.addingTimeInterval(tail) { busyRooms.insert(roomID) }
            }
            return cameras.filter { $0.recordingMode == "on" || ($0.recordingMode == "auto" && busyRooms.contains($0.roomId)) }
                .map { camera in
                    CameraToRecord(
                        id: camera.id, roomID: camera.roomId, name: camera.name,
                        urlStamp: SHA256.hash(data: camera.urlSealed).prefix(8).map { String(format: "%02x", $0) }.joined())
                }
        }
    }

    /// Segments and gaps of a room's cameras that overlap [from, to), in time order.
    public func recordingTimeline(roomID: String, from: Date, to: Date) async throws -> RecordingTimeline {
        try await pool.read { db in
            let segments = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM recording_segment WHERE roomId = ? AND startedAt < ? AND endedAt > ?
                    ORDER BY startedAt, cameraId
                    """, arguments: [roomID, to.millis, from.millis]
            ).map(Self.segmentView)
            let gaps = try Row.fetchAll(
                db,
                sql: "SELECT * FROM recording_gap WHERE roomId = ? AND fromAt < ? AND toAt > ? ORDER BY fromAt, cameraId",
                arguments: [roomID, to.millis, from.millis]
            ).map { row in GapView(cameraId: row["cameraId"], from: row["fromAt"], to: row["toAt"], reason: row["reason"]) }
            return RecordingTimeline(roomId: roomID, from: from.millis, to: to.millis, segments: segments, gaps: gaps)
        }
    }

    /// Per camera: segments kept, their bytes, and when the last one ended.
    public func recordingDiskUse() async throws -> [String: CameraDiskUse] {
        try await pool.read { db in
            var use: [String: CameraDiskUse] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT cameraId, COUNT(*) AS n, SUM(bytes) AS b, MAX(endedAt) AS last FROM recording_segment GROUP BY cameraId")
            {
                use[row["cameraId"]] = CameraDiskUse(segments: row["n"], bytes: row["b"] ?? 0, lastSegmentEndedAt: row["last"])
            }
            return use
        }
    }

    /// One segment of a camera by its file name (only names the recorder stored can be asked for).
    public func segment(cameraID: String, fileName: String) async throws -> SegmentView {
        let segment = try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM recording_segment WHERE cameraId = ? AND fileName = ?", arguments: [cameraID, fileName]
            ).map(Self.segmentView)
        }
        guard let segment else { throw StoreError.notFound("录像 \(fileName) / the recording \(fileName)") }
        return segment
    }

    static func segmentView(_ row: Row) -> SegmentView {
        SegmentView(
            cameraId: row["cameraId"], session: row["session"], sequence: row["sequence"], fileName: row["fileName"],
            startedAt: row["startedAt"], endedAt: row["endedAt"], duration: row["duration"], bytes: row["bytes"],
            sha256: row["sha256"], codec: row["codec"], width: row["width"], height: row["height"], recovered: row["recovered"],
            uploadedAt: row["uploadedAt"])
    }
}
