/// The central tables that synchronised items land in. Every row carries the venue it came from and, where a later
/// item about the same record supersedes an earlier one, the venue's outbox `seq` of the item that wrote it.
/// Times are `timestamptz` (the venue sends Unix milliseconds).
enum SyncSchema {
    static let statements: [String] = [
        """
        CREATE TABLE sync_batch (
            venue_id TEXT NOT NULL REFERENCES venue(id),
            batch_id TEXT NOT NULL,
            via TEXT NOT NULL CHECK (via IN ('online', 'usb', 'session')),
            received_at TIMESTAMPTZ NOT NULL,
            items INTEGER NOT NULL,
            stored INTEGER NOT NULL,
            PRIMARY KEY (venue_id, batch_id)
        )
        """,
        """
        CREATE TABLE sync_item (
            venue_id TEXT NOT NULL REFERENCES venue(id),
            item_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            kind TEXT NOT NULL,
            sitting_id TEXT,
            created_at TIMESTAMPTZ NOT NULL,
            sha256 TEXT NOT NULL,
            payload JSONB NOT NULL,
            batch_id TEXT NOT NULL,
            received_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (venue_id, item_id)
        )
        """,
        "CREATE INDEX sync_item_sitting ON sync_item (venue_id, sitting_id, kind)",
        """
        CREATE TABLE sync_report (
            id BIGSERIAL PRIMARY KEY,
            venue_id TEXT NOT NULL,
            at TIMESTAMPTZ NOT NULL,
            code TEXT NOT NULL,
            batch_id TEXT,
            detail TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE upload_session (
            token_sha256 TEXT PRIMARY KEY,
            venue_id TEXT NOT NULL REFERENCES venue(id),
            created_at TIMESTAMPTZ NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL
        )
        """,
        """
        CREATE TABLE exam_attempt (
            venue_id TEXT NOT NULL, attempt_id TEXT NOT NULL, sitting_id TEXT NOT NULL, admission_number TEXT NOT NULL,
            room_id TEXT, status TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, submitted_at TIMESTAMPTZ, submitted_by TEXT,
            score DOUBLE PRECISION, max_points DOUBLE PRECISION, pending_points DOUBLE PRECISION, log_length INTEGER NOT NULL,
            extension_seconds INTEGER NOT NULL, seq BIGINT NOT NULL,
            PRIMARY KEY (venue_id, attempt_id)
        )
        """,
        "CREATE INDEX exam_attempt_sitting ON exam_attempt (venue_id, sitting_id)",
        """
        CREATE TABLE exam_answer (
            venue_id TEXT NOT NULL, attempt_id TEXT NOT NULL, question_id TEXT NOT NULL, response JSONB, flagged BOOLEAN NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL, log_seq INTEGER NOT NULL, seq BIGINT NOT NULL,
            PRIMARY KEY (venue_id, attempt_id, question_id)
        )
        """,
        """
        CREATE TABLE answer_log (
            venue_id TEXT NOT NULL, attempt_id TEXT NOT NULL, seq INTEGER NOT NULL, change_id TEXT NOT NULL,
            question_id TEXT NOT NULL, kind TEXT NOT NULL, response JSONB, flagged BOOLEAN, client_seq BIGINT NOT NULL,
            session_id TEXT NOT NULL, terminal_id TEXT NOT NULL, client_time TIMESTAMPTZ, server_time TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (venue_id, attempt_id, seq)
        )
        """,
        """
        CREATE TABLE question_score (
            venue_id TEXT NOT NULL, attempt_id TEXT NOT NULL, question_id TEXT NOT NULL, section_id TEXT NOT NULL,
            max_points DOUBLE PRECISION NOT NULL, score DOUBLE PRECISION, status TEXT NOT NULL, seq BIGINT NOT NULL,
            PRIMARY KEY (venue_id, attempt_id, question_id)
        )
        """,
        """
        CREATE TABLE section_score (
            venue_id TEXT NOT NULL, attempt_id TEXT NOT NULL, section_id TEXT NOT NULL, title TEXT NOT NULL, position INTEGER NOT NULL,
            max_points DOUBLE PRECISION NOT NULL, score DOUBLE PRECISION NOT NULL, pending_points DOUBLE PRECISION NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY (venue_id, attempt_id, section_id)
        )
        """,
        """
        CREATE TABLE attempt_event (
            venue_id TEXT NOT NULL, event_id TEXT NOT NULL, attempt_id TEXT NOT NULL, kind TEXT NOT NULL,
            client_time TIMESTAMPTZ, server_time TIMESTAMPTZ NOT NULL, session_id TEXT, terminal_id TEXT, detail TEXT,
            PRIMARY KEY (venue_id, event_id)
        )
        """,
        """
        CREATE TABLE check_in (
            venue_id TEXT NOT NULL, sitting_id TEXT NOT NULL, admission_number TEXT NOT NULL, status TEXT NOT NULL,
            method TEXT, at TIMESTAMPTZ NOT NULL, by_user TEXT NOT NULL, note TEXT, seq BIGINT NOT NULL,
            PRIMARY KEY (venue_id, sitting_id, admission_number)
        )
        """,
        """
        CREATE TABLE face_verification (
            venue_id TEXT NOT NULL, id TEXT NOT NULL, at TIMESTAMPTZ NOT NULL, purpose TEXT NOT NULL, person_kind TEXT NOT NULL,
            person_id TEXT NOT NULL, sitting_id TEXT, room_id TEXT, by_user TEXT NOT NULL, similarity DOUBLE PRECISION,
            threshold DOUBLE PRECISION NOT NULL, decision TEXT NOT NULL, problem TEXT, face_count INTEGER NOT NULL,
            flags TEXT NOT NULL, model TEXT NOT NULL, override_by TEXT, override_reason TEXT, override_at TIMESTAMPTZ,
            PRIMARY KEY (venue_id, id)
        )
        """,
        """
        CREATE TABLE face_override (
            venue_id TEXT NOT NULL, verification_id TEXT NOT NULL, by_user TEXT NOT NULL, reason TEXT NOT NULL,
            at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (venue_id, verification_id)
        )
        """,
        """
        CREATE TABLE incident (
            venue_id TEXT NOT NULL, id TEXT NOT NULL, sitting_id TEXT NOT NULL, room_id TEXT NOT NULL, admission_number TEXT,
            category TEXT NOT NULL, note TEXT NOT NULL, occurred_at TIMESTAMPTZ NOT NULL, recorded_by TEXT NOT NULL,
            recorded_at TIMESTAMPTZ NOT NULL, seq BIGINT NOT NULL,
            PRIMARY KEY (venue_id, id)
        )
        """,
        """
        CREATE TABLE time_extension (
            venue_id TEXT NOT NULL, id BIGINT NOT NULL, sitting_id TEXT NOT NULL, room_id TEXT, attempt_id TEXT,
            seconds INTEGER NOT NULL, reason TEXT NOT NULL, granted_by TEXT NOT NULL, granted_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (venue_id, id)
        )
        """,
        """
        CREATE TABLE room_clock (
            venue_id TEXT NOT NULL, sitting_id TEXT NOT NULL, room_id TEXT NOT NULL, started_at TIMESTAMPTZ, started_by TEXT,
            paused_since TIMESTAMPTZ, paused_seconds INTEGER NOT NULL, extension_seconds INTEGER NOT NULL,
            closed_at TIMESTAMPTZ, closed_by TEXT, seq BIGINT NOT NULL,
            PRIMARY KEY (venue_id, sitting_id, room_id)
        )
        """,
        """
        CREATE TABLE audit_entry (
            venue_id TEXT NOT NULL, id BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL, actor TEXT NOT NULL, actor_role TEXT NOT NULL,
            action TEXT NOT NULL, sitting_id TEXT, room_id TEXT, admission_number TEXT, attempt_id TEXT, reason TEXT, detail TEXT,
            PRIMARY KEY (venue_id, id)
        )
        """,
        """
        CREATE TABLE recording_segment (
            venue_id TEXT NOT NULL, camera_id TEXT NOT NULL, session TEXT NOT NULL, sequence INTEGER NOT NULL,
            room_id TEXT NOT NULL, file_name TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ NOT NULL,
            duration DOUBLE PRECISION NOT NULL, bytes BIGINT NOT NULL, sha256 TEXT NOT NULL, codec TEXT NOT NULL,
            width INTEGER NOT NULL, height INTEGER NOT NULL, recovered BOOLEAN NOT NULL,
            video_received_at TIMESTAMPTZ,
            PRIMARY KEY (venue_id, camera_id, session, sequence)
        )
        """,
        """
        CREATE TABLE recording_gap (
            venue_id TEXT NOT NULL, id BIGINT NOT NULL, camera_id TEXT NOT NULL, room_id TEXT NOT NULL,
            from_at TIMESTAMPTZ NOT NULL, to_at TIMESTAMPTZ NOT NULL, reason TEXT NOT NULL,
            PRIMARY KEY (venue_id, id)
        )
        """,
        """
        CREATE TABLE venue_alert (
            venue_id TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, room_id TEXT, camera_id TEXT,
            sitting_id TEXT, detail TEXT NOT NULL, raised_at TIMESTAMPTZ NOT NULL, cleared_at TIMESTAMPTZ, seq BIGINT NOT NULL,
            PRIMARY KEY (venue_id, id)
        )
        """,
    ]

    /// The item kinds central takes, and how each lands in its table. `$1` is the venue, `$2` the batch: the
    /// statements read the items this batch stored (`sync_item` rows with its batch id), so an item already held is
    /// never applied twice. Where a later item supersedes an earlier one, the newest (highest `seq`) wins, whatever
    /// order they arrive in.
    static let kinds: [String] = [
        "attempt", "attemptSubmitted", "answerLog", "attemptEvent", "checkIn", "faceVerification", "faceOverride",
        "incident", "timeExtension", "roomClock", "audit", "segment", "gap", "alert", "manifest", "skillSheet",
    ]

    /// Examiners' scoring sheets of skill sittings (migration 8): the newest write of each sheet.
    static let skillSheets: [String] = [
        """
        CREATE TABLE skill_sheet (
            venue_id TEXT NOT NULL, sitting_id TEXT NOT NULL, admission_number TEXT NOT NULL, task_id TEXT NOT NULL,
            examiner TEXT NOT NULL, scores JSONB NOT NULL, total DOUBLE PRECISION NOT NULL, max_points DOUBLE PRECISION NOT NULL,
            remark TEXT, updated_at TIMESTAMPTZ NOT NULL, submitted_at TIMESTAMPTZ, seq BIGINT NOT NULL,
            PRIMARY KEY (venue_id, sitting_id, admission_number, task_id, examiner)
        )
        """
    ]

    static func ms(_ field: String) -> String { "to_timestamp((p->>'\(field)')::bigint / 1000.0)" }

    /// The items of this batch of the given kinds, each payload as `p`; `also` joins more (a payload's arrays).
    static func items(_ kinds: String..., also: String = "") -> String {
        """
        FROM sync_item i CROSS JOIN LATERAL (SELECT i.payload AS p) x \(also)
        WHERE i.venue_id = $1 AND i.batch_id = $2 AND i.kind IN (\(kinds.map { "'\($0)'" }.joined(separator: ", ")))
        """
    }

    static let apply: [String] = [
        // Attempts: begun, then submitted (with their answers and scores); the newest item wins.
        """
        INSERT INTO exam_attempt (venue_id, attempt_id, sitting_id, admission_number, room_id, status, created_at, submitted_at,
            submitted_by, score, max_points, pending_points, log_length, extension_seconds, seq)
        SELECT DISTINCT ON (p->>'id') $1, p->>'id', p->>'sittingId', p->>'admissionNumber', p->>'roomId', p->>'status',
            \(ms("createdAt")), \(ms("submittedAt")), p->>'submittedBy', (p->>'score')::float8, (p->>'maxPoints')::float8,
            (p->>'pendingPoints')::float8, (p->>'logLength')::int, (p->>'extensionSeconds')::int, i.seq
        \(items("attempt", "attemptSubmitted")) ORDER BY p->>'id', i.seq DESC
        ON CONFLICT (venue_id, attempt_id) DO UPDATE SET status = EXCLUDED.status, room_id = EXCLUDED.room_id,
            submitted_at = EXCLUDED.submitted_at, submitted_by = EXCLUDED.submitted_by, score = EXCLUDED.score,
            max_points = EXCLUDED.max_points, pending_points = EXCLUDED.pending_points, log_length = EXCLUDED.log_length,
            extension_seconds = EXCLUDED.extension_seconds, seq = EXCLUDED.seq
        WHERE exam_attempt.seq < EXCLUDED.seq
        """,
        """
        INSERT INTO exam_answer (venue_id, attempt_id, question_id, response, flagged, updated_at, log_seq, seq)
        SELECT DISTINCT ON (p->>'id', a->>'questionId') $1, p->>'id', a->>'questionId', a->'response', (a->>'flagged')::int <> 0,
            to_timestamp((a->>'updatedAt')::bigint / 1000.0), (a->>'logSeq')::int, i.seq
        \(items("attemptSubmitted", also: "CROSS JOIN LATERAL jsonb_array_elements(p->'answers') a")) ORDER BY p->>'id', a->>'questionId', i.seq DESC
        ON CONFLICT (venue_id, attempt_id, question_id) DO UPDATE SET response = EXCLUDED.response, flagged = EXCLUDED.flagged,
            updated_at = EXCLUDED.updated_at, log_seq = EXCLUDED.log_seq, seq = EXCLUDED.seq
        WHERE exam_answer.seq < EXCLUDED.seq
        """,
        """
        INSERT INTO question_score (venue_id, attempt_id, question_id, section_id, max_points, score, status, seq)
        SELECT DISTINCT ON (p->>'id', q->>'questionId') $1, p->>'id', q->>'questionId', q->>'sectionId', (q->>'maxPoints')::float8,
            (q->>'score')::float8, q->>'status', i.seq
        \(items("attemptSubmitted", also: "CROSS JOIN LATERAL jsonb_array_elements(p->'questionScores') q")) ORDER BY p->>'id', q->>'questionId', i.seq DESC
        ON CONFLICT (venue_id, attempt_id, question_id) DO UPDATE SET section_id = EXCLUDED.section_id,
            max_points = EXCLUDED.max_points, score = EXCLUDED.score, status = EXCLUDED.status, seq = EXCLUDED.seq
        WHERE question_score.seq < EXCLUDED.seq
        """,
        """
        INSERT INTO section_score (venue_id, attempt_id, section_id, title, position, max_points, score, pending_points, seq)
        SELECT DISTINCT ON (p->>'id', s->>'sectionId') $1, p->>'id', s->>'sectionId', s->>'title', (s->>'position')::int,
            (s->>'maxPoints')::float8, (s->>'score')::float8, (s->>'pendingPoints')::float8, i.seq
        \(items("attemptSubmitted", also: "CROSS JOIN LATERAL jsonb_array_elements(p->'sectionScores') s")) ORDER BY p->>'id', s->>'sectionId', i.seq DESC
        ON CONFLICT (venue_id, attempt_id, section_id) DO UPDATE SET title = EXCLUDED.title, position = EXCLUDED.position,
            max_points = EXCLUDED.max_points, score = EXCLUDED.score, pending_points = EXCLUDED.pending_points, seq = EXCLUDED.seq
        WHERE section_score.seq < EXCLUDED.seq
        """,
        """
        INSERT INTO answer_log (venue_id, attempt_id, seq, change_id, question_id, kind, response, flagged, client_seq, session_id,
            terminal_id, client_time, server_time)
        SELECT $1, p->>'attemptId', (p->>'seq')::int, p->>'changeId', p->>'questionId', p->>'kind', p->'response',
            CASE WHEN p->>'flagged' IS NULL THEN NULL ELSE (p->>'flagged')::int <> 0 END, (p->>'clientSeq')::bigint,
            p->>'sessionId', p->>'terminalId', \(ms("clientTime")), \(ms("serverTime"))
        \(items("answerLog"))
        ON CONFLICT DO NOTHING
        """,
        """
        INSERT INTO attempt_event (venue_id, event_id, attempt_id, kind, client_time, server_time, session_id, terminal_id, detail)
        SELECT $1, p->>'eventId', p->>'attemptId', p->>'kind', \(ms("clientTime")), \(ms("serverTime")), p->>'sessionId',
            p->>'terminalId', p->>'detail'
        \(items("attemptEvent"))
        ON CONFLICT DO NOTHING
        """,
        """
        INSERT INTO skill_sheet (venue_id, sitting_id, admission_number, task_id, examiner, scores, total, max_points, remark,
            updated_at, submitted_at, seq)
        SELECT DISTINCT ON (p->>'sittingId', p->>'admissionNumber', p->>'taskId', p->>'examiner') $1, p->>'sittingId',
            p->>'admissionNumber', p->>'taskId', p->>'examiner', p->'scores', (p->>'total')::float8, (p->>'maxPoints')::float8,
            p->>'remark', \(ms("updatedAt")), \(ms("submittedAt")), i.seq
        \(items("skillSheet")) ORDER BY p->>'sittingId', p->>'admissionNumber', p->>'taskId', p->>'examiner', i.seq DESC
        ON CONFLICT (venue_id, sitting_id, admission_number, task_id, examiner) DO UPDATE SET scores = EXCLUDED.scores,
            total = EXCLUDED.total, max_points = EXCLUDED.max_points, remark = EXCLUDED.remark, updated_at = EXCLUDED.updated_at,
            submitted_at = EXCLUDED.submitted_at, seq = EXCLUDED.seq
        WHERE skill_sheet.seq < EXCLUDED.seq
        """,
        """
        INSERT INTO check_in (venue_id, sitting_id, admission_number, status, method, at, by_user, note, seq)
        SELECT DISTINCT ON (p->>'sittingId', p->>'admissionNumber') $1, p->>'sittingId', p->>'admissionNumber', p->>'status',
            p->>'method', \(ms("at")), p->>'byUser', p->>'note', i.seq
        \(items("checkIn")) ORDER BY p->>'sittingId', p->>'admissionNumber', i.seq DESC
        ON CONFLICT (venue_id, sitting_id, admission_number) DO UPDATE SET status = EXCLUDED.status, method = EXCLUDED.method,
            at = EXCLUDED.at, by_user = EXCLUDED.by_user, note = EXCLUDED.note, seq = EXCLUDED.seq
        WHERE check_in.seq < EXCLUDED.seq
        """,
        """
        INSERT INTO face_verification (venue_id, id, at, purpose, person_kind, person_id, sitting_id, room_id, by_user, similarity,
            threshold, decision, problem, face_count, flags, model)
        SELECT $1, p->>'id', \(ms("at")), p->>'purpose', p->>'personKind', p->>'personId', p->>'sittingId', p->>'roomId',
            p->>'byUser', (p->>'similarity')::float8, (p->>'threshold')::float8, p->>'decision', p->>'problem',
            (p->>'faceCount')::int, p->>'flags', p->>'model'
        \(items("faceVerification"))
        ON CONFLICT DO NOTHING
        """,
        """
        INSERT INTO face_override (venue_id, verification_id, by_user, reason, at)
        SELECT $1, p->>'verificationId', p->>'byUser', p->>'reason', \(ms("at"))
        \(items("faceOverride"))
        ON CONFLICT DO NOTHING
        """,
        """
        INSERT INTO incident (venue_id, id, sitting_id, room_id, admission_number, category, note, occurred_at, recorded_by,
            recorded_at, seq)
        SELECT DISTINCT ON (p->>'id') $1, p->>'id', p->>'sittingId', p->>'roomId', p->>'admissionNumber', p->>'category',
            p->>'note', \(ms("occurredAt")), p->>'recordedBy', \(ms("recordedAt")), i.seq
        \(items("incident")) ORDER BY p->>'id', i.seq DESC
        ON CONFLICT (venue_id, id) DO UPDATE SET room_id = EXCLUDED.room_id, admission_number = EXCLUDED.admission_number,
            category = EXCLUDED.category, note = EXCLUDED.note, occurred_at = EXCLUDED.occurred_at,
            recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at, seq = EXCLUDED.seq
        WHERE incident.seq < EXCLUDED.seq
        """,
        """
        INSERT INTO time_extension (venue_id, id, sitting_id, room_id, attempt_id, seconds, reason, granted_by, granted_at)
        SELECT $1, (p->>'id')::bigint, p->>'sittingId', p->>'roomId', p->>'attemptId', (p->>'seconds')::int, p->>'reason',
            p->>'grantedBy', \(ms("grantedAt"))
        \(items("timeExtension"))
        ON CONFLICT DO NOTHING
        """,
        """
        INSERT INTO room_clock (venue_id, sitting_id, room_id, started_at, started_by, paused_since, paused_seconds,
            extension_seconds, closed_at, closed_by, seq)
        SELECT DISTINCT ON (p->>'sittingId', p->>'roomId') $1, p->>'sittingId', p->>'roomId', \(ms("startedAt")), p->>'startedBy',
            \(ms("pausedSince")), (p->>'pausedSeconds')::int, (p->>'extensionSeconds')::int, \(ms("closedAt")), p->>'closedBy', i.seq
        \(items("roomClock")) ORDER BY p->>'sittingId', p->>'roomId', i.seq DESC
        ON CONFLICT (venue_id, sitting_id, room_id) DO UPDATE SET started_at = EXCLUDED.started_at,
            started_by = EXCLUDED.started_by, paused_since = EXCLUDED.paused_since, paused_seconds = EXCLUDED.paused_seconds,
            extension_seconds = EXCLUDED.extension_seconds, closed_at = EXCLUDED.closed_at, closed_by = EXCLUDED.closed_by,
            seq = EXCLUDED.seq
        WHERE room_clock.seq < EXCLUDED.seq
        """,
        """
        INSERT INTO audit_entry (venue_id, id, at, actor, actor_role, action, sitting_id, room_id, admission_number, attempt_id,
            reason, detail)
        SELECT $1, (p->>'id')::bigint, \(ms("at")), p->>'actor', p->>'actorRole', p->>'action', p->>'sittingId', p->>'roomId',
            p->>'admissionNumber', p->>'attemptId', p->>'reason', p->>'detail'
        \(items("audit"))
        ON CONFLICT DO NOTHING
        """,
        """
        INSERT INTO recording_segment (venue_id, camera_id, session, sequence, room_id, file_name, started_at, ended_at, duration,
            bytes, sha256, codec, width, height, recovered)
        SELECT $1, p->>'cameraId', p->>'session', (p->>'sequence')::int, p->>'roomId', p->>'fileName', \(ms("startedAt")),
            \(ms("endedAt")), (p->>'duration')::float8, (p->>'bytes')::bigint, p->>'sha256', p->>'codec', (p->>'width')::int,
            (p->>'height')::int, (p->>'recovered')::int <> 0
        \(items("segment"))
        ON CONFLICT DO NOTHING
        """,
        """
        INSERT INTO recording_gap (venue_id, id, camera_id, room_id, from_at, to_at, reason)
        SELECT $1, (p->>'id')::bigint, p->>'cameraId', p->>'roomId', \(ms("fromAt")), \(ms("toAt")), p->>'reason'
        \(items("gap"))
        ON CONFLICT DO NOTHING
        """,
        """
        INSERT INTO venue_alert (venue_id, id, kind, subject, room_id, camera_id, sitting_id, detail, raised_at, cleared_at, seq)
        SELECT DISTINCT ON (p->>'id') $1, p->>'id', p->>'kind', p->>'subject', p->>'roomId', p->>'cameraId', p->>'sittingId',
            p->>'detail', \(ms("raisedAt")), \(ms("clearedAt")), i.seq
        \(items("alert")) ORDER BY p->>'id', i.seq DESC
        ON CONFLICT (venue_id, id) DO UPDATE SET cleared_at = EXCLUDED.cleared_at, detail = EXCLUDED.detail, seq = EXCLUDED.seq
        WHERE venue_alert.seq < EXCLUDED.seq
        """,
        """
        INSERT INTO sitting_manifest (venue_id, sitting_id, payload, generated_at, received_at, seq)
        SELECT DISTINCT ON (i.sitting_id) $1, i.sitting_id, p, \(ms("generatedAt")), i.received_at, i.seq
        \(items("manifest")) AND i.sitting_id IS NOT NULL ORDER BY i.sitting_id, i.seq DESC
        ON CONFLICT (venue_id, sitting_id) DO UPDATE SET payload = EXCLUDED.payload, generated_at = EXCLUDED.generated_at,
            received_at = EXCLUDED.received_at, seq = EXCLUDED.seq
        WHERE sitting_manifest.seq < EXCLUDED.seq
        """,
    ]

    /// Migration 4: what each venue says it holds per sitting, and the alerts raised when central lacks some of it.
    static let completeness: [String] = [
        """
        CREATE TABLE sitting_manifest (
            venue_id TEXT NOT NULL, sitting_id TEXT NOT NULL, payload JSONB NOT NULL, generated_at TIMESTAMPTZ NOT NULL,
            received_at TIMESTAMPTZ NOT NULL, seq BIGINT NOT NULL,
            PRIMARY KEY (venue_id, sitting_id)
        )
        """,
        """
        CREATE TABLE completeness_alert (
            id BIGSERIAL PRIMARY KEY,
            venue_id TEXT NOT NULL, sitting_id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('results', 'recordings')),
            detail TEXT NOT NULL, raised_at TIMESTAMPTZ NOT NULL, cleared_at TIMESTAMPTZ,
            emailed_at TIMESTAMPTZ, texted_at TIMESTAMPTZ, notify_error TEXT
        )
        """,
        "CREATE UNIQUE INDEX completeness_alert_open ON completeness_alert (venue_id, sitting_id, kind) WHERE cleared_at IS NULL",
    ]
}
