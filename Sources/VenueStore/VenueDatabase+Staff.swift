import ExamCore
import Foundation
import GRDB

/// A sitting as the console lists it.
public struct SittingOverview: Codable, Sendable {
    public struct RoomOverview: Codable, Sendable {
        public var id: String
        public var name: String
        public var seats: Int
        public var candidates: Int
    }
    public var id: String
    public var name: String
    public var subject: String
    public var scheduledStart: Int64
    public var durationMinutes: Int
    public var startedAt: Int64?
    public var startedBy: String?
    public var clock: ClockView
    public var rooms: [RoomOverview]
    public var candidates: Int
    public var loggedIn: Int
    public var submitted: Int
}

/// One candidate of a room, as the invigilator sees them.
public struct RosterEntry: Codable, Sendable {
    public var admissionNumber: String
    public var name: String
    public var seat: String
    public var roomId: String
    /// `notArrived`, `waiting`, `answering` or `submitted`.
    public var status: String
    public var attemptId: String?
    public var answered: Int
    public var events: Int
    public var terminalId: String?
    public var submittedAt: Int64?
    public var extensionSeconds: Int64
    /// Filled in by the server from the terminals' heartbeats.
    public var lastHeartbeat: Int64?
}

/// One line of the results page.
public struct ResultRow: Codable, Sendable {
    public struct Section: Codable, Sendable {
        public var id: String
        public var title: String
        public var score: Double
        public var maxPoints: Double
        public var pendingPoints: Double
    }
    public var admissionNumber: String
    public var name: String
    public var roomId: String
    public var seat: String
    /// `absent`, `waiting`, `answering` or `submitted`.
    public var status: String
    public var attemptId: String?
    public var submittedAt: Int64?
    public var submittedBy: String?
    public var score: Double?
    public var maxPoints: Double?
    public var pendingPoints: Double?
    public var sections: [Section]
}

/// An attempt as a reviewer sees it: the paper in the candidate's order, their answers, the key and the scores.
public struct AttemptReview: Codable, Sendable {
    public struct Item: Codable, Sendable {
        public var questionId: String
        public var response: AnswerPayload?
        public var flagged: Bool
        public var score: Double?
        public var maxPoints: Double
        public var status: String?
    }
    public var attemptId: String
    public var admissionNumber: String
    public var name: String
    public var seed: String
    public var status: String
    public var submittedAt: Int64?
    public var submittedBy: String?
    public var score: Double?
    public var maxPoints: Double?
    public var pendingPoints: Double?
    public var paper: CandidatePaper
    /// The answer key, for reviewers: question id → key as the package states it.
    public var key: [String: JSONValue]
    public var items: [Item]
    public var answerLogLength: Int64
    public var events: [EventView]
}

/// One entry of an attempt's answer log: who changed which answer to what, when, from which terminal.
public struct AnswerLogEntry: Codable, Sendable {
    public var seq: Int64
    public var changeId: String
    public var questionId: String
    public var kind: String
    public var response: AnswerPayload?
    public var flagged: Bool?
    public var terminalId: String
    public var clientTime: Int64?
    public var serverTime: Int64
}

public struct EventView: Codable, Sendable {
    public var kind: String
    public var serverTime: Int64
    public var clientTime: Int64?
    public var terminalId: String?
    public var detail: String?
}

extension VenueDatabase {
    /// Every sitting with its rooms, clock and counts; invigilators see only their rooms.
    public func sittings(for staff: StaffSession? = nil, now: Date = Date()) async throws -> [SittingOverview] {
        try await pool.read { db in
            try SittingRecord.order(Column("scheduledStart")).fetchAll(db).compactMap { sitting in
                let described = try JSONDecoder.package.decode(Sitting.self, from: Data(sitting.body.utf8))
                var rooms: [SittingOverview.RoomOverview] = []
                for roomID in described.rooms {
                    if let staff, staff.role != .admin, !staff.rooms.contains(roomID) { continue }
                    guard let room = try RoomRecord.fetchOne(db, key: roomID.rawValue) else { continue }
                    let seats = try JSONDecoder().decode([String].self, from: Data(room.seats.utf8)).count
                    let count = try SeatAssignmentRecord.filter(
                        SeatAssignmentRecord.Columns.sittingId == sitting.id && SeatAssignmentRecord.Columns.roomId == room.id
                    ).fetchCount(db)
                    rooms.append(.init(id: room.id, name: room.name, seats: seats, candidates: count))
                }
                if rooms.isEmpty { return nil }
                let counts = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) AS total, COUNT(a.id) AS loggedIn,
                               SUM(CASE WHEN a.status = 'submitted' THEN 1 ELSE 0 END) AS submitted
                        FROM seat_assignment s LEFT JOIN attempt a
                          ON a.sittingId = s.sittingId AND a.admissionNumber = s.admissionNumber
                        WHERE s.sittingId = ?
                        """, arguments: [sitting.id])
                return SittingOverview(
                    id: sitting.id, name: sitting.name, subject: sitting.subject, scheduledStart: sitting.scheduledStart,
                    durationMinutes: described.durationMinutes, startedAt: sitting.startedAt, startedBy: sitting.startedBy,
                    clock: ClockView(Self.sittingClock(sitting).phase(now: now), now: now), rooms: rooms,
                    candidates: counts?["total"] ?? 0, loggedIn: counts?["loggedIn"] ?? 0,
                    submitted: counts?["submitted"] ?? 0)
            }
        }
    }

    /// Starts a sitting now, ahead of its scheduled time.
    public func startSitting(_ sittingID: Sitting.ID, by username: String, now: Date = Date()) async throws -> ClockView {
        defer { clocks.forget(sittings: [sittingID.rawValue]) }
        return try await groupCommit.write { db in
            guard var sitting = try SittingRecord.fetchOne(db, key: sittingID.rawValue) else {
                throw StoreError.notFound("场次 \(sittingID) / the sitting \(sittingID)")
            }
            guard Self.sittingClock(sitting).start(now: now) == nil else { throw StoreError.sittingAlreadyStarted }
            sitting.startedAt = now.millis
            sitting.startedBy = username
            try sitting.update(db)
            return ClockView(Self.sittingClock(sitting).phase(now: now), now: now)
        }
    }

    /// Gives one candidate (or, without an attempt, the whole sitting) more time, with the reason recorded.
    public func extendTime(
        sittingID: Sitting.ID, attemptID: String?, seconds: Int, reason: String, by username: String, now: Date = Date()
    ) async throws {
        guard (1...(6 * 3600)).contains(seconds) else { throw StoreError.invalidRequest("seconds must be 1 to 21600") }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 500 else { throw StoreError.invalidRequest("a reason of 1 to 500 characters is needed") }
        defer { clocks.forget(attempts: [attemptID].compactMap { $0 }, sittings: [sittingID.rawValue]) }
        try await groupCommit.write { db in
            guard try SittingRecord.fetchOne(db, key: sittingID.rawValue) != nil else {
                throw StoreError.notFound("场次 \(sittingID) / the sitting \(sittingID)")
            }
            if let attemptID {
                guard let attempt = try AttemptRecord.fetchOne(db, key: attemptID), attempt.sittingId == sittingID.rawValue else {
                    throw StoreError.notFound("考试 \(attemptID) / the attempt \(attemptID)")
                }
                guard attempt.status != AttemptStatus.submitted.rawValue else { throw StoreError.rule(.alreadySubmitted) }
                try db.execute(
                    sql: "UPDATE attempt SET extensionSeconds = extensionSeconds + ? WHERE id = ?", arguments: [seconds, attemptID])
            } else {
                try db.execute(
                    sql: "UPDATE sitting SET extensionSeconds = extensionSeconds + ? WHERE id = ?",
                    arguments: [seconds, sittingID.rawValue])
            }
            var record = TimeExtensionRecord(
                id: nil, sittingId: sittingID.rawValue, attemptId: attemptID, seconds: Int64(seconds), reason: reason,
                grantedBy: username, grantedAt: now.millis)
            try record.insert(db)
        }
    }

    /// The candidates of one room in one sitting, by seat.
    public func roster(sittingID: Sitting.ID, roomID: Room.ID, now: Date = Date()) async throws -> [RosterEntry] {
        try await pool.read { db in
            guard let sitting = try db.sitting(id: sittingID.rawValue) else {
                throw StoreError.notFound("场次 \(sittingID) / the sitting \(sittingID)")
            }
            let started = Self.sittingClock(sitting).start(now: now) != nil
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT s.admissionNumber, c.name, s.seat, s.roomId, a.id AS attemptId, a.status, a.submittedAt,
                           COALESCE(a.extensionSeconds, 0) AS extensionSeconds,
                           (SELECT COUNT(*) FROM answer x WHERE x.attemptId = a.id AND x.response IS NOT NULL) AS answered,
                           (SELECT COUNT(*) FROM attempt_event e WHERE e.attemptId = a.id) AS events,
                           (SELECT terminalId FROM session t WHERE t.id = a.activeSessionId) AS terminalId
                    FROM seat_assignment s
                    JOIN candidate c ON c.admissionNumber = s.admissionNumber
                    LEFT JOIN attempt a ON a.sittingId = s.sittingId AND a.admissionNumber = s.admissionNumber
                    WHERE s.sittingId = ? AND s.roomId = ?
                    ORDER BY s.seat
                    """, arguments: [sittingID.rawValue, roomID.rawValue]
            ).map { row in
                // Logged in before the start is waiting; once the sitting has started the candidate is answering,
                // whether or not a first answer has been saved yet.
                var status: String = row["status"] ?? "notArrived"
                if status == AttemptStatus.waiting.rawValue && started { status = AttemptStatus.answering.rawValue }
                return RosterEntry(
                    admissionNumber: row["admissionNumber"], name: row["name"], seat: row["seat"], roomId: row["roomId"],
                    status: status, attemptId: row["attemptId"], answered: row["answered"],
                    events: row["events"], terminalId: row["terminalId"], submittedAt: row["submittedAt"],
                    extensionSeconds: row["extensionSeconds"], lastHeartbeat: nil)
            }
        }
    }

    /// Scores of every candidate seated for a sitting; those who never logged in are `absent`.
    public func results(sittingID: Sitting.ID) async throws -> [ResultRow] {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.admissionNumber, c.name, s.roomId, s.seat, a.id AS attemptId, a.status, a.submittedAt,
                           a.submittedBy, a.score, a.maxPoints, a.pendingPoints
                    FROM seat_assignment s
                    JOIN candidate c ON c.admissionNumber = s.admissionNumber
                    LEFT JOIN attempt a ON a.sittingId = s.sittingId AND a.admissionNumber = s.admissionNumber
                    WHERE s.sittingId = ?
                    ORDER BY s.roomId, s.seat
                    """, arguments: [sittingID.rawValue])
            return try rows.map { row in
                let attemptID: String? = row["attemptId"]
                let sections =
                    try attemptID.map { id in
                        try SectionScoreRecord.filter(SectionScoreRecord.Columns.attemptId == id)
                            .order(SectionScoreRecord.Columns.position).fetchAll(db)
                            .map {
                                ResultRow.Section(
                                    id: $0.sectionId, title: $0.title, score: $0.score, maxPoints: $0.maxPoints,
                                    pendingPoints: $0.pendingPoints)
                            }
                    } ?? []
                return ResultRow(
                    admissionNumber: row["admissionNumber"], name: row["name"], roomId: row["roomId"], seat: row["seat"],
                    status: row["status"] ?? "absent", attemptId: attemptID, submittedAt: row["submittedAt"],
                    submittedBy: row["submittedBy"], score: row["score"], maxPoints: row["maxPoints"],
                    pendingPoints: row["pendingPoints"], sections: sections)
            }
        }
    }

    /// The results as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese text right).
    public func resultsCSV(sittingID: Sitting.ID) async throws -> String {
        let rows = try await results(sittingID: sittingID)
        let paper = try await assembledPaper(for: sittingID)
        let sectionTitles = paper.sections.map(\.section.title)
        var header = ["准考证号 admission number", "姓名 name", "考场 room", "座位 seat", "状态 status", "交卷时间 submitted at", "交卷方式 submitted by"]
        header += sectionTitles
        header += ["客观题得分 score", "满分 max points", "待评分 pending points"]
        var lines = [header.map(csvField).joined(separator: ",")]
        let formatter = ISO8601DateFormatter()
        for row in rows {
            var fields = [
                row.admissionNumber, row.name, row.roomId, row.seat, row.status,
                row.submittedAt.map { formatter.string(from: Date(millis: $0)) } ?? "", row.submittedBy ?? "",
            ]
            for section in paper.sections {
                fields.append(row.sections.first { $0.id == section.section.id.rawValue }.map { format($0.score) } ?? "")
            }
            fields += [row.score.map(format) ?? "", row.maxPoints.map(format) ?? "", row.pendingPoints.map(format) ?? ""]
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
    }

    /// What a reviewer needs to see an attempt exactly as the candidate saw it, with the key and the scores.
    public func review(attemptID: String) async throws -> AttemptReview {
        let (attempt, candidate, answers, scores, events) = try await pool.read { db in
            guard let attempt = try AttemptRecord.fetchOne(db, key: attemptID),
                let candidate = try CandidateRecord.fetchOne(db, key: attempt.admissionNumber)
            else { throw StoreError.notFound("考试 \(attemptID) / the attempt \(attemptID)") }
            let answers = try AnswerRecord.filter(AnswerRecord.Columns.attemptId == attemptID).fetchAll(db)
            let scores = try QuestionScoreRecord.filter(QuestionScoreRecord.Columns.attemptId == attemptID).fetchAll(db)
            let events = try AttemptEventRecord.filter(AttemptEventRecord.Columns.attemptId == attemptID)
                .order(AttemptEventRecord.Columns.id).fetchAll(db)
            return (attempt, candidate, answers, scores, events)
        }
        let paper = try await assembledPaper(for: Sitting.ID(attempt.sittingId))
        let layout = PaperLayout(paper: paper, seed: UInt64(bitPattern: attempt.seed))
        let view = CandidatePaper(paper: paper, layout: layout)
        var key: [String: JSONValue] = [:]
        for id in paper.answerableOrder {
            guard let question = paper.answerable[id]?.question else { continue }
            key[id.rawValue] = (try? JSONValue(json: JSONEncoder.stored.encode(question))) ?? .null
        }
        let items = view.answerOrder.map { id -> AttemptReview.Item in
            let answer = answers.first { $0.questionId == id.rawValue }
            let score = scores.first { $0.questionId == id.rawValue }
            return AttemptReview.Item(
                questionId: id.rawValue, response: answer?.response.flatMap(storedBody),
                flagged: answer?.flagged ?? false, score: score?.score,
                maxPoints: score?.maxPoints ?? paper.answerable[id]?.question.points ?? 0, status: score?.status)
        }
        return AttemptReview(
            attemptId: attempt.id, admissionNumber: candidate.admissionNumber, name: candidate.name,
            seed: String(UInt64(bitPattern: attempt.seed)), status: attempt.status, submittedAt: attempt.submittedAt,
            submittedBy: attempt.submittedBy, score: attempt.score, maxPoints: attempt.maxPoints,
            pendingPoints: attempt.pendingPoints, paper: view, key: key, items: items, answerLogLength: attempt.logLength,
            events: events.map {
                EventView(kind: $0.kind, serverTime: $0.serverTime, clientTime: $0.clientTime, terminalId: $0.terminalId, detail: $0.detail)
            })
    }

    /// The answer log of an attempt in order, optionally for one question only.
    public func answerLog(attemptID: String, questionID: String? = nil) async throws -> [AnswerLogEntry] {
        try await pool.read { db in
            guard try AttemptRecord.fetchOne(db, key: attemptID) != nil else {
                throw StoreError.notFound("考试 \(attemptID) / the attempt \(attemptID)")
            }
            var request = AnswerLogRecord.filter(AnswerLogRecord.Columns.attemptId == attemptID)
            if let questionID { request = request.filter(Column("questionId") == questionID) }
            return try request.order(AnswerLogRecord.Columns.seq).fetchAll(db).map {
                AnswerLogEntry(
                    seq: $0.seq, changeId: $0.changeId, questionId: $0.questionId, kind: $0.kind,
                    response: $0.response.flatMap(storedBody), flagged: $0.flagged,
                    terminalId: $0.terminalId, clientTime: $0.clientTime, serverTime: $0.serverTime)
            }
        }
    }

    /// A candidate's registered photo.
    public func photo(admissionNumber: String) async throws -> (contentType: String, data: Data) {
        try await pool.read { db in
            guard let candidate = try CandidateRecord.fetchOne(db, key: admissionNumber),
                let photo = try PhotoRecord.fetchOne(db, key: candidate.photoSHA256)
            else { throw StoreError.notFound("照片 / the photo") }
            return (photo.contentType, photo.data)
        }
    }
}

private func format(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
}

/// A CSV field, quoted when needed; a leading = + - @ is neutralised so a spreadsheet never runs it as a formula.
func csvField(_ value: String) -> String {
    var value = value
    if let first = value.first, "=+-@".contains(first) { value = "'" + value }
    if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return value
}
