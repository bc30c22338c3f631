import ExamCore
import Foundation
import Logging
import PostgresNIO

/// A sitting's results as its venue reported them: one row per registered candidate, in the plan's order.
public struct SittingResults: Sendable, Codable, Equatable {
    /// A task of a skill sitting's paper, or a section of a theory paper: its column in the results.
    public struct Column: Sendable, Codable, Equatable {
        public var id: String
        public var title: String
        public var points: Double
    }
    public struct Row: Sendable, Codable, Equatable {
        public var admissionNumber: String
        public var name: String
        public var organisation: String?
        public var room: String?
        public var seat: String?
        /// Theory: `submitted`, `answering`, `waiting` (logged in, not yet answering), `absent` (marked absent at the
        /// desk) or `noAttempt` (nothing reported: never logged in, or the venue has not sent it yet).
        /// Skill: `scored` (every task has a sheet handed in), `scoring`, `notScored` or `absent`.
        public var status: String
        /// Theory: the score of a submitted attempt (objective questions and what was marked); skill: the sum of the
        /// tasks' scores once every task has one.
        public var score: Double?
        /// Theory: points of questions still to be marked.
        public var pendingPoints: Double?
        /// Theory: when the attempt was submitted; skill: when the last sheet was handed in.
        public var submittedAt: Date?
        /// Skill: each task's score (the mean of the sheets handed in) in the paper's order; nil where none yet.
        public var taskScores: [Double?]?
        /// Theory: each section's score of a submitted attempt, in the paper's order (`sections`).
        public var sectionScores: [Double?]?
    }
    public var sittingId: String
    public var name: String
    public var venueId: String
    public var subject: Subject
    public var scheduledStart: Date
    public var maxPoints: Double
    public var tasks: [Column]?
    /// Theory: the paper's sections as the submitted attempts scored them (their scores are in each row).
    public var sections: [Column]?
    public var rows: [Row]

    /// The results as a CSV file (UTF-8 with BOM, CRLF).
    public func csv() -> String {
        let formatter = ISO8601DateFormatter()
        let points = { (value: Double?) in value.map(CSVText.points) ?? "" }
        var header = ["准考证号 admission number", "姓名 name", "单位 organisation", "考场 room", "座位 seat", "状态 status"]
        if let tasks {
            header += tasks.map { "\($0.title)（\(CSVText.points($0.points))）" }
            header += ["得分 score", "满分 max points", "最后提交评分表 last sheet handed in"]
        } else {
            header += (sections ?? []).map { "\($0.title)（\(CSVText.points($0.points))）" }
            header += ["得分 score", "满分 max points", "待评分 pending points", "交卷时间 submitted at"]
        }
        var lines = [CSVText.line(header)]
        for row in rows {
            var fields = [row.admissionNumber, row.name, row.organisation ?? "", row.room ?? "", row.seat ?? "", row.status]
            if tasks != nil {
                fields += (row.taskScores ?? []).map(points)
                fields += [points(row.score), CSVText.points(maxPoints), row.submittedAt.map(formatter.string) ?? ""]
            } else {
                fields += (row.sectionScores ?? (sections ?? []).map { _ in nil }).map(points)
                fields += [points(row.score), CSVText.points(maxPoints), points(row.pendingPoints), row.submittedAt.map(formatter.string) ?? ""]
            }
            lines.append(CSVText.line(fields))
        }
        return CSVText.document(lines)
    }
}

extension CentralDatabase {
    /// A sitting's results from what its venue has sent: attempts and scores of theory sittings, the examiners'
    /// handed-in sheets of skill sittings, and who was marked absent. What has not arrived yet is shown as such.
    public func sittingResults(_ id: String) async throws -> SittingResults {
        let sitting = try await planSitting(id)
        let paper = try await paper(sitting.paperId)
        var results = SittingResults(
            sittingId: id, name: sitting.name, venueId: sitting.venueId, subject: sitting.subject, scheduledStart: sitting.scheduledStart,
            maxPoints: paper.summary.points, rows: [])
        var absent = Set<String>()
        for try await number in try await client.query(
            "SELECT admission_number FROM check_in WHERE venue_id = \(sitting.venueId) AND sitting_id = \(id) AND status = 'absent'",
            logger: logger
        ).decode(String.self) {
            absent.insert(number)
        }
        // The candidate's attempt, a submitted one first if a terminal move ever left two.
        var submittedAttempts: [String: Int] = [:]  // attempt id → row
        for try await (number, name, organisation, room, seat, attemptID, status, score, pending, submittedAt) in try await client.query(
            """
            SELECT c.admission_number, c.name, c.organisation, c.room_id, c.seat, a.attempt_id, a.status, a.score, a.pending_points,
                a.submitted_at
            FROM plan_candidate c
            LEFT JOIN LATERAL (
                SELECT attempt_id, status, score, pending_points, submitted_at FROM exam_attempt a
                WHERE a.venue_id = \(sitting.venueId) AND a.sitting_id = c.sitting_id AND a.admission_number = c.admission_number
                ORDER BY a.status = 'submitted' DESC, a.created_at DESC LIMIT 1
            ) a ON true
            WHERE c.sitting_id = \(id) ORDER BY c.position
            """, logger: logger
        ).decode((String, String, String?, String?, String?, String?, String?, Double?, Double?, Date?).self) {
            let submitted = status == "submitted"
            if submitted, let attemptID { submittedAttempts[attemptID] = results.rows.count }
            results.rows.append(
                SittingResults.Row(
                    admissionNumber: number, name: name, organisation: organisation, room: room, seat: seat,
                    status: status ?? (absent.contains(number) ? "absent" : "noAttempt"),
                    score: submitted ? score : nil, pendingPoints: submitted ? pending : nil, submittedAt: submitted ? submittedAt : nil))
        }
        guard sitting.subject == .skill else {
            try await addSectionScores(to: &results, attempts: submittedAttempts)
            return results
        }

        results.tasks = paper.tasks.map { SittingResults.Column(id: $0.id.rawValue, title: $0.title, points: $0.points) }
        let scores = try await skillScores(sittingID: id, venueID: sitting.venueId)
        for index in results.rows.indices {
            let number = results.rows[index].admissionNumber
            let own = scores.filter { $0.admissionNumber == number }
            let means = paper.tasks.map { task in own.first { $0.taskId == task.id.rawValue }?.mean }
            let scored = means.compactMap { $0 }
            results.rows[index].taskScores = means
            results.rows[index].score = scored.count == means.count ? (scored.reduce(0, +) * 100).rounded() / 100 : nil
            results.rows[index].submittedAt = own.flatMap(\.sheets).map(\.submittedAt).max()
            results.rows[index].status =
                scored.count == means.count ? "scored"
                : !scored.isEmpty ? "scoring" : absent.contains(number) ? "absent" : "notScored"
        }
        return results
    }

    /// The section scores of the submitted attempts, one column per section (by its position in the paper).
    private func addSectionScores(to results: inout SittingResults, attempts: [String: Int]) async throws {
        var columns: [(position: Int, column: SittingResults.Column)] = []
        var scores: [(row: Int, section: String, score: Double)] = []
        for try await (attemptID, section, title, position, maxPoints, score) in try await client.query(
            """
            SELECT attempt_id, section_id, title, position, max_points, score FROM section_score
            WHERE venue_id = \(results.venueId) AND attempt_id = ANY(\(Array(attempts.keys)))
            """, logger: logger
        ).decode((String, String, String, Int, Double, Double).self) {
            guard let row = attempts[attemptID] else { continue }
            if !columns.contains(where: { $0.column.id == section }) {
                columns.append((position, SittingResults.Column(id: section, title: title, points: maxPoints)))
            }
            scores.append((row, section, score))
        }
        let ordered = columns.sorted { ($0.position, $0.column.id) < ($1.position, $1.column.id) }.map(\.column)
        results.sections = ordered
        for index in results.rows.indices { results.rows[index].sectionScores = ordered.map { _ in nil } }
        for entry in scores {
            guard let column = ordered.firstIndex(where: { $0.id == entry.section }) else { continue }
            results.rows[entry.row].sectionScores?[column] = entry.score
        }
    }
}
