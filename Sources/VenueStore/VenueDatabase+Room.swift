import ExamCore
import Foundation
import GRDB

/// Incident categories (违纪 / 异常).
public enum IncidentCategory: String, Codable, Sendable, CaseIterable {
    case cheating, disturbance, deviceFailure, identityMismatch, lateArrival, illness, other
}

/// How many page events of each kind a candidate's terminal reported.
public struct EventCounts: Codable, Sendable, Hashable {
    public var focusLost = 0
    public var pageLeft = 0
    public var fullscreenExit = 0
    public var copyPaste = 0
    public var total = 0
}

/// One candidate of a room, as the invigilator sees them.
public struct RosterEntry: Codable, Sendable {
    public struct CheckIn: Codable, Sendable {
        public var method: String
        public var at: Int64
        public var by: String
    }
    public var admissionNumber: String
    public var name: String
    public var seat: String
    public var roomId: String
    public var organisation: String?
    public var idNumberMasked: String
    /// `notArrived`, `checkedIn`, `waiting`, `answering`, `submitted` or `absent`.
    public var status: String
    public var checkIn: CheckIn?
    public var attemptId: String?
    public var answered: Int
    public var questionCount: Int
    public var events: EventCounts
    public var incidents: Int
    public var terminalId: String?
    public var lastHeartbeat: Int64?
    /// Logged in, not submitted, and no heartbeat for 30 seconds.
    public var heartbeatStale: Bool
    public var extensionSeconds: Int64
    public var endsAt: Int64?
    public var remainingMs: Int64?
    public var submittedAt: Int64?
    public var submittedBy: String?
    /// The latest face check at the desk, if any.
    public var face: Face?

    public struct Face: Codable, Sendable {
        public var verificationId: String
        public var at: Int64
        /// `match`, `mismatch` or `unusable`.
        public var decision: String
        public var similarity: Double?
        /// The invigilator checked the candidate in despite the failed check.
        public var overridden: Bool
        /// `checkIn` (at the desk) or `selfCheckIn` (at the terminal).
        public var purpose: String
    }
}

public struct IncidentView: Codable, Sendable {
    public var id: String
    public var admissionNumber: String?
    public var name: String?
    public var category: String
    public var note: String
    public var occurredAt: Int64
    public var recordedBy: String
    public var recordedAt: Int64
}

public struct MoveView: Codable, Sendable {
    public var id: String
    public var admissionNumber: String
    public var name: String
    public var fromTerminal: String?
    public var toTerminal: String
    public var requestedAt: Int64
}

/// Everything the invigilator's room screen shows.
public struct RoomView: Codable, Sendable {
    public struct Counts: Codable, Sendable {
        public var candidates = 0
        public var notArrived = 0
        public var checkedIn = 0
        public var waiting = 0
        public var answering = 0
        public var submitted = 0
        public var absent = 0
    }
    public var sittingId: String
    public var sittingName: String
    public var roomId: String
    public var roomName: String
    public var clock: ClockView
    public var roster: [RosterEntry]
    public var incidents: [IncidentView]
    public var pendingMoves: [MoveView]
    /// Failed face checks at the room's terminals (self check-in, re-checks during the exam), newest first.
    public var faceAlerts: [FaceVerificationView]
    /// Recording alerts of the room still open (not recorded, a camera down), oldest first.
    public var recordingAlerts: [RecordingAlertView]
    public var counts: Counts
    /// The sitting's paper is still sealed: the room cannot start until it is opened (启封).
    public var paperSealed: Bool
}

/// What happened in a room, for the printed record after the sitting.
public struct RoomReport: Codable, Sendable {
    public struct Pause: Codable, Sendable {
        public var from: Int64
        public var to: Int64?
        public var by: String
        public var reason: String
        public var resumedBy: String?
    }
    public struct Extension: Codable, Sendable {
        public var admissionNumber: String?
        public var name: String?
        public var seconds: Int64
        public var reason: String
        public var by: String
        public var at: Int64
    }
    public struct Person: Codable, Sendable {
        public var admissionNumber: String
        public var name: String
        public var seat: String
        public var by: String?
        public var at: Int64?
    }
    public struct Submission: Codable, Sendable {
        public var admissionNumber: String
        public var name: String
        public var seat: String
        public var submittedAt: Int64
        public var submittedBy: String
    }
    public struct Invigilator: Codable, Sendable {
        public var username: String
        public var name: String
    }
    public var sittingId: String
    public var sittingName: String
    public var occupation: String?
    public var level: String?
    public var venueName: String?
    public var roomId: String
    public var roomName: String
    public var scheduledStart: Int64
    public var durationMinutes: Int
    public var startedAt: Int64?
    public var startedBy: String?
    public var endedAt: Int64?
    public var endedBy: String?
    /// The reason the invigilator gave when ending the room early; nil when time ran out.
    public var endReason: String?
    public var pauses: [Pause]
    public var extensions: [Extension]
    public var incidents: [IncidentView]
    public var absences: [Person]
    public var checkIns: [Person]
    public var submissions: [Submission]
    public var candidates: Int
    public var invigilators: [Invigilator]
}

extension VenueDatabase {
    // MARK: Reading

    /// The room screen: clock, roster with live status, incidents and pending terminal moves.
    /// `heartbeat` gives the last heartbeat of an attempt (kept in memory by the server).
    public func roomView(
        sittingID: Sitting.ID, roomID: Room.ID, now: Date = Date(), heartbeat: @Sendable (String) -> Int64? = { _ in nil }
    ) async throws -> RoomView {
        // A sealed paper has no questions to count yet; the room view still shows the roster.
        let questionCount: Int
        let paperSealed: Bool
        do {
            questionCount = try await terminalPaper(for: sittingID)?.answerableOrder.count ?? 0
            paperSealed = false
        } catch StoreError.paperSealed {
            questionCount = 0
            paperSealed = true
        }
        return try await pool.read { db in
            let (sitting, room) = try Self.sittingAndRoom(db, sittingID: sittingID, roomID: roomID)
            let roomClock = try db.roomClock(sittingID: sitting.id, roomID: room.id)
            let clock = Self.clock(sitting: sitting, room: roomClock)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.admissionNumber, c.name, c.organisation, c.idNumber, s.seat, s.roomId,
                           a.id AS attemptId, a.status, a.submittedAt, a.submittedBy, a.extensionSeconds,
                           k.status AS checkStatus, k.method AS checkMethod, k.at AS checkAt, k.byUser AS checkBy,
                           (SELECT COUNT(*) FROM answer x WHERE x.attemptId = a.id AND x.response IS NOT NULL) AS answered,
                           (SELECT terminalId FROM session t WHERE t.id = a.activeSessionId) AS terminalId
                    FROM seat_assignment s
                    JOIN candidate c ON c.admissionNumber = s.admissionNumber
                    LEFT JOIN attempt a ON a.sittingId = s.sittingId AND a.admissionNumber = s.admissionNumber
                    LEFT JOIN check_in k ON k.sittingId = s.sittingId AND k.admissionNumber = s.admissionNumber
                    WHERE s.sittingId = ? AND s.roomId = ?
                    ORDER BY s.seat
                    """, arguments: [sitting.id, room.id])
            var eventCounts: [String: EventCounts] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT e.attemptId, e.kind, COUNT(*) AS n FROM attempt_event e JOIN attempt a ON a.id = e.attemptId
                    WHERE a.sittingId = ? AND a.roomId = ? GROUP BY e.attemptId, e.kind
                    """, arguments: [sitting.id, room.id])
            {
                let attemptID: String = row["attemptId"]
                let count: Int = row["n"]
                var counts = eventCounts[attemptID] ?? EventCounts()
                switch AttemptEventKind(rawValue: row["kind"]) {
                case .blur, .visibilityHidden: counts.focusLost += count
                case .pageLeave: counts.pageLeft += count
                case .fullscreenExit: counts.fullscreenExit += count
                case .copy, .paste, .cut: counts.copyPaste += count
                default: break
                }
                counts.total += count
                eventCounts[attemptID] = counts
            }
            let incidents = try Self.incidents(db, sittingID: sitting.id, roomID: room.id)
            let faces = try Self.latestCheckInVerifications(db, sittingID: sitting.id, roomID: room.id)
            let started = clock.start(now: now) != nil
            // With self check-in, a candidate logged in but not yet checked in waits: the paper stays closed.
            let selfCheckIn =
                try JSONDecoder.package.decode(Sitting.self, from: Data(sitting.body.utf8)).faceChecks?.selfCheckIn == true
            var counts = RoomView.Counts()
            let roster = rows.map { row -> RosterEntry in
                let attemptID: String? = row["attemptId"]
                let attemptStatus: String? = row["status"]
                let checkStatus: String? = row["checkStatus"]
                let status: String =
                    switch (attemptStatus, checkStatus) {
                    case ("submitted"?, _): "submitted"
                    case (_?, let check): started && (!selfCheckIn || check == "checkedIn") ? "answering" : "waiting"
                    case (nil, "absent"?): "absent"
                    case (nil, "checkedIn"?): "checkedIn"
                    default: "notArrived"
                    }
                counts.candidates += 1
                switch status {
                case "submitted": counts.submitted += 1
                case "answering": counts.answering += 1
                case "waiting": counts.waiting += 1
                case "absent": counts.absent += 1
                case "checkedIn": counts.checkedIn += 1
                default: counts.notArrived += 1
                }
                let extensionSeconds: Int64 = row["extensionSeconds"] ?? 0
                var endsAt: Int64?
                var remaining: Int64?
                if attemptID != nil, status != "submitted" {
                    let view = ClockView(clock.phase(attemptExtension: TimeInterval(extensionSeconds), now: now), now: now)
                    endsAt = view.endsAt
                    remaining = view.remainingMs
                }
                let lastBeat = attemptID.flatMap(heartbeat)
                let live = attemptID != nil && status != "submitted" && (remaining ?? 1) > 0
                let admission: String = row["admissionNumber"]
                let idNumber: String = row["idNumber"]
                return RosterEntry(
                    admissionNumber: admission, name: row["name"], seat: row["seat"], roomId: row["roomId"],
                    organisation: row["organisation"], idNumberMasked: Self.mask(idNumber), status: status,
                    checkIn: checkStatus == "checkedIn"
                        ? RosterEntry.CheckIn(method: row["checkMethod"] ?? "manual", at: row["checkAt"], by: row["checkBy"])
                        : nil,
                    attemptId: attemptID, answered: row["answered"] ?? 0, questionCount: questionCount,
                    events: attemptID.flatMap { eventCounts[$0] } ?? EventCounts(),
                    incidents: incidents.filter { $0.admissionNumber == admission }.count, terminalId: row["terminalId"],
                    lastHeartbeat: lastBeat, heartbeatStale: live && (lastBeat.map { now.millis - $0 > 30_000 } ?? true),
                    extensionSeconds: extensionSeconds, endsAt: endsAt, remainingMs: remaining,
                    submittedAt: row["submittedAt"], submittedBy: row["submittedBy"], face: faces[admission])
            }
            let moves = try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.fromTerminal, m.toTerminal, m.requestedAt, a.admissionNumber, c.name
                    FROM move_request m JOIN attempt a ON a.id = m.attemptId
                    JOIN candidate c ON c.admissionNumber = a.admissionNumber
                    WHERE a.sittingId = ? AND a.roomId = ? AND m.status = 'pending' ORDER BY m.requestedAt
                    """, arguments: [sitting.id, room.id]
            ).map {
                MoveView(
                    id: $0["id"], admissionNumber: $0["admissionNumber"], name: $0["name"], fromTerminal: $0["fromTerminal"],
                    toTerminal: $0["toTerminal"], requestedAt: $0["requestedAt"])
            }
            return RoomView(
                sittingId: sitting.id, sittingName: sitting.name, roomId: room.id, roomName: room.name,
                clock: ClockView(clock.phase(now: now), now: now), roster: roster, incidents: incidents, pendingMoves: moves,
                faceAlerts: try Self.faceAlerts(db, sittingID: sitting.id, roomID: room.id),
                recordingAlerts: try Self.recordingAlerts(db, roomID: room.id, openOnly: true, limit: 50), counts: counts,
                paperSealed: paperSealed)
        }
    }

    static func mask(_ idNumber: String) -> String {
        guard idNumber.count > 8 else { return String(repeating: "*", count: idNumber.count) }
        return String(idNumber.prefix(4)) + String(repeating: "*", count: idNumber.count - 8) + String(idNumber.suffix(4))
    }

    static func sittingAndRoom(_ db: Database, sittingID: Sitting.ID, roomID: Room.ID) throws -> (SittingRecord, RoomRecord) {
        guard let sitting = try db.sitting(id: sittingID.rawValue), let room = try RoomRecord.fetchOne(db, key: roomID.rawValue),
            try SittingRoomRecord.fetchOne(db, key: ["sittingId": sittingID.rawValue, "roomId": roomID.rawValue]) != nil
        else { throw StoreError.notFound("场次 \(sittingID) 的考场 \(roomID) / room \(roomID) of sitting \(sittingID)") }
        return (sitting, room)
    }

    static func incidents(_ db: Database, sittingID: String, roomID: String) throws -> [IncidentView] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT i.*, c.name FROM incident i LEFT JOIN candidate c ON c.admissionNumber = i.admissionNumber
                WHERE i.sittingId = ? AND i.roomId = ? ORDER BY i.occurredAt, i.recordedAt
                """, arguments: [sittingID, roomID]
        ).map {
            IncidentView(
                id: $0["id"], admissionNumber: $0["admissionNumber"], name: $0["name"], category: $0["category"], note: $0["note"],
                occurredAt: $0["occurredAt"], recordedBy: $0["recordedBy"], recordedAt: $0["recordedAt"])
        }
    }

    /// The record of a room: start and end, pauses, extensions, incidents, absences, check-ins and submissions.
    public func roomReport(sittingID: Sitting.ID, roomID: Room.ID, now: Date = Date()) async throws -> RoomReport {
        try await pool.read { db in
            let (sitting, room) = try Self.sittingAndRoom(db, sittingID: sittingID, roomID: roomID)
            let described = try JSONDecoder.package.decode(Sitting.self, from: Data(sitting.body.utf8))
            let roomClock = try db.roomClock(sittingID: sitting.id, roomID: room.id)
            let clock = Self.clock(sitting: sitting, room: roomClock)
            let startedAt = clock.start(now: now)
            let startedBy = roomClock?.startedBy ?? sitting.startedBy ?? (startedAt == nil ? nil : "scheduled")
            let pauses = try RoomPauseRecord.filter(Column("sittingId") == sitting.id && Column("roomId") == room.id)
                .order(Column("pausedAt")).fetchAll(db)
                .map {
                    RoomReport.Pause(from: $0.pausedAt, to: $0.resumedAt, by: $0.pausedBy, reason: $0.reason, resumedBy: $0.resumedBy)
                }
            let extensions = try Row.fetchAll(
                db,
                sql: """
                    SELECT x.seconds, x.reason, x.grantedBy, x.grantedAt, a.admissionNumber, c.name
                    FROM time_extension x LEFT JOIN attempt a ON a.id = x.attemptId
                    LEFT JOIN candidate c ON c.admissionNumber = a.admissionNumber
                    WHERE x.sittingId = ? AND (x.roomId = ? OR a.roomId = ? OR (x.roomId IS NULL AND x.attemptId IS NULL))
                    ORDER BY x.grantedAt
                    """, arguments: [sitting.id, room.id, room.id]
            ).map {
                RoomReport.Extension(
                    admissionNumber: $0["admissionNumber"], name: $0["name"], seconds: $0["seconds"], reason: $0["reason"],
                    by: $0["grantedBy"], at: $0["grantedAt"])
            }
            let people = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.admissionNumber, c.name, s.seat, k.status AS checkStatus, k.byUser, k.at,
                           a.id AS attemptId, a.submittedAt, a.submittedBy
                    FROM seat_assignment s JOIN candidate c ON c.admissionNumber = s.admissionNumber
                    LEFT JOIN check_in k ON k.sittingId = s.sittingId AND k.admissionNumber = s.admissionNumber
                    LEFT JOIN attempt a ON a.sittingId = s.sittingId AND a.admissionNumber = s.admissionNumber
                    WHERE s.sittingId = ? AND s.roomId = ? ORDER BY s.seat
                    """, arguments: [sitting.id, room.id])
            var absences: [RoomReport.Person] = []
            var checkIns: [RoomReport.Person] = []
            var submissions: [RoomReport.Submission] = []
            let over: Bool = if case .over = clock.phase(now: now) { true } else { false }
            for row in people {
                let person = RoomReport.Person(
                    admissionNumber: row["admissionNumber"], name: row["name"], seat: row["seat"], by: row["byUser"], at: row["at"])
                let attemptID: String? = row["attemptId"]
                let checkStatus: String? = row["checkStatus"]
                if checkStatus == "checkedIn" { checkIns.append(person) }
                if attemptID == nil && (checkStatus == "absent" || (over && checkStatus == nil)) {
                    absences.append(RoomReport.Person(
                        admissionNumber: person.admissionNumber, name: person.name, seat: person.seat,
                        by: checkStatus == "absent" ? person.by : nil, at: checkStatus == "absent" ? person.at : nil))
                }
                if let submittedAt: Int64 = row["submittedAt"] {
                    submissions.append(
                        RoomReport.Submission(
                            admissionNumber: person.admissionNumber, name: person.name, seat: person.seat,
                            submittedAt: submittedAt, submittedBy: row["submittedBy"] ?? ""))
                }
            }
            let invigilators = try StaffRecord.filter(Column("role") == StaffRole.invigilator.rawValue).fetchAll(db)
                .filter { (try? JSONDecoder().decode([String].self, from: Data($0.rooms.utf8)))?.contains(room.id) == true }
                .map { RoomReport.Invigilator(username: $0.username, name: $0.name) }
            let endedAt: Int64? = over ? clock.end(attemptExtension: 0, now: now)?.millis : nil
            let endReason: String? = roomClock?.closedAt == nil ? nil : try String.fetchOne(
                db,
                sql: "SELECT reason FROM audit_log WHERE action = ? AND sittingId = ? AND roomId = ? ORDER BY id DESC LIMIT 1",
                arguments: [AuditAction.roomEnded.rawValue, sitting.id, room.id])
            return RoomReport(
                sittingId: sitting.id, sittingName: sitting.name, occupation: described.occupation, level: described.level,
                venueName: try VenueIdentityRecord.fetchOne(db)?.name, roomId: room.id, roomName: room.name,
                scheduledStart: sitting.scheduledStart, durationMinutes: described.durationMinutes,
                startedAt: startedAt?.millis, startedBy: startedBy, endedAt: endedAt,
                endedBy: roomClock?.closedBy ?? (endedAt == nil ? nil : "timeUp"), endReason: endReason, pauses: pauses, extensions: extensions,
                incidents: try Self.incidents(db, sittingID: sitting.id, roomID: room.id), absences: absences,
                checkIns: checkIns, submissions: submissions, candidates: people.count, invigilators: invigilators)
        }
    }

    // MARK: Sitting control

    /// Runs a room action in one transaction with its audit entry; drops the room's cached clock afterwards.
    private func roomAction<T: Sendable>(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, _ body: @escaping @Sendable (Database, SittingRecord, RoomRecord, RoomClockRecord) throws -> T
    ) async throws -> T {
        defer { clocks.forget(sittingID: sittingID.rawValue, roomID: roomID.rawValue) }
        return try await groupCommit.write { db in
            let (sitting, room) = try Self.sittingAndRoom(db, sittingID: sittingID, roomID: roomID)
            let clock = try db.roomClock(sittingID: sitting.id, roomID: room.id) ?? RoomClockRecord(sittingId: sitting.id, roomId: room.id)
            return try body(db, sitting, room, clock)
        }
    }

    public func startRoom(_ sittingID: Sitting.ID, _ roomID: Room.ID, by staff: StaffSession, reason: String?, now: Date = Date())
        async throws -> ClockView
    {
        try await roomAction(sittingID, roomID) { db, sitting, room, roomClock in
            var roomClock = roomClock
            try Self.refuseIfSealed(db, sittingID: sitting.id)
            guard Self.clock(sitting: sitting, room: roomClock).start(now: now) == nil else { throw StoreError.sittingAlreadyStarted }
            roomClock.startedAt = now.millis
            roomClock.startedBy = staff.username
            try roomClock.save(db)
            try Self.audit(db, by: staff, action: .roomStarted, now: now, sittingID: sitting.id, roomID: room.id, reason: reason)
            return ClockView(Self.clock(sitting: sitting, room: roomClock).phase(now: now), now: now)
        }
    }

    /// Stops the clock for every candidate in the room; answers wait until it resumes.
    public func pauseRoom(_ sittingID: Sitting.ID, _ roomID: Room.ID, by staff: StaffSession, reason: String, now: Date = Date())
        async throws -> ClockView
    {
        let reason = try Self.requiredReason(reason)
        return try await roomAction(sittingID, roomID) { db, sitting, room, roomClock in
            var roomClock = roomClock
            let clock = Self.clock(sitting: sitting, room: roomClock)
            guard clock.start(now: now) != nil, roomClock.pausedSince == nil, clock.closedAt == nil else { throw StoreError.roomNotRunning }
            if case .over = clock.phase(now: now), try Self.openAttempts(db, sitting: sitting, roomID: room.id).isEmpty {
                throw StoreError.roomNotRunning
            }
            roomClock.pausedSince = now.millis
            try roomClock.save(db)
            var pause = RoomPauseRecord(
                id: nil, sittingId: sitting.id, roomId: room.id, pausedAt: now.millis, pausedBy: staff.username, reason: reason)
            try pause.insert(db)
            try Self.audit(db, by: staff, action: .roomPaused, now: now, sittingID: sitting.id, roomID: room.id, reason: reason)
            return ClockView(Self.clock(sitting: sitting, room: roomClock).phase(now: now), now: now)
        }
    }

    public func resumeRoom(_ sittingID: Sitting.ID, _ roomID: Room.ID, by staff: StaffSession, reason: String?, now: Date = Date())
        async throws -> ClockView
    {
        try await roomAction(sittingID, roomID) { db, sitting, room, roomClock in
            var roomClock = roomClock
            guard let since = roomClock.pausedSince else { throw StoreError.roomNotPaused }
            roomClock.pausedSeconds += max(0, (now.millis - since) / 1000)
            roomClock.pausedSince = nil
            try roomClock.save(db)
            try db.execute(
                sql: "UPDATE room_pause SET resumedAt = ?, resumedBy = ? WHERE sittingId = ? AND roomId = ? AND resumedAt IS NULL",
                arguments: [now.millis, staff.username, sitting.id, room.id])
            try Self.audit(db, by: staff, action: .roomResumed, now: now, sittingID: sitting.id, roomID: room.id, reason: reason)
            return ClockView(Self.clock(sitting: sitting, room: roomClock).phase(now: now), now: now)
        }
    }

    /// Ends the exam in the room now: every open attempt is collected (submitted by the invigilator).
    public func endRoom(_ sittingID: Sitting.ID, _ roomID: Room.ID, by staff: StaffSession, reason: String, now: Date = Date())
        async throws -> ClockView
    {
        let reason = try Self.requiredReason(reason)
        let paper = try await terminalPaper(for: sittingID)
        let result = try await roomAction(sittingID, roomID) { db, sitting, room, roomClock -> (ClockView, [String]) in
            var roomClock = roomClock
            guard roomClock.closedAt == nil else { throw StoreError.roomOver }
            if let since = roomClock.pausedSince {
                roomClock.pausedSeconds += max(0, (now.millis - since) / 1000)
                roomClock.pausedSince = nil
                try db.execute(
                    sql: "UPDATE room_pause SET resumedAt = ?, resumedBy = ? WHERE sittingId = ? AND roomId = ? AND resumedAt IS NULL",
                    arguments: [now.millis, staff.username, sitting.id, room.id])
            }
            roomClock.closedAt = now.millis
            roomClock.closedBy = staff.username
            if roomClock.startedAt == nil && Self.sittingClock(sitting).start(now: now) == nil {
                roomClock.startedAt = now.millis
                roomClock.startedBy = staff.username
            }
            try roomClock.save(db)
            var collected: [String] = []
            for attempt in try Self.openAttempts(db, sitting: sitting, roomID: room.id) {
                guard let paper else { break }  // a skill sitting has no attempts to collect
                _ = try Self.submitInTransaction(db, attempt: attempt, paper: paper, kind: .invigilator, now: now)
                collected.append(attempt.id)
            }
            try Self.audit(
                db, by: staff, action: .roomEnded, now: now, sittingID: sitting.id, roomID: room.id, reason: reason,
                detail: ["collected": "\(collected.count)"])
            return (ClockView(Self.clock(sitting: sitting, room: roomClock).phase(now: now), now: now), collected)
        }
        clocks.forget(attempts: result.1)
        return result.0
    }

    static func openAttempts(_ db: Database, sitting: SittingRecord, roomID: String) throws -> [AttemptRecord] {
        try AttemptRecord.filter(
            Column("sittingId") == sitting.id && Column("roomId") == roomID && Column("status") != AttemptStatus.submitted.rawValue
        ).fetchAll(db)
    }

    /// Gives one candidate of the room, or the whole room, more time; the reason is recorded.
    public func extendTime(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, attemptID: String?, seconds: Int, reason: String, by staff: StaffSession,
        now: Date = Date()
    ) async throws {
        guard (1...(6 * 3600)).contains(seconds) else { throw StoreError.invalidRequest("seconds must be 1 to 21600") }
        let reason = try Self.requiredReason(reason)
        try await roomAction(sittingID, roomID) { db, sitting, room, roomClock in
            var admissionNumber: String?
            if let attemptID {
                guard let attempt = try db.attempt(id: attemptID), attempt.sittingId == sitting.id, attempt.roomId == room.id else {
                    throw StoreError.notFound("本考场的考试 \(attemptID) / the attempt \(attemptID) in this room")
                }
                guard attempt.status != AttemptStatus.submitted.rawValue else { throw StoreError.rule(.alreadySubmitted) }
                try db.execute(
                    sql: "UPDATE attempt SET extensionSeconds = extensionSeconds + ? WHERE id = ?", arguments: [seconds, attemptID])
                admissionNumber = attempt.admissionNumber
            } else {
                var roomClock = roomClock
                roomClock.extensionSeconds += Int64(seconds)
                try roomClock.save(db)
            }
            var record = TimeExtensionRecord(
                id: nil, sittingId: sitting.id, roomId: room.id, attemptId: attemptID, seconds: Int64(seconds), reason: reason,
                grantedBy: staff.username, grantedAt: now.millis)
            try record.insert(db)
            try Self.audit(
                db, by: staff, action: .timeExtended, now: now, sittingID: sitting.id, roomID: room.id,
                admissionNumber: admissionNumber, attemptID: attemptID, reason: reason, detail: ["seconds": "\(seconds)"])
        }
        if let attemptID { clocks.forget(attempts: [attemptID]) }
    }

    // MARK: Candidates

    /// The seated candidate and their attempt, if any.
    private static func seated(_ db: Database, _ sitting: SittingRecord, _ room: RoomRecord, _ admissionNumber: String) throws
        -> AttemptRecord?
    {
        guard let seat = try SeatAssignmentRecord.fetchOne(db, key: ["sittingId": sitting.id, "admissionNumber": admissionNumber]),
            seat.roomId == room.id
        else { throw StoreError.notFound("本考场的考生 \(admissionNumber) / candidate \(admissionNumber) in this room") }
        return try AttemptRecord.filter(Column("sittingId") == sitting.id && Column("admissionNumber") == admissionNumber)
            .fetchOne(db)
    }

    /// Manual check-in after comparing the candidate with their registered photo. After a failed face check that was
    /// not overridden, a plain check-in is refused: the override, with its reason, is the way in.
    public func checkIn(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, admissionNumber: String, by staff: StaffSession, note: String?,
        method: String = "manual", now: Date = Date()
    ) async throws {
        try await roomAction(sittingID, roomID) { db, sitting, room, _ in
            _ = try Self.seated(db, sitting, room, admissionNumber)
            if let face = try Self.latestCheckInVerifications(
                db, sittingID: sitting.id, roomID: room.id, admissionNumber: admissionNumber)[admissionNumber],
                face.decision != "match", !face.overridden
            {
                throw StoreError.faceOverrideRequired(verificationID: face.verificationId)
            }
            try CheckInRecord(
                sittingId: sitting.id, admissionNumber: admissionNumber, status: "checkedIn", method: method, at: now.millis,
                byUser: staff.username, note: note.map { String($0.prefix(500)) }
            ).save(db)
            try Self.audit(
                db, by: staff, action: .candidateCheckedIn, now: now, sittingID: sitting.id, roomID: room.id,
                admissionNumber: admissionNumber, reason: note, detail: ["method": method])
        }
    }

    /// Marks a candidate who has not logged in as absent (缺考); they can no longer log in unless checked in again.
    public func markAbsent(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, admissionNumber: String, by staff: StaffSession, reason: String?,
        now: Date = Date()
    ) async throws {
        try await roomAction(sittingID, roomID) { db, sitting, room, _ in
            guard try Self.seated(db, sitting, room, admissionNumber) == nil else {
                throw StoreError.invalidRequest("the candidate has logged in and cannot be marked absent")
            }
            try CheckInRecord(
                sittingId: sitting.id, admissionNumber: admissionNumber, status: "absent", method: nil, at: now.millis,
                byUser: staff.username, note: reason
            ).save(db)
            try Self.audit(
                db, by: staff, action: .candidateMarkedAbsent, now: now, sittingID: sitting.id, roomID: room.id,
                admissionNumber: admissionNumber, reason: reason)
        }
    }

    /// Collects one candidate's paper now (强制收卷); the attempt becomes read-only.
    public func forceSubmit(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, admissionNumber: String, by staff: StaffSession, reason: String,
        now: Date = Date()
    ) async throws -> SubmitResult {
        let reason = try Self.requiredReason(reason)
        let paper = try await assembledPaper(for: sittingID)
        let result = try await roomAction(sittingID, roomID) { db, sitting, room, _ in
            guard let attempt = try Self.seated(db, sitting, room, admissionNumber) else {
                throw StoreError.notFound("考生 \(admissionNumber) 的作答 / an attempt of candidate \(admissionNumber)")
            }
            guard attempt.status != AttemptStatus.submitted.rawValue else { throw StoreError.rule(.alreadySubmitted) }
            let result = try Self.submitInTransaction(db, attempt: attempt, paper: paper, kind: .invigilator, now: now)
            try Self.audit(
                db, by: staff, action: .candidateForceSubmitted, now: now, sittingID: sitting.id, roomID: room.id,
                admissionNumber: admissionNumber, attemptID: attempt.id, reason: reason)
            return result
        }
        clocks.forget(attempts: [result.attemptId])
        return result
    }

    /// Approves a candidate's move to a new terminal: from now on the old terminal is locked out.
    public func approveMove(_ sittingID: Sitting.ID, _ roomID: Room.ID, moveID: String, by staff: StaffSession, now: Date = Date())
        async throws
    {
        let (attemptID, sessions) = try await roomAction(sittingID, roomID) { db, sitting, room, _ -> (String, [String]) in
            let (move, attempt) = try Self.pendingMove(db, moveID: moveID, sitting: sitting, room: room)
            var ended: [String] = [move.sessionId]
            if let previous = attempt.activeSessionId {
                try db.execute(
                    sql: "UPDATE session SET endedAt = ?, endReason = 'moved' WHERE id = ? AND endedAt IS NULL",
                    arguments: [now.millis, previous])
                ended.append(previous)
            }
            try db.execute(sql: "UPDATE session SET pending = 0 WHERE id = ?", arguments: [move.sessionId])
            try db.execute(sql: "UPDATE attempt SET activeSessionId = ? WHERE id = ?", arguments: [move.sessionId, attempt.id])
            try db.execute(
                sql: "UPDATE move_request SET status = 'approved', decidedBy = ?, decidedAt = ? WHERE id = ?",
                arguments: [staff.username, now.millis, move.id])
            var event = AttemptEventRecord(
                id: nil, attemptId: attempt.id, eventId: "srv-move-\(move.id)", kind: AttemptEventKind.terminalMoved.rawValue,
                clientTime: nil, serverTime: now.millis, sessionId: move.sessionId, terminalId: move.toTerminal,
                detail: "from terminal \(move.fromTerminal ?? "-") to \(move.toTerminal), approved by \(staff.username)")
            try event.insert(db)
            try Self.audit(
                db, by: staff, action: .moveApproved, now: now, sittingID: sitting.id, roomID: room.id,
                admissionNumber: attempt.admissionNumber, attemptID: attempt.id,
                detail: ["from": move.fromTerminal ?? "", "to": move.toTerminal])
            return (attempt.id, ended)
        }
        clocks.forget(attempts: [attemptID])
        forgetSessions { if case .candidate(let candidate) = $0 { sessions.contains(candidate.sessionID) } else { false } }
    }

    /// Refuses a move: the new terminal is told so, the old one carries on.
    public func rejectMove(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, moveID: String, by staff: StaffSession, reason: String, now: Date = Date()
    ) async throws {
        let reason = try Self.requiredReason(reason)
        let session = try await roomAction(sittingID, roomID) { db, sitting, room, _ -> String in
            let (move, attempt) = try Self.pendingMove(db, moveID: moveID, sitting: sitting, room: room)
            try db.execute(
                sql: "UPDATE session SET endedAt = ?, endReason = 'moveRejected' WHERE id = ?", arguments: [now.millis, move.sessionId])
            try db.execute(
                sql: "UPDATE move_request SET status = 'rejected', decidedBy = ?, decidedAt = ?, reason = ? WHERE id = ?",
                arguments: [staff.username, now.millis, reason, move.id])
            try Self.audit(
                db, by: staff, action: .moveRejected, now: now, sittingID: sitting.id, roomID: room.id,
                admissionNumber: attempt.admissionNumber, attemptID: attempt.id, reason: reason,
                detail: ["from": move.fromTerminal ?? "", "to": move.toTerminal])
            return move.sessionId
        }
        forgetSessions { if case .candidate(let candidate) = $0 { candidate.sessionID == session } else { false } }
    }

    private static func pendingMove(_ db: Database, moveID: String, sitting: SittingRecord, room: RoomRecord) throws
        -> (MoveRequestRecord, AttemptRecord)
    {
        guard let move = try MoveRequestRecord.fetchOne(db, key: moveID), let attempt = try db.attempt(id: move.attemptId),
            attempt.sittingId == sitting.id, attempt.roomId == room.id
        else { throw StoreError.notFound("换机申请 \(moveID) / the move request \(moveID)") }
        guard move.status == "pending" else { throw StoreError.moveNotPending }
        return (move, attempt)
    }

    /// Records an incident (违纪 / 异常) against a candidate or the whole room.
    public func recordIncident(
        _ sittingID: Sitting.ID, _ roomID: Room.ID, admissionNumber: String?, category: IncidentCategory, note: String,
        occurredAt: Date?, by staff: StaffSession, now: Date = Date()
    ) async throws -> String {
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !note.isEmpty, note.count <= 2000 else { throw StoreError.invalidRequest("a note of 1 to 2000 characters is needed") }
        let id = UUID().uuidString.lowercased()
        try await roomAction(sittingID, roomID) { db, sitting, room, _ in
            let attempt = try admissionNumber.flatMap { try Self.seated(db, sitting, room, $0) }
            try IncidentRecord(
                id: id, sittingId: sitting.id, roomId: room.id, admissionNumber: admissionNumber, category: category.rawValue,
                note: note, occurredAt: (occurredAt ?? now).millis, recordedBy: staff.username, recordedAt: now.millis
            ).insert(db)
            try Self.audit(
                db, by: staff, action: .incidentRecorded, now: now, sittingID: sitting.id, roomID: room.id,
                admissionNumber: admissionNumber, attemptID: attempt?.id, reason: note,
                detail: ["category": category.rawValue, "incident": id])
        }
        return id
    }

    static func requiredReason(_ reason: String) throws -> String {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 500 else { throw StoreError.invalidRequest("a reason of 1 to 500 characters is needed") }
        return reason
    }
}
