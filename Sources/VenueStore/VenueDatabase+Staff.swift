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
        /// The room's own clock: rooms start, pause and end on their own.
        public var clock: ClockView
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
    /// The paper arrived sealed and has not been opened (启封) yet.
    public var paperSealed: Bool
    /// When the paper, sealed on arrival, was opened; nil for papers that arrived plain or are still sealed.
    public var unsealedAt: Int64?
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
                    let roomClock = Self.clock(sitting: sitting, room: try db.roomClock(sittingID: sitting.id, roomID: room.id))
                    rooms.append(.init(
                        id: room.id, name: room.name, seats: seats, candidates: count,
                        clock: ClockView(roomClock.phase(now: now), now: now)))
                }
                if rooms.isEmpty { return nil }
                let seal = try SealedPaperRecord.fetchOne(db, key: sitting.id)
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
                    submitted: counts?["submitted"] ?? 0, paperSealed: seal != nil && seal?.unsealedAt == nil,
                    unsealedAt: seal?.unsealedAt)
            }
        }
    }

    /// Starts a sitting in every room now, ahead of its scheduled time (an admin's action; invigilators start rooms).
    public func startSitting(_ sittingID: Sitting.ID, by staff: StaffSession, now: Date = Date()) async throws -> ClockView {
        defer { clocks.forgetAll() }
        return try await groupCommit.write { db in
            guard var sitting = try SittingRecord.fetchOne(db, key: sittingID.rawValue) else {
                throw StoreError.notFound("场次 \(sittingID) / the sitting \(sittingID)")
            }
            try Self.refuseIfSealed(db, sittingID: sitting.id)
            guard Self.sittingClock(sitting).start(now: now) == nil else { throw StoreError.sittingAlreadyStarted }
            sitting.startedAt = now.millis
            sitting.startedBy = staff.username
            try sitting.update(db)
            try Self.audit(db, by: staff, action: .sittingStarted, now: now, sittingID: sittingID.rawValue)
            return ClockView(Self.sittingClock(sitting).phase(now: now), now: now)
        }
    }

    /// Scores of every candidate seated for a sitting; those who never logged in are `absent`.
    public func results(sittingID: Sitting.ID) async throws -> [ResultRow] {
        try await pool.read { db in
            if let sitting = try SittingRecord.fetchOne(db, key: sittingID.rawValue), sitting.subject == Subject.skill.rawValue {
                return try Self.skillResults(db, sittingID: sittingID.rawValue)
            }
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
        if let paper = try await pool.read({ db in try Self.skillPaperOfSitting(db, sittingID.rawValue) }) {
            return Self.skillResultsCSV(rows, paper: paper)
        }
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
        return CSVText.document(lines)
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

    /// The rooms a candidate is seated in, over all sittings.
    public func rooms(of admissionNumber: String) async throws -> [Room.ID] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT roomId FROM seat_assignment WHERE admissionNumber = ?", arguments: [admissionNumber])
                .map { Room.ID($0) }
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

/// Points as the results and their CSV write them: whole numbers bare, others to two places.
func format(_ value: Double) -> String { CSVText.points(value) }

/// A CSV field, quoted when needed, formulas neutralised.
func csvField(_ value: String) -> String { CSVText.field(value) }
