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
    public var roomId: String
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
    /// False for a camera connected only because someone watches its live picture: nothing is recorded.
    public var recording: Bool = true
}

extension VenueDatabase {
    /// Stores a closed segment; the same segment reported twice (recovery after a restart) is stored once.
    public func recordSegment(cameraID: String, roomID: String, _ segment: SegmentInput) async throws {
        try await groupCommit.write { db in
            try Self.insertSegment(db, cameraID: cameraID, roomID: roomID, segment, ignoringRepeats: true)
        }
    }

    /// One segment row; a repeat (same camera, session and sequence) is ignored or an error.
    static func insertSegment(
        _ db: Database, cameraID: String, roomID: String, _ segment: SegmentInput, ignoringRepeats: Bool
    ) throws {
        try db.execute(
            sql: """
                INSERT \(ignoringRepeats ? "OR IGNORE " : "")INTO recording_segment
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
    /// extensions and end count). Enabled cameras in `watched` that should not record come too, with
    /// `recording` false: they are connected for their live picture only.
    public func camerasToRecord(
        now: Date = Date(), lead: TimeInterval, tail: TimeInterval, watched: Set<String> = []
    ) async throws -> [CameraToRecord] {
        try await pool.read { db in
            let cameras = try CameraRecord.filter(Column("enabled") == true).fetchAll(db)
            guard !cameras.isEmpty else { return [] }
            var busyRooms = Set<String>()
            for room in try Self.roomClocks(db) {
                let clock = room.clock
                let start = clock.startedAt ?? clock.scheduledStart
                let end =
                    clock.end(attemptExtension: 0, now: max(now, start))
                    ?? start.addingTimeInterval(clock.duration + clock.sittingExtension)
                if now >= start.addingTimeInterval(-lead), now < end.addingTimeInterval(tail) { busyRooms.insert(room.roomID) }
            }
            return cameras.compactMap { camera in
                let recording = camera.recordingMode == "on" || (camera.recordingMode == "auto" && busyRooms.contains(camera.roomId))
                guard recording || watched.contains(camera.id) else { return nil }
                return CameraToRecord(
                    id: camera.id, roomID: camera.roomId, name: camera.name,
                    urlStamp: SHA256.hash(data: camera.urlSealed).prefix(8).map { String(format: "%02x", $0) }.joined(),
                    recording: recording)
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
            cameraId: row["cameraId"], roomId: row["roomId"], session: row["session"], sequence: row["sequence"], fileName: row["fileName"],
            startedAt: row["startedAt"], endedAt: row["endedAt"], duration: row["duration"], bytes: row["bytes"],
            sha256: row["sha256"], codec: row["codec"], width: row["width"], height: row["height"], recovered: row["recovered"],
            uploadedAt: row["uploadedAt"])
    }
}

/// Something about the recording an admin or invigilator must act on: a room with a sitting but no camera recording
/// (`room_not_recorded`), a camera down during a sitting (`camera_down`), or the recordings' disk nearing its floor
/// (`disk_low`). An alert stays open until its cause is gone; all are kept for the sync to the central office.
public struct RecordingAlertView: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String
    public var roomId: String?
    public var cameraId: String?
    public var sittingId: String?
    public var message: Message
    public var raisedAt: Int64
    public var clearedAt: Int64?
}

/// An alert to raise; `subject` names what it is about (a room and sitting, a camera, the disk), so that one stays
/// open per subject.
public struct RecordingAlertInput: Sendable, Equatable {
    public var kind: String
    public var subject: String
    public var roomID: String?
    public var cameraID: String?
    public var sittingID: String?
    public var message: Message

    public init(kind: String, subject: String, roomID: String? = nil, cameraID: String? = nil, sittingID: String? = nil, message: Message) {
        self.kind = kind
        self.subject = subject
        self.roomID = roomID
        self.cameraID = cameraID
        self.sittingID = sittingID
        self.message = message
    }
}

/// A room whose sitting is under way, for the recording alerts.
public struct RunningSitting: Sendable, Equatable {
    public var sittingID: String
    public var sittingName: String
    public var roomID: String
    public var roomName: String
    public var startedAt: Date
}

extension VenueDatabase {
    /// Makes the open alerts exactly `wanted`: new ones are raised, open ones no longer wanted are cleared.
    public func reconcileRecordingAlerts(_ wanted: [RecordingAlertInput], now: Date = Date()) async throws {
        try await groupCommit.write { db in
            let open = try Row.fetchAll(db, sql: "SELECT id, kind, subject FROM recording_alert WHERE clearedAt IS NULL")
            let wantedKeys = Set(wanted.map { "\($0.kind)|\($0.subject)" })
            var openKeys = Set<String>()
            for row in open {
                let key = "\(row["kind"] as String)|\(row["subject"] as String)"
                openKeys.insert(key)
                if !wantedKeys.contains(key) {
                    try db.execute(
                        sql: "UPDATE recording_alert SET clearedAt = ? WHERE id = ?", arguments: [now.millis, row["id"] as String])
                }
            }
            for alert in wanted where !openKeys.contains("\(alert.kind)|\(alert.subject)") {
                try db.execute(
                    sql: """
                        INSERT INTO recording_alert (id, kind, subject, roomId, cameraId, sittingId, detail, raisedAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        UUID().uuidString.lowercased(), alert.kind, alert.subject, alert.roomID, alert.cameraID, alert.sittingID,
                        String(decoding: try JSONEncoder().encode(alert.message), as: UTF8.self), now.millis,
                    ])
            }
        }
    }

    /// Open alerts first (oldest first), then the cleared ones, newest first.
    public func recordingAlerts(roomID: String? = nil, openOnly: Bool = false, limit: Int = 200) async throws -> [RecordingAlertView] {
        try await pool.read { db in try Self.recordingAlerts(db, roomID: roomID, openOnly: openOnly, limit: limit) }
    }

    static func recordingAlerts(_ db: Database, roomID: String?, openOnly: Bool, limit: Int) throws -> [RecordingAlertView] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let roomID {
            // The disk concerns every room.
            conditions.append("(roomId = ? OR kind = 'disk_low')")
            arguments.append(roomID)
        }
        if openOnly { conditions.append("clearedAt IS NULL") }
        arguments.append(max(1, min(limit, 10_000)))
        return try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM recording_alert \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                ORDER BY clearedAt IS NOT NULL, CASE WHEN clearedAt IS NULL THEN raisedAt ELSE -raisedAt END LIMIT ?
                """, arguments: StatementArguments(arguments)
        ).map { row in
            let detail: String = row["detail"]
            return RecordingAlertView(
                id: row["id"], kind: row["kind"], roomId: row["roomId"], cameraId: row["cameraId"], sittingId: row["sittingId"],
                message: try JSONDecoder().decode(Message.self, from: Data(detail.utf8)), raisedAt: row["raisedAt"],
                clearedAt: row["clearedAt"])
        }
    }

    /// Every room of every sitting with the clock that governs it (the room's own start, pauses, extensions, end).
    static func roomClocks(_ db: Database) throws -> [(sitting: SittingRecord, roomID: String, roomName: String, clock: SittingClock)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT sr.sittingId, sr.roomId, r.name AS roomName FROM sitting_room sr JOIN room r ON r.id = sr.roomId
                ORDER BY sr.roomId
                """
        ).compactMap { row in
            let roomID: String = row["roomId"]
            guard let sitting = try SittingRecord.fetchOne(db, key: row["sittingId"] as String) else { return nil }
            return (sitting, roomID, row["roomName"], Self.clock(sitting: sitting, room: try db.roomClock(sittingID: sitting.id, roomID: roomID)))
        }
    }

    /// The rooms whose sitting has started and not ended at `now` (the room's own start, pauses and end count).
    public func runningSittings(now: Date = Date()) async throws -> [RunningSitting] {
        try await pool.read { db in
            var running: [RunningSitting] = []
            for room in try Self.roomClocks(db) {
                switch room.clock.phase(now: now) {
                case .running(let startedAt, _), .paused(let startedAt, _, _):
                    running.append(
                        RunningSitting(
                            sittingID: room.sitting.id, sittingName: room.sitting.name, roomID: room.roomID,
                            roomName: room.roomName, startedAt: startedAt))
                default: break
                }
            }
            return running
        }
    }
}

extension VenueDatabase {
    /// The segments kept, oldest first (uploaded ones only, if asked).
    public func oldestSegments(uploadedOnly: Bool, limit: Int) async throws -> [SegmentView] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM recording_segment \(uploadedOnly ? "WHERE uploadedAt IS NOT NULL" : "")
                    ORDER BY startedAt, cameraId LIMIT ?
                    """, arguments: [limit]
            ).map(Self.segmentView)
        }
    }

    /// The segments whose video the central office has not received yet, oldest first.
    public func segmentsNotUploaded(limit: Int) async throws -> [SegmentView] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM recording_segment WHERE uploadedAt IS NULL ORDER BY startedAt, cameraId, session, sequence LIMIT ?",
                arguments: [limit]
            ).map(Self.segmentView)
        }
    }

    /// All bytes of the segments kept.
    public func recordingBytes() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM recording_segment") ?? 0 }
    }

    /// Marks segments as received by the central office (they may then be deleted first when space is needed).
    public func markSegmentsUploaded(cameraID: String, fileNames: [String], now: Date = Date()) async throws {
        try await groupCommit.write { db in
            for name in fileNames {
                try db.execute(
                    sql: "UPDATE recording_segment SET uploadedAt = ? WHERE cameraId = ? AND fileName = ? AND uploadedAt IS NULL",
                    arguments: [now.millis, cameraID, name])
            }
        }
    }

    /// Forgets a segment whose file retention deleted. Deleting one the central office does not have yet is audited
    /// with the reason: it happens only when the disk is about to fill.
    public func forgetSegment(_ segment: SegmentView, reason: String, now: Date = Date()) async throws {
        try await groupCommit.write { db in
            try db.execute(
                sql: "DELETE FROM recording_segment WHERE cameraId = ? AND session = ? AND sequence = ?",
                arguments: [segment.cameraId, segment.session, segment.sequence])
            if segment.uploadedAt == nil {
                try Self.audit(
                    db, actor: "venue", role: "system", action: .recordingDeleted, now: now, roomID: segment.roomId,
                    reason: reason,
                    detail: [
                        "camera": segment.cameraId, "file": segment.fileName, "bytes": String(segment.bytes),
                        "startedAt": String(segment.startedAt), "uploaded": "false",
                    ])
            }
        }
    }

    /// Whether the venue has a room with this id (from its imported packages).
    public func roomExists(_ roomID: String) async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM room WHERE id = ?)", arguments: [roomID]) ?? false
        }
    }

    /// Stores the segments of a recording an admin uploaded, all or none, and audits the upload. Returns them as
    /// stored.
    public func recordUploadedSegments(
        by admin: StaffSession, cameraID: String, roomID: String, _ segments: [SegmentInput], detail: [String: String],
        now: Date = Date()
    ) async throws -> [SegmentView] {
        try await groupCommit.write { db in
            for segment in segments {
                try Self.insertSegment(db, cameraID: cameraID, roomID: roomID, segment, ignoringRepeats: false)
            }
            var detail = detail
            detail["camera"] = cameraID
            detail["segments"] = String(segments.count)
            detail["bytes"] = String(segments.map(\.bytes).reduce(0, +))
            if let first = segments.first, let last = segments.last {
                detail["from"] = String(first.startedAt.millis)
                detail["to"] = String(last.endedAt.millis)
            }
            try Self.audit(db, by: admin, action: .recordingUploaded, now: now, roomID: roomID, detail: detail)
            return try segments.map { segment in
                try Row.fetchOne(
                    db, sql: "SELECT * FROM recording_segment WHERE cameraId = ? AND session = ? AND sequence = ?",
                    arguments: [cameraID, segment.session, segment.sequence]
                ).map(Self.segmentView)!
            }
        }
    }
}
