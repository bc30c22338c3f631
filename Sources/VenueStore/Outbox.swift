import GRDB

/// The outbox: what the venue owes the central office. Every write that produces a record for central adds its
/// outbox item in the same transaction — by SQLite triggers on the tables that hold those records, so no code path
/// can write one without the other, and a rolled-back write leaves no item behind.
///
/// An item's id is random, fixed when the item is written (before its first send); its payload is the record as JSON
/// at that moment, so a re-send carries exactly the same bytes. A later change to the same record (a submission
/// after the attempt began, a check-in corrected, an alert cleared) is a new item with a higher `seq`; central keeps
/// the one with the highest.
enum OutboxSchema {
    /// Results go before everything else, then the venue's record of what happened (audit, recording metadata).
    enum Priority: Int {
        case results = 0
        case record = 1
    }

    struct Source {
        var name: String
        var table: String
        var kind: String
        var priority: Priority
        /// `INSERT`, or `UPDATE OF …`.
        var event: String
        var when: String?
        var sitting: String
        /// Keys and SQL expressions over `NEW`.
        var fields: [(String, String)]
    }

    static func columns(_ names: String) -> [(String, String)] {
        names.split(separator: " ").map { (String($0), "NEW.\($0)") }
    }

    static let attemptFields = columns("id sittingId admissionNumber roomId status createdAt submittedAt submittedBy score maxPoints pendingPoints logLength extensionSeconds")

    /// The attempt's final answers and its scores, as they stand in the same transaction (scores are written before
    /// the attempt is marked submitted).
    static let resultFields: [(String, String)] = [
        ("answers", """
            (SELECT json_group_array(json_object('questionId', a.questionId, 'response', json(a.response), 'flagged', a.flagged,
                'updatedAt', a.updatedAt, 'logSeq', a.logSeq)) FROM answer a WHERE a.attemptId = NEW.id)
            """),
        ("questionScores", """
            (SELECT json_group_array(json_object('questionId', q.questionId, 'sectionId', q.sectionId, 'maxPoints', q.maxPoints,
                'score', q.score, 'status', q.status)) FROM question_score q WHERE q.attemptId = NEW.id)
            """),
        ("sectionScores", """
            (SELECT json_group_array(json_object('sectionId', s.sectionId, 'title', s.title, 'position', s.position,
                'maxPoints', s.maxPoints, 'score', s.score, 'pendingPoints', s.pendingPoints)) FROM section_score s WHERE s.attemptId = NEW.id)
            """),
    ]

    static let checkInFields = columns("sittingId admissionNumber status method at byUser note")
    static let incidentFields = columns("id sittingId roomId admissionNumber category note occurredAt recordedBy recordedAt")
    static let roomClockFields = columns("sittingId roomId startedAt startedBy pausedSince pausedSeconds extensionSeconds closedAt closedBy")
    static let alertFields = columns("id kind subject roomId cameraId sittingId detail raisedAt clearedAt")

    static let sources: [Source] = [
        Source(name: "attempt_begun", table: "attempt", kind: "attempt", priority: .results, event: "INSERT", when: nil,
               sitting: "NEW.sittingId", fields: attemptFields),
        Source(name: "attempt_submitted", table: "attempt", kind: "attemptSubmitted", priority: .results,
               event: "UPDATE OF status", when: "NEW.status = 'submitted' AND OLD.status IS NOT 'submitted'",
               sitting: "NEW.sittingId", fields: attemptFields + resultFields),
        Source(name: "attempt_rescored", table: "attempt", kind: "attemptSubmitted", priority: .results,
               event: "UPDATE OF score, pendingPoints",
               when: "NEW.status = 'submitted' AND OLD.status = 'submitted' AND (NEW.score IS NOT OLD.score OR NEW.pendingPoints IS NOT OLD.pendingPoints)",
               sitting: "NEW.sittingId", fields: attemptFields + resultFields),
        Source(name: "answer_log", table: "answer_log", kind: "answerLog", priority: .results, event: "INSERT", when: nil,
               sitting: "(SELECT sittingId FROM attempt WHERE id = NEW.attemptId)",
               fields: columns("attemptId seq changeId questionId kind flagged clientSeq sessionId terminalId clientTime serverTime")
                   + [("response", "json(NEW.response)")]),
        Source(name: "attempt_event", table: "attempt_event", kind: "attemptEvent", priority: .results, event: "INSERT", when: nil,
               sitting: "(SELECT sittingId FROM attempt WHERE id = NEW.attemptId)",
               fields: columns("attemptId eventId kind clientTime serverTime sessionId terminalId detail")),
        Source(name: "check_in", table: "check_in", kind: "checkIn", priority: .results, event: "INSERT", when: nil,
               sitting: "NEW.sittingId", fields: checkInFields),
        Source(name: "check_in_changed", table: "check_in", kind: "checkIn", priority: .results, event: "UPDATE", when: nil,
               sitting: "NEW.sittingId", fields: checkInFields),
        Source(name: "face_verification", table: "face_verification", kind: "faceVerification", priority: .results,
               event: "INSERT", when: nil, sitting: "NEW.sittingId",
               fields: columns("id at purpose personKind personId sittingId roomId byUser similarity threshold decision problem faceCount flags model")),
        Source(name: "face_override", table: "face_override", kind: "faceOverride", priority: .results, event: "INSERT", when: nil,
               sitting: "(SELECT sittingId FROM face_verification WHERE id = NEW.verificationId)",
               fields: columns("verificationId byUser reason at")),
        Source(name: "incident", table: "incident", kind: "incident", priority: .results, event: "INSERT", when: nil,
               sitting: "NEW.sittingId", fields: incidentFields),
        Source(name: "incident_changed", table: "incident", kind: "incident", priority: .results, event: "UPDATE", when: nil,
               sitting: "NEW.sittingId", fields: incidentFields),
        Source(name: "time_extension", table: "time_extension", kind: "timeExtension", priority: .results, event: "INSERT", when: nil,
               sitting: "NEW.sittingId", fields: columns("id sittingId roomId attemptId seconds reason grantedBy grantedAt")),
        Source(name: "room_clock", table: "room_clock", kind: "roomClock", priority: .results, event: "INSERT", when: nil,
               sitting: "NEW.sittingId", fields: roomClockFields),
        Source(name: "room_clock_changed", table: "room_clock", kind: "roomClock", priority: .results, event: "UPDATE", when: nil,
               sitting: "NEW.sittingId", fields: roomClockFields),
        Source(name: "audit", table: "audit_log", kind: "audit", priority: .record, event: "INSERT", when: nil,
               sitting: "NEW.sittingId",
               fields: columns("id at actor actorRole action sittingId roomId admissionNumber attemptId reason detail")),
        Source(name: "segment", table: "recording_segment", kind: "segment", priority: .record, event: "INSERT", when: nil,
               sitting: "NULL",
               fields: columns("cameraId roomId session sequence fileName startedAt endedAt duration bytes sha256 codec width height recovered")),
        Source(name: "gap", table: "recording_gap", kind: "gap", priority: .record, event: "INSERT", when: nil, sitting: "NULL",
               fields: columns("id cameraId roomId fromAt toAt reason")),
        Source(name: "alert", table: "recording_alert", kind: "alert", priority: .record, event: "INSERT", when: nil,
               sitting: "NEW.sittingId", fields: alertFields),
        Source(name: "alert_cleared", table: "recording_alert", kind: "alert", priority: .record, event: "UPDATE OF clearedAt",
               when: "NEW.clearedAt IS NOT OLD.clearedAt", sitting: "NEW.sittingId", fields: alertFields),
    ]

    /// An examiner's scoring sheet, each time it is written (migration v12, so not among `sources`).
    static let skillSheetFields = columns("sittingId admissionNumber taskId examiner total maxPoints remark updatedAt submittedAt")
        + [("scores", "json(NEW.scores)")]
    static let skillSheetSources: [Source] = [
        Source(name: "skill_sheet", table: "skill_sheet", kind: "skillSheet", priority: .results, event: "INSERT", when: nil,
               sitting: "NEW.sittingId", fields: skillSheetFields),
        Source(name: "skill_sheet_changed", table: "skill_sheet", kind: "skillSheet", priority: .results, event: "UPDATE", when: nil,
               sitting: "NEW.sittingId", fields: skillSheetFields),
    ]

    static let now = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

    static func insert(_ source: Source) -> String {
        let object = source.fields.map { "'\($0.0)', \($0.1)" }.joined(separator: ", ")
        return """
            INSERT INTO sync_outbox (id, kind, priority, sittingId, payload, createdAt)
            SELECT lower(hex(randomblob(16))), '\(source.kind)', \(source.priority.rawValue), \(source.sitting),
                json_object(\(object)), \(now)
            """
    }

    static func trigger(_ source: Source) -> String {
        """
        CREATE TRIGGER outbox_\(source.name) AFTER \(source.event) ON \(source.table)
        \(source.when.map { "WHEN \($0)" } ?? "")
        BEGIN \(insert(source)); END;
        """
    }

    /// The outbox table, its triggers, and an item for every record written before the outbox existed (each
    /// table's rows as they stand now; a submitted attempt as its submission).
    static func migrate(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE sync_outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                priority INTEGER NOT NULL,
                sittingId TEXT,
                payload TEXT NOT NULL,
                createdAt INTEGER NOT NULL,
                ackedAt INTEGER,
                refusedAt INTEGER,
                refusal TEXT
            );
            CREATE INDEX sync_outbox_pending ON sync_outbox(priority, seq) WHERE ackedAt IS NULL AND refusedAt IS NULL;
            CREATE TABLE sync_state (
                key TEXT PRIMARY KEY NOT NULL,
                value TEXT NOT NULL
            );
            """)
        for source in sources where source.event == "INSERT" || source.name == "attempt_submitted" {
            // The rows already there, read through the same expressions with the table named NEW.
            let filter = source.name == "attempt_submitted" ? "WHERE NEW.status = 'submitted'" : ""
            try db.execute(sql: "\(insert(source)) FROM \(source.table) AS NEW \(filter)")
        }
        for source in sources {
            try db.execute(sql: trigger(source))
        }
    }
}
