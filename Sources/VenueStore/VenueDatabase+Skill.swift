import ExamCore
import Foundation
import GRDB

/// A skill sitting as an examiner's tablet lists it.
public struct SkillSittingView: Codable, Sendable, Hashable {
    public struct Task: Codable, Sendable, Hashable {
        public var id: String
        public var title: String
        public var durationMinutes: Int
        public var points: Double
    }
    public var id: String
    public var name: String
    public var scheduledStart: Int64
    public var durationMinutes: Int
    /// The sitting's rooms this examiner scores in (every room for admins and supervisors).
    public var rooms: [String]
    public var paperTitle: String
    public var tasks: [Task]
}

/// A candidate of a skill sitting with where each task's scoring stands.
public struct SkillCandidateView: Codable, Sendable, Hashable {
    public struct TaskState: Codable, Sendable, Hashable {
        public var taskId: String
        /// This examiner's sheet: `none`, `draft` or `submitted`.
        public var mine: String
        public var myTotal: Double?
        /// Sheets every examiner submitted, and the mean of their totals (the task's score).
        public var submitted: Int
        public var mean: Double?
    }
    public var admissionNumber: String
    public var name: String
    public var room: String
    public var seat: String
    public var tasks: [TaskState]
}

/// One examiner's scoring sheet (评分表) for a candidate and a task.
public struct SkillSheetView: Codable, Sendable, Hashable {
    public struct Item: Codable, Sendable, Hashable {
        public var id: String
        public var description: String
        /// The most it can score (配分).
        public var points: Double
        public var deduction: String
        /// What the examiner gave; nil until scored.
        public var score: Double?
    }
    public var sittingId: String
    public var sittingName: String
    /// When the sitting was scheduled to start (milliseconds since 1970).
    public var scheduledStart: Int64
    /// The venue's name as its package gave it (printed on the sheet).
    public var venueName: String?
    public var admissionNumber: String
    public var candidateName: String
    public var room: String
    public var roomName: String
    public var seat: String
    public var taskId: String
    public var taskTitle: String
    public var description: String
    public var durationMinutes: Int
    public var examiner: String
    public var items: [Item]
    public var total: Double
    public var maxPoints: Double
    public var remark: String?
    public var updatedAt: Int64?
    public var submittedAt: Int64?
}

extension VenueDatabase {
    /// The paper row of a skill sitting (its tasks are in `skill_paper`).
    static let skillPaperBody = #"{"skill":true}"#

    /// The skill sittings an examiner scores in: those with one of their rooms (all of them for admins and
    /// supervisors), by scheduled start.
    public func skillSittings(for staff: StaffSession) async throws -> [SkillSittingView] {
        try await pool.read { db in
            var views: [SkillSittingView] = []
            for sitting in try SittingRecord.filter(Column("subject") == Subject.skill.rawValue).order(Column("scheduledStart")).fetchAll(db) {
                let rooms = try String.fetchAll(
                    db, sql: "SELECT roomId FROM sitting_room WHERE sittingId = ? ORDER BY roomId", arguments: [sitting.id]
                ).filter { Self.scoresEverywhere(staff) || staff.rooms.contains(Room.ID($0)) }
                guard !rooms.isEmpty, let paper = try Self.skillPaper(db, id: sitting.paperId) else { continue }
                views.append(
                    SkillSittingView(
                        id: sitting.id, name: sitting.name, scheduledStart: sitting.scheduledStart,
                        durationMinutes: Int(sitting.durationSeconds / 60), rooms: rooms, paperTitle: paper.title,
                        tasks: paper.tasks.map { .init(id: $0.id.rawValue, title: $0.title, durationMinutes: $0.durationMinutes, points: $0.points) }))
            }
            return views
        }
    }

    /// The candidates of a skill sitting in the examiner's rooms, by room and seat, with each task's sheets.
    public func skillCandidates(sittingID: String, for staff: StaffSession) async throws -> [SkillCandidateView] {
        try await pool.read { db in
            let (_, paper) = try Self.skillSitting(db, sittingID)
            let sheets = try Self.sheets(db, sittingID: sittingID)
            return try Self.skillSeats(db, sittingID: sittingID)
                .filter { Self.scoresEverywhere(staff) || staff.rooms.contains(Room.ID($0.room)) }
                .map { seat in
                    let tasks = paper.tasks.map { task -> SkillCandidateView.TaskState in
                        let forTask = sheets.filter { $0.admissionNumber == seat.admissionNumber && $0.taskId == task.id.rawValue }
                        let mine = forTask.first { $0.examiner == staff.username }
                        let handedIn = forTask.filter { $0.submittedAt != nil }.map(\.total)
                        return .init(
                            taskId: task.id.rawValue, mine: mine == nil ? "none" : mine?.submittedAt == nil ? "draft" : "submitted",
                            myTotal: mine?.total, submitted: handedIn.count, mean: Self.mean(handedIn))
                    }
                    return SkillCandidateView(admissionNumber: seat.admissionNumber, name: seat.name, room: seat.room, seat: seat.seat, tasks: tasks)
                }
        }
    }

    /// The examiner's own sheet for a candidate and a task (empty scores until they write it).
    public func skillSheet(sittingID: String, admissionNumber: String, taskID: String, for staff: StaffSession) async throws -> SkillSheetView {
        try await pool.read { db in try Self.sheetView(db, sittingID: sittingID, admissionNumber: admissionNumber, taskID: taskID, staff: staff) }
    }

    /// Writes the examiner's sheet: a score for any of the task's scoring items (0 up to the item's points, in
    /// steps of 0.5), and a remark. `submit` hands it in: every item must be scored, and the sheet no longer
    /// changes. Every write goes to central; handing in is audited.
    public func saveSkillSheet(
        sittingID: String, admissionNumber: String, taskID: String, scores: [String: Double], remark: String?, submit: Bool,
        by staff: StaffSession, now: Date = Date()
    ) async throws -> SkillSheetView {
        try await pool.write { db in
            let current = try Self.sheetView(db, sittingID: sittingID, admissionNumber: admissionNumber, taskID: taskID, staff: staff)
            if let submittedAt = current.submittedAt { throw StoreError.skillSheetSubmitted(at: submittedAt) }
            let items = Dictionary(uniqueKeysWithValues: current.items.map { ($0.id, $0) })
            var problems: [Message] = []
            for (id, score) in scores.sorted(by: { $0.key < $1.key }) {
                guard let item = items[id] else {
                    problems.append(Message(zh: "试题 \(taskID) 没有评分项 \(id)", en: "task \(taskID) has no scoring item \(id)"))
                    continue
                }
                if !(score.isFinite && score >= 0 && score <= item.points && (score * 2).rounded() == score * 2) {
                    problems.append(
                        Message(
                            zh: "评分项“\(item.description)”的得分须在 0 到 \(format(item.points)) 之间，以 0.5 分为单位",
                            en: "the score of “\(item.description)” must be 0 to \(format(item.points)), in steps of 0.5"))
                }
            }
            let trimmed = remark?.trimmingCharacters(in: .whitespacesAndNewlines)
            if let trimmed, trimmed.count > 2000 {
                problems.append(Message(zh: "备注不能超过 2000 字", en: "the remark may hold at most 2000 characters"))
            }
            if submit {
                let missing = current.items.filter { scores[$0.id] == nil }
                if !missing.isEmpty {
                    problems.append(
                        Message(
                            zh: "提交前须为每个评分项打分，尚缺：" + missing.map(\.description).joined(separator: "、"),
                            en: "every scoring item needs a score before handing in; missing: " + missing.map(\.description).joined(separator: ", ")))
                }
            }
            guard problems.isEmpty else { throw StoreError.skillScoreInvalid(problems) }
            let total = Self.rounded(scores.values.reduce(0, +))
            try db.execute(
                sql: """
                    INSERT INTO skill_sheet (sittingId, admissionNumber, taskId, examiner, scores, total, maxPoints, remark, updatedAt, submittedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(sittingId, admissionNumber, taskId, examiner) DO UPDATE SET scores = excluded.scores,
                        total = excluded.total, maxPoints = excluded.maxPoints, remark = excluded.remark,
                        updatedAt = excluded.updatedAt, submittedAt = excluded.submittedAt
                    """,
                arguments: [
                    sittingID, admissionNumber, taskID, staff.username, try scores.storedJSON(), total, current.maxPoints,
                    trimmed?.isEmpty == false ? trimmed : nil, now.millis, submit ? now.millis : nil,
                ])
            if submit {
                try Self.audit(
                    db, by: staff, action: .skillSheetSubmitted, now: now, sittingID: sittingID, roomID: current.room,
                    admissionNumber: admissionNumber, detail: ["task": taskID, "total": format(total), "of": format(current.maxPoints)])
            }
            return try Self.sheetView(db, sittingID: sittingID, admissionNumber: admissionNumber, taskID: taskID, staff: staff)
        }
    }

    // MARK: Results

    /// A skill sitting's results page: per candidate each task's score (the mean of the sheets handed in), the sum,
    /// and what is still to be scored. Status `scored` (every task has a sheet handed in), `scoring` or `notScored`.
    static func skillResults(_ db: Database, sittingID: String) throws -> [ResultRow] {
        let (_, paper) = try skillSitting(db, sittingID)
        let handedIn = try sheets(db, sittingID: sittingID).filter { $0.submittedAt != nil }
        return try skillSeats(db, sittingID: sittingID).map { seat in
            let own = handedIn.filter { $0.admissionNumber == seat.admissionNumber }
            let sections = paper.tasks.map { task -> ResultRow.Section in
                let score = mean(own.filter { $0.taskId == task.id.rawValue }.map(\.total))
                return ResultRow.Section(
                    id: task.id.rawValue, title: task.title, score: score ?? 0, maxPoints: task.points, pendingPoints: score == nil ? task.points : 0)
            }
            let pending = sections.reduce(0) { $0 + $1.pendingPoints }
            let status = pending == 0 ? "scored" : own.isEmpty ? "notScored" : "scoring"
            return ResultRow(
                admissionNumber: seat.admissionNumber, name: seat.name, roomId: seat.room, seat: seat.seat, status: status, attemptId: nil,
                submittedAt: own.compactMap(\.submittedAt).max(), submittedBy: nil,
                score: rounded(sections.reduce(0) { $0 + $1.score }), maxPoints: paper.points, pendingPoints: pending, sections: sections)
        }
    }

    static func skillPaperOfSitting(_ db: Database, _ sittingID: String) throws -> SkillPaper? {
        guard let sitting = try SittingRecord.fetchOne(db, key: sittingID), sitting.subject == Subject.skill.rawValue else { return nil }
        return try skillPaper(db, id: sitting.paperId)
    }

    static func skillResultsCSV(_ rows: [ResultRow], paper: SkillPaper) -> String {
        let formatter = ISO8601DateFormatter()
        var header = ["准考证号 admission number", "姓名 name", "考场 room", "座位 seat", "状态 status", "最后提交评分表 last sheet handed in"]
        header += paper.tasks.map { "\($0.title)（\(format($0.points))）" }
        header += ["得分 score", "满分 max points", "待评分 points not yet scored"]
        var lines = [header.map(csvField).joined(separator: ",")]
        for row in rows {
            var fields = [row.admissionNumber, row.name, row.roomId, row.seat, row.status, row.submittedAt.map { formatter.string(from: Date(millis: $0)) } ?? ""]
            fields += row.sections.map { $0.pendingPoints > 0 ? "" : format($0.score) }
            fields += [row.score.map(format) ?? "", row.maxPoints.map(format) ?? "", row.pendingPoints.map(format) ?? ""]
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return CSVText.document(lines)
    }

    // MARK: Helpers

    static func scoresEverywhere(_ staff: StaffSession) -> Bool { staff.role == .admin || staff.role == .supervisor }

    /// The seats of a sitting with the candidates' names, by room and seat.
    static func skillSeats(_ db: Database, sittingID: String) throws -> [(admissionNumber: String, name: String, room: String, seat: String)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT s.admissionNumber, c.name, s.roomId, s.seat FROM seat_assignment s
                JOIN candidate c ON c.admissionNumber = s.admissionNumber WHERE s.sittingId = ? ORDER BY s.roomId, s.seat
                """, arguments: [sittingID]
        ).map { ($0["admissionNumber"], $0["name"], $0["roomId"], $0["seat"]) }
    }

    /// Every examiner's sheet of a sitting, as far as lists need it.
    static func sheets(_ db: Database, sittingID: String) throws
        -> [(admissionNumber: String, taskId: String, examiner: String, total: Double, submittedAt: Int64?)]
    {
        try Row.fetchAll(
            db, sql: "SELECT admissionNumber, taskId, examiner, total, submittedAt FROM skill_sheet WHERE sittingId = ?", arguments: [sittingID]
        ).map { ($0["admissionNumber"], $0["taskId"], $0["examiner"], $0["total"], $0["submittedAt"]) }
    }

    /// A task's score: the mean of the totals of the sheets handed in, or nil while there are none.
    static func mean(_ totals: [Double]) -> Double? { totals.isEmpty ? nil : rounded(totals.reduce(0, +) / Double(totals.count)) }

    static func skillPaper(_ db: Database, id: String) throws -> SkillPaper? {
        guard let body = try String.fetchOne(db, sql: "SELECT body FROM skill_paper WHERE id = ?", arguments: [id]) else { return nil }
        return try JSONDecoder().decode(SkillPaper.self, from: Data(body.utf8))
    }

    static func skillSitting(_ db: Database, _ sittingID: String) throws -> (SittingRecord, SkillPaper) {
        guard let sitting = try SittingRecord.fetchOne(db, key: sittingID), sitting.subject == Subject.skill.rawValue,
            let paper = try skillPaper(db, id: sitting.paperId)
        else { throw StoreError.notFound("技能操作场次 \(sittingID) / skill sitting \(sittingID)") }
        return (sitting, paper)
    }

    static func sheetView(_ db: Database, sittingID: String, admissionNumber: String, taskID: String, staff: StaffSession) throws -> SkillSheetView {
        let (sitting, paper) = try skillSitting(db, sittingID)
        guard let task = paper.tasks.first(where: { $0.id.rawValue == taskID }) else {
            throw StoreError.notFound("试题 \(taskID) / task \(taskID)")
        }
        guard
            let seat = try SeatAssignmentRecord.filter(SeatAssignmentRecord.Columns.sittingId == sittingID)
                .filter(SeatAssignmentRecord.Columns.admissionNumber == admissionNumber).fetchOne(db)
        else { throw StoreError.notFound("考生 \(admissionNumber) / candidate \(admissionNumber)") }
        // Examiners score the candidates of their own rooms only.
        guard scoresEverywhere(staff) || staff.rooms.contains(Room.ID(seat.roomId)) else { throw StoreError.forbidden }
        let name = try String.fetchOne(db, sql: "SELECT name FROM candidate WHERE admissionNumber = ?", arguments: [admissionNumber]) ?? ""
        let row = try Row.fetchOne(
            db, sql: "SELECT scores, remark, updatedAt, submittedAt FROM skill_sheet WHERE sittingId = ? AND admissionNumber = ? AND taskId = ? AND examiner = ?",
            arguments: [sittingID, admissionNumber, taskID, staff.username])
        let scores = try (row?["scores"] as String?).map { try JSONDecoder().decode([String: Double].self, from: Data($0.utf8)) } ?? [:]
        let items = task.scoringItems.map {
            SkillSheetView.Item(id: $0.id, description: $0.description, points: $0.points, deduction: $0.deduction, score: scores[$0.id])
        }
        return SkillSheetView(
            sittingId: sittingID, sittingName: sitting.name, scheduledStart: sitting.scheduledStart,
            venueName: try VenueIdentityRecord.fetchOne(db)?.name, admissionNumber: admissionNumber, candidateName: name,
            room: seat.roomId, roomName: try RoomRecord.fetchOne(db, key: seat.roomId)?.name ?? seat.roomId, seat: seat.seat,
            taskId: taskID, taskTitle: task.title, description: task.description, durationMinutes: task.durationMinutes,
            examiner: staff.username, items: items, total: rounded(items.compactMap(\.score).reduce(0, +)), maxPoints: task.points,
            remark: row?["remark"], updatedAt: row?["updatedAt"], submittedAt: row?["submittedAt"])
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }

}
